"""The end-to-end demo behind `atlassian-posture demo`.

It starts a simulated organization on 127.0.0.1, extracts it over HTTP with the real
connector (the real paths, credentials and pagination) into a local DuckDB file, and
prints what landed and what the organization holds. The marts (issue 4) extend this
same command.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from collections import Counter
from collections.abc import Callable

import duckdb
import httpx

from pipelines.atlassian.runner import extract
from pipelines.transform import build
from pipelines.simulator.core import Simulator

DEMO_WAREHOUSE = Path("warehouse/demo.duckdb")


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
        echo("")
        echo(f"Extracting every resource into {DEMO_WAREHOUSE} ...")
        # a fresh warehouse each time: its dlt state goes with it, or incremental loads would skip data
        for leftover in DEMO_WAREHOUSE.parent.glob(f"{DEMO_WAREHOUSE.name}*"):
            leftover.unlink()
        shutil.rmtree(DEMO_WAREHOUSE.parent / ".dlt-demo", ignore_errors=True)
        orgs_config, credentials = sim.connector_config(base, attestation_dir=DEMO_WAREHOUSE.parent / "attestation")
        result = extract(orgs_config, credentials, DEMO_WAREHOUSE, pipelines_dir=DEMO_WAREHOUSE.parent / ".dlt-demo")
        echo(f"  {sum(result.rows_by_table.values()):,} rows in {len(result.rows_by_table)} tables "
             f"in {result.duration_s:.1f} s; {sum(c['requests'] for c in result.coverage):,} requests, "
             f"none of them a write ({len(sim.request_log.writes())} writes logged)")
        for problem in result.problems:
            echo(f"  not collected: {problem['resource']} [{problem['tenant']}] {problem['status']}: {problem['reason']}")
    echo("Building the marts (dbt build of dbt_project/) ...")
    transformed = build(DEMO_WAREHOUSE)
    with duckdb.connect(str(DEMO_WAREHOUSE), read_only=True) as con:
        score, failing, manual = con.execute(
            "select posture_score, checks_failing, checks_manual from marts.posture_score_daily "
            "order by score_date desc limit 1").fetchone()
        risky = con.execute("select count(*) from marts.identity_risks where risk_level in ('critical', 'high')").fetchone()[0]
    echo(f"  {transformed.models} models and seeds, {transformed.tests} tests; posture score {score:.0f}/100, "
         f"{failing} posture checks failing, {manual} waiting for an attestation, {risky} high-risk accounts")
    summary = sim.summary()["orgs"][0]
    for s in summary["sites"]:
        echo(f"  Site {s['name']}: {s['projects']} projects, {s['schemes']} permission schemes, {s['spaces']} spaces, "
             f"{s['jira_apps'] + s['confluence_apps']} installed apps")
    echo(f"  {summary['accounts']} accounts ({summary['managed_accounts']} managed), {summary['groups']} groups, "
         f"{summary['api_tokens']} API tokens, {summary['audit_events']:,} audit events")
    echo(f"  Planted risks for {summary['planted_checks']} checks; `atlassian-posture simulate-truth` writes the truth.")
    echo(f"Done in {time.monotonic() - started:.1f} s. Next: open {DEMO_WAREHOUSE} with DuckDB "
         f"(`select * from marts.posture_findings where status = 'fail'`), or `atlassian-posture simulate --size {size}` to serve the organization.")
    return 0


if __name__ == "__main__":
    asyncio.run(run_demo("tiny", 7, print))
