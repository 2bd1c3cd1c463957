"""Benchmark: a full extract of a simulated organization into DuckDB, time and peak memory.

    uv run python benchmarks/extract.py --size medium

Prints rows per table, requests, wall time and the process's peak RSS (the simulator runs
in the same process, in a thread: its own memory is included, see benchmarks/simulator_startup.py).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from atlassian_posture.connector.runner import extract
from atlassian_simulator.core import Simulator


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sim = Simulator.generate(size=args.size, seed=args.seed)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with sim.serve() as base, tempfile.TemporaryDirectory() as tmp:
        orgs, credentials = sim.connector_config(base)
        started = time.perf_counter()
        result = extract(orgs, credentials, Path(tmp) / "w.duckdb", pipelines_dir=Path(tmp) / "p")
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = extract(orgs, credentials, Path(tmp) / "w.duckdb", pipelines_dir=Path(tmp) / "p")
        second = time.perf_counter() - started
    requests = sum(c["requests"] for c in result.coverage)
    print(f"size={args.size}: first extract {first:.1f} s, {sum(result.rows_by_table.values()):,} rows, "
          f"{requests:,} requests; second extract {second:.1f} s, {sum(again.rows_by_table.values()):,} rows")
    for table, rows in sorted(result.rows_by_table.items()):
        print(f"  {table:<45} {rows:>9,}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB (simulator alone {before:.0f} MiB)")


if __name__ == "__main__":
    main()
