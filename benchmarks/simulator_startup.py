"""Benchmark: how long a simulated organization takes to start, and how much memory it holds.

    uv run python benchmarks/simulator_startup.py --size large

Prints generation time, peak resident memory, and the time of a first page from the
biggest listings (users, audit) through the in-process app. Run in a fresh process: the
peak RSS is the process's own.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time

from atlassian_simulator.core import Simulator


async def first_pages(sim: Simulator) -> dict[str, float]:
    urls = sim.urls()
    timings = {}
    async with sim.client() as client:
        for name, url, auth in (
            ("jira users page", f"{urls['sites'][0]}/rest/api/3/users/search?maxResults=1000", sim.auth()),
            ("jira audit page", f"{urls['sites'][0]}/rest/api/3/auditing/record?limit=1000", sim.auth()),
            ("org events-stream page", None, sim.auth("org-admin-key")),
        ):
            if url is None:
                url = f"{urls['gateway']}/admin/v1/orgs/{sim.orgs[0].org_id}/events-stream?limit=500"
            started = time.perf_counter()
            response = await client.get(url, auth=auth)
            timings[f"{name} ({response.status_code})"] = time.perf_counter() - started
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    sim = Simulator.generate(size=args.size, seed=args.seed)
    generated = time.perf_counter() - started
    summary = sim.summary()["orgs"][0]
    print(f"size={args.size} seed={args.seed}: {summary['accounts']:,} accounts, {summary['groups']:,} groups, "
          f"{sum(s['projects'] for s in summary['sites']):,} projects, {summary['audit_events']:,} audit events")
    print(f"generation: {generated:.2f} s")
    for name, seconds in asyncio.run(first_pages(sim)).items():
        print(f"first {name}: {seconds * 1000:.0f} ms")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
