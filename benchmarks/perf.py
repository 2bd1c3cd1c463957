"""Benchmark: the extract's request budget and wall time against a simulated organization (issue 12).

    uv run python benchmarks/perf.py --size medium --latency-ms 150 --rate-limits atlassian

Starts the simulator in another process (`atlassian-posture simulate`, so the extractor's peak RSS is
its own), runs a full extract into a fresh warehouse, advances the simulated clock one day
(`/_sim/advance`) and runs the product's normal second extract, then `transform.build` (the scheduled
build's settings) on the warehouse. Prints, from the simulator's request log:

- requests in all and per endpoint family, and the 429 share;
- per rate-limited bucket (`--rate-limits atlassian`: the documented limits, simulator settings.py),
  requests, the achieved rate against the limit, and the floor (requests / limit: no client can be
  faster); the largest floor is the binding limit;
- the wall of the full extract, the daily run's requests and wall against it, the extractor's peak
  RSS, and the transform's time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter, defaultdict
from fnmatch import fnmatchcase
from pathlib import Path

import httpx
from atlassian_posture.connector.runner import extract
from atlassian_posture.transform import build
from atlassian_posture.warehouse import Warehouse
from atlassian_simulator.server.faults import Limit
from atlassian_simulator.settings import DOCUMENTED_RATE_LIMITS

_ID = re.compile(r"\d|^[0-9a-f-]{20,}$|%|\.")  # ids, keys with dots (app keys)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _free_port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def simulator(args, tmp: Path):
    """`atlassian-posture simulate` in a subprocess; yields (base URL, secrets file, request-log file)."""
    port = _free_port(args.port)
    secrets, log = tmp / "secrets.toml", tmp / "requests.jsonl"
    command = [sys.executable, "-m", "atlassian_posture", "simulate", "--size", args.size, "--seed", str(args.seed),
               "--port", str(port), "--secrets-out", str(secrets), "--request-log", str(log),
               "--latency-ms", str(args.latency_ms), "--rate-limits", args.rate_limits]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the simulator exited ({process.returncode}): {process.stderr.read()[-500:]}")
            if time.monotonic() > deadline:
                raise SystemExit("the simulator did not start within 15 minutes")
            with contextlib.suppress(httpx.HTTPError):
                summary = httpx.get(f"{base}/_sim/summary", timeout=5)
                # ours, not another benchmark's simulator that took the port while ours was generating
                if secrets.exists() and summary.status_code == 200 and \
                        {org["size"].split("+")[0] for org in summary.json()["orgs"]} == {args.size}:
                    break
            time.sleep(0.5)
        yield base, secrets, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _config(secrets: Path) -> tuple[dict, dict]:
    atlassian = tomllib.loads(secrets.read_text())["sources"]["atlassian"]
    return atlassian["orgs"], atlassian["credentials"]


def _entries(log: Path, offset: int) -> tuple[list[dict], int]:
    with log.open("rb") as f:
        f.seek(offset)
        data = f.read()
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()], offset + len(data)


def _family(path: str) -> str:
    """`jira GET-able /rest/api/3/group/member`: the product and the path template (ids wildcarded)."""
    parts = path.split("/")
    if parts[1:2] == ["site"]:
        rest = "/" + "/".join(parts[3:])
        product = "confluence" if rest.startswith("/wiki") else "jira"
    elif parts[1:2] == ["dc"]:
        product, rest = f"dc {parts[2]}", "/" + "/".join(parts[3:])
    elif parts[1:3] == ["gateway", "ex"]:
        product, rest = f"scoped {parts[3]}", "/" + "/".join(parts[5:])
    elif parts[1:2] == ["gateway"]:
        product, rest = "admin", "/" + "/".join(parts[2:])
    else:
        product, rest = parts[1], "/" + "/".join(parts[2:])
    return f"{product} " + "/".join("*" if _ID.search(p) else p for p in rest.split("/"))


def _host(path: str) -> str:
    parts = path.split("/")
    return "/".join(parts[:3]) if parts[1:2] in (["site"], ["dc"]) else "/".join(parts[:2])


def _limited(entries: list[dict], limits: dict) -> list[dict]:
    """Per rate-limit bucket that saw requests: requests, span, achieved rate vs allowed, floor."""
    buckets: dict[tuple, list[dict]] = defaultdict(list)
    for e in entries:
        for pattern, value in limits.items():
            if fnmatchcase(e["path"], pattern):  # the first pattern a request matches: the report counts it once
                limit = Limit(*value)
                who = _family(e["path"]) if limit.per == "endpoint" else f"{_host(e['path'])} {e['credential']}"
                buckets[(pattern, who, limit)].append(e)
                break
    rows = []
    for (pattern, who, limit), hits in buckets.items():
        allowed = limit.requests / limit.per_seconds
        timed = [e for e in hits if "started" in e]
        span = (max(e["started"] + e["seconds"] for e in timed) - min(e["started"] for e in timed)) if timed else 0
        achieved = len(hits) / span if span > 0 else 0.0
        burst = limit.burst or limit.requests
        # the most a token bucket lets through in `span`: a full bucket, then the refill
        most = burst + allowed * span
        rows.append({"bucket": f"{pattern} [{who}]", "requests": len(hits), "limit": allowed,
                     "per": limit.per_seconds, "burst": burst, "achieved": achieved, "used": len(hits) / most,
                     "floor_s": len(hits) / allowed,
                     "throttled": sum(e["status"] == 429 for e in hits)})
    return sorted(rows, key=lambda r: -r["floor_s"])


def _run(label: str, orgs: dict, credentials: dict, warehouse: Path, log: Path, offset: int):
    started = time.perf_counter()
    result = extract(orgs, credentials, warehouse, pipelines_dir=warehouse.parent / "pipelines")
    wall = time.perf_counter() - started
    entries, offset = _entries(log, offset)
    failed = [c for c in result.coverage if c["status"] == "failed"]
    trace = Warehouse.of(warehouse).pipeline(warehouse.parent / "pipelines").last_trace  # dlt's steps
    steps = ", ".join(f"{s.step} {(s.finished_at - s.started_at).total_seconds():.1f} s" for s in trace.steps
                      if s.finished_at) if trace else ""
    print(f"{label}: {wall:,.1f} s{f' ({steps})' if steps else ''}, {len(entries):,} requests, "
          f"{sum(result.rows_by_table.values()):,} rows"
          + (f", the load ran out of its first memory limit and loaded at {result.load_memory}"
             if result.load_memory else "")
          + (f", {len(failed)} resources failed (first {failed[0]['resource']}: {failed[0]['reason'][:120]})"
             if failed else ""), flush=True)
    return wall, entries, offset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--rate-limits", choices=["off", "atlassian"], default="atlassian")
    parser.add_argument("--port", type=int, default=8610, help="preferred simulator port (a free one otherwise)")
    parser.add_argument("--no-daily", action="store_true", help="skip the second, daily extract")
    parser.add_argument("--no-transform", action="store_true", help="skip the dbt build")
    args = parser.parse_args()
    limits = DOCUMENTED_RATE_LIMITS  # reported against even when the simulator does not enforce them
    with tempfile.TemporaryDirectory() as tmp, simulator(args, Path(tmp)) as (base, secrets, log):
        orgs, credentials = _config(secrets)
        warehouse = Path(tmp) / "warehouse.duckdb"
        offset = log.stat().st_size if log.exists() else 0
        print(f"size={args.size} seed={args.seed} latency={args.latency_ms:g} ms rate-limits={args.rate_limits}",
              flush=True)
        wall, entries, offset = _run("full extract", orgs, credentials, warehouse, log, offset)
        extract_rss = _peak_mib()
        daily = None
        if not args.no_daily:
            httpx.post(f"{base}/_sim/advance", params={"days": 1}, timeout=300).raise_for_status()
            daily_wall, daily_entries, offset = _run("daily extract", orgs, credentials, warehouse, log, offset)
            daily = (daily_wall, len(daily_entries))
        transform_s = None
        if not args.no_transform:
            started = time.perf_counter()
            build(warehouse)
            transform_s = time.perf_counter() - started
    _report(args, entries, limits, wall, daily, extract_rss, transform_s)


def _report(args, entries: list[dict], limits: dict, wall: float, daily, extract_rss: float, transform_s) -> None:
    total = len(entries)
    throttled = sum(e["status"] == 429 for e in entries)
    print(f"\n## {args.size} (seed {args.seed}), latency {args.latency_ms:g} ms, rate limits {args.rate_limits}\n")
    print("| measure | value |\n| --- | --- |")
    print(f"| requests (full extract) | {total:,} |")
    print(f"| answered 429 | {throttled:,} ({throttled / max(total, 1):.1%}) |")
    limited = _limited(entries, limits)
    if limited:
        top = limited[0]  # the largest floor: the limit that binds
        print(f"| floor (binding limit: {top['bucket']}) | {top['floor_s']:,.1f} s |")
        print(f"| binding limit used (requests / what its bucket allows over their span) | {top['used']:.0%} |")
    print(f"| wall, full extract | {wall:,.1f} s |")
    if daily:
        print(f"| daily run: requests, wall | {daily[1]:,} ({daily[1] / max(total, 1):.1%}), "
              f"{daily[0]:,.1f} s ({daily[0] / wall:.1%}) |")
    print(f"| extractor peak RSS (simulator in its own process) | {extract_rss:,.0f} MiB |")
    if transform_s is not None:
        print(f"| transform (dbt build, scheduled settings) | {transform_s:,.1f} s |")
    print("\n| rate-limited bucket | requests | 429 | achieved / limit (per period) | used | floor |")
    print("| --- | ---: | ---: | --- | ---: | ---: |")
    for row in limited[:15]:
        per = row["per"]
        print(f"| {row['bucket']} | {row['requests']:,} | {row['throttled']:,} | "
              f"{row['achieved'] * per:,.1f} / {row['limit'] * per:,.0f} per {per:g} s | "
              f"{row['used']:.0%}{' (a burst)' if row['requests'] <= row['burst'] else ''} | "
              f"{row['floor_s']:,.1f} s |")
    families = Counter(_family(e["path"]) for e in entries)
    seconds = defaultdict(float)
    for e in entries:
        seconds[_family(e["path"])] += e.get("seconds", 0.0)
    print("\n| endpoint family | requests | 429 | server time |\n| --- | ---: | ---: | ---: |")
    throttled_by = Counter(_family(e["path"]) for e in entries if e["status"] == 429)
    shown = families.most_common(25)
    for name, count in shown:
        print(f"| {name} | {count:,} | {throttled_by[name]:,} | {seconds[name]:,.1f} s |")
    rest = [name for name in families if name not in dict(shown)]
    if rest:
        print(f"| {len(rest)} other families | {sum(families[n] for n in rest):,} | "
              f"{sum(throttled_by[n] for n in rest):,} | {sum(seconds[n] for n in rest):,.1f} s |")


if __name__ == "__main__":
    main()
