"""Benchmark: `dbt build` of the marts over an extracted simulated organization, time and peak memory.

    uv run python benchmarks/transform.py --size large --orgs 1 --keep /tmp/large.duckdb

Extracts the organization first (skipped when --keep names a warehouse that already holds it),
then times one full `dbt build` and a second, incremental one. Prints the row counts of the marts.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import duckdb
from atlassian_posture.connector.runner import extract
from atlassian_posture.transform import build
from atlassian_simulator.core import Simulator

MARTS = ["posture_findings", "check_status", "identity_risks", "identity_signals", "plugin_risks",
         "plugin_signals", "effective_permissions", "audit_events", "security_detections", "posture_score_daily"]


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--orgs", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="Warehouse file to keep (and reuse if present).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = args.keep or Path(tmp) / "w.duckdb"
        if not warehouse.exists():
            sim = Simulator.generate(size=args.size, seed=args.seed, orgs=args.orgs)
            with sim.serve() as base:
                orgs, credentials = sim.connector_config(base, attestation_dir=warehouse.parent / "attestation")
                started = time.perf_counter()
                result = extract(orgs, credentials, warehouse, pipelines_dir=warehouse.parent / ".dlt-bench")
            print(f"size={args.size} orgs={args.orgs}: extract {time.perf_counter() - started:.1f} s, "
                  f"{sum(result.rows_by_table.values()):,} rows (peak RSS so far {_peak_mib():.0f} MiB)", flush=True)
        before = _peak_mib()
        started = time.perf_counter()
        first = build(warehouse)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        build(warehouse)
        second_s = time.perf_counter() - started
        print(f"dbt build: first {first_s:.1f} s ({first.models} models and seeds, {first.tests} tests), "
              f"second {second_s:.1f} s; peak RSS {_peak_mib():.0f} MiB (before dbt {before:.0f} MiB)")
        with duckdb.connect(str(warehouse), read_only=True) as con:
            for mart in MARTS:
                rows = con.execute(f"select count(*) from marts.{mart}").fetchone()[0]
                print(f"  marts.{mart:<24} {rows:>10,}")
            print(f"  warehouse file {warehouse.stat().st_size / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
