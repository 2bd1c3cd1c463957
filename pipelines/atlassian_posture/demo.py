"""The end-to-end demo behind `atlassian-posture demo` (the README's first command).

It starts a simulated organization on 127.0.0.1, extracts it over HTTP with the real connector
(the real paths, credentials and pagination) into a local DuckDB file, builds the marts, publishes
the read copy, writes the HTML report, and prints what a security lead asks first: the posture
score, the worst failing checks with their fix, the riskiest accounts and apps. Then it says
what to open next.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from atlassian_posture.consume import queries
from atlassian_posture.consume.report import write_report
from atlassian_posture.run import run
from atlassian_posture.warehouse import DEMO_WAREHOUSE, Warehouse

REPORT = DEMO_WAREHOUSE.parent / "demo-report.html"


def _clip(text: object, width: int) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _fresh_warehouse() -> None:
    """A fresh warehouse each time: its dlt state goes with it, or incremental loads would skip data."""
    for leftover in DEMO_WAREHOUSE.parent.glob(f"{DEMO_WAREHOUSE.name}*"):
        leftover.unlink()
    shutil.rmtree(Warehouse(DEMO_WAREHOUSE).state_dir, ignore_errors=True)


def run_demo(size: str, seed: int, echo: Callable[[str], None]) -> int:
    started = time.monotonic()

    def step(text: str) -> None:
        echo(f"[{time.monotonic() - started:5.0f} s] {text}")

    try:
        from atlassian_simulator.core import Simulator
    except ImportError as exc:  # the simulator's web stack is an extra
        echo(f"error: the demo needs the simulated organization ({exc.name} is missing): "
             "pip install 'atlassian-posture[simulator]'")
        return 2
    step(f"Generating a {size} simulated Atlassian organization (seed {seed}) ...")
    sim = Simulator.generate(size=size, seed=seed)
    summary = sim.summary()["orgs"][0]
    with sim.serve() as base:
        step(f"Serving it on {base}: {summary['accounts']:,} accounts, {len(summary['sites'])} Cloud site(s), "
             f"Data Center, {summary['audit_events']:,} audit events")
        step(f"Extracting every resource over HTTP into {DEMO_WAREHOUSE} ...")
        _fresh_warehouse()
        orgs_config, credentials = sim.connector_config(base, attestation_dir=DEMO_WAREHOUSE.parent / "attestation")

        def extracted(result) -> None:
            step(f"  {sum(result.rows_by_table.values()):,} rows in {len(result.rows_by_table)} tables; "
                 f"{sum(c['requests'] for c in result.coverage):,} requests, none of them a write "
                 f"({len(sim.request_log.writes())} writes logged)")
            for problem in result.problems:
                step(f"  not collected: {problem['resource']} [{problem['tenant']}] {problem['status']}: "
                     f"{_clip(problem['reason'], 110)}")
            step("Building the marts (dbt build of the dbt project) ...")

        outcome = run(orgs_config, credentials, DEMO_WAREHOUSE, on_extracted=extracted,
                      on_transform_progress=lambda line: step(f"  {line}"))
    step(f"  {outcome.transformed.models} models and seeds built, {outcome.transformed.tests} data and unit tests passed")
    report = write_report(REPORT, DEMO_WAREHOUSE)
    step(f"Published the read copy {outcome.published} and wrote the report {report.path}")
    _print_summary(echo)
    echo("")
    echo(f"Done in {time.monotonic() - started:.0f} s. Open next:")
    prefix = "uv run " if Path("pyproject.toml").exists() else ""  # a checkout, or an installed package
    notebooks = [("a notebook (also identity_risks, app_review, audit_activity)",
                  f"{prefix}marimo edit notebooks/posture_overview.py")] if Path("notebooks").is_dir() else []
    for what, how in (
            ("the dashboard (http://127.0.0.1:2718)", f"{prefix}atlassian-posture dashboard"),
            ("the HTML report, in any browser", str(REPORT)),
            *notebooks,
            ("SQL, e.g. select * from marts.posture_findings where status = 'fail'",
             f"duckdb -readonly {outcome.published}")):
        echo(f"  {how:<52} # {what}")
    return 0


def _print_summary(echo: Callable[[str], None]) -> None:
    for org in queries.organizations(DEMO_WAREHOUSE).itertuples():
        echo("")
        echo(f"== {org.org_key}: posture score {org.posture_score:.0f}/100 — {org.checks_failing:.0f} of "
             f"{org.checks_evaluated:.0f} evaluated checks fail ({org.failing_critical:.0f} critical, "
             f"{org.failing_high:.0f} high), {org.checks_manual:.0f} await an attestation, "
             f"{org.checks_not_evaluable:.0f} not evaluable")
        echo("Worst failing checks, with the fix:")
        for row in queries.failing_checks(DEMO_WAREHOUSE, org.org_key, limit=5).itertuples():
            echo(f"  {row.severity:<8} {row.check_id:<12} {_clip(row.title, 52):<52} {row.failing_resources:>4} failing")
            echo(f"  {'':<21} fix: {_clip(row.remediation, 100)}")
        echo("Riskiest accounts:")
        for row in queries.riskiest_accounts(DEMO_WAREHOUSE, org.org_key, limit=5).itertuples():
            echo(f"  {row.risk_level:<8} {row.risk_score:>4.0f}  {_clip(row.display_name, 24):<24} "
                 f"{_clip(row.email or row.account_type, 34):<34} {_clip(row.signals, 60)}")
        echo("Riskiest third-party apps:")
        for row in queries.riskiest_apps(DEMO_WAREHOUSE, org.org_key, limit=5).itertuples():
            echo(f"  {row.risk_level:<8} {row.risk_score:>4.0f}  {_clip(row.app_name, 24):<24} "
                 f"{_clip(f'{row.site_ref} {row.product}', 24):<24} {_clip(row.signals, 66)}")
        detections = queries.detection_counts(DEMO_WAREHOUSE, org.org_key)
        if len(detections):
            echo(f"Audit detections: {int(detections['events'].sum())} events matched "
                 f"{len(detections)} detections (worst: {detections.iloc[0]['detection_id']} "
                 f"{detections.iloc[0]['title']})")


if __name__ == "__main__":
    run_demo("tiny", 7, print)
