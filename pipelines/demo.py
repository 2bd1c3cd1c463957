"""The end-to-end demo behind `atlassian-posture demo`.

Today it starts a simulated organization on 127.0.0.1, reads it over HTTP the way the
connector will (the real paths, credentials and pagination), and prints what the
organization holds and which risks are planted in it. The extraction and the marts
(issues 3 and 4) extend this same command.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

import httpx

from pipelines.simulator.core import Simulator


async def _walk_bare_array(client: httpx.AsyncClient, url: str, auth) -> list:
    """Jira's bare-array paging: advance by what came back, stop on an empty page."""
    rows, start = [], 0
    while True:
        page = (await client.get(url, params={"startAt": start, "maxResults": 1000}, auth=auth)).raise_for_status().json()
        if not page:
            return rows
        rows += page
        start += len(page)


async def run_demo(size: str, seed: int, echo: Callable[[str], None]) -> int:
    started = time.monotonic()
    echo(f"Generating a {size} simulated Atlassian organization (seed {seed})...")
    sim = Simulator.generate(size=size, seed=seed)
    org = sim.orgs[0]
    with sim.serve() as base:
        urls = sim.urls(base)
        echo(f"Serving it on {base} (site {urls['sites'][0]}, admin API {urls['gateway']})")
        async with httpx.AsyncClient(timeout=30) as client:
            users = await _walk_bare_array(client, f"{urls['sites'][0]}/rest/api/3/users/search", sim.auth())
            info = (await client.get(f"{urls['sites'][0]}/rest/api/3/serverInfo", auth=sim.auth())).json()
            orgs = (await client.get(f"{urls['gateway']}/admin/v1/orgs", auth=sim.auth("org-admin-key"))).json()
        by_type = Counter(u.get("accountType") for u in users)
        echo("")
        echo(f"Organization: {orgs['data'][0]['attributes']['name']} ({org.config['profile']} profile)")
        echo(f"  Jira users over HTTP: {len(users)} ({', '.join(f'{n} {t}' for t, n in sorted(by_type.items()))})")
        echo(f"  Server: {info.get('deploymentType')} {info.get('version', '')}, clock {info.get('serverTime')}")
    summary = sim.summary()["orgs"][0]
    for s in summary["sites"]:
        echo(f"  Site {s['name']}: {s['projects']} projects, {s['schemes']} permission schemes, {s['spaces']} spaces, "
             f"{s['jira_apps'] + s['confluence_apps']} installed apps")
    echo(f"  {summary['accounts']} accounts ({summary['managed_accounts']} managed), {summary['groups']} groups, "
         f"{summary['api_tokens']} API tokens, {summary['audit_events']:,} audit events")
    echo(f"  Planted risks for {summary['planted_checks']} checks; `atlassian-posture simulate-truth` writes the truth.")
    echo(f"Done in {time.monotonic() - started:.1f} s. Next: `atlassian-posture simulate --size {size}` to serve it.")
    return 0


if __name__ == "__main__":
    asyncio.run(run_demo("tiny", 7, print))
