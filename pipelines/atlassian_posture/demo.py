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
DAYS = 3  # simulated days, one run each: a trend needs more than one point; each costs an extract and a dbt build


def _clip(text: object, width: int) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _signals(titles: object, count: object, shown: int = 3) -> str:
    """The worst `shown` signals, each as id and title (never an id alone, never cut mid-word)."""
    if not isinstance(titles, str) or not titles:
        return ""
    parts = titles.split("; ")
    more = len(parts) - shown
    return "; ".join(parts[:shown]) + (f"; and {more} more" if more > 0 else "")


def _fresh_warehouse() -> None:
    """A fresh warehouse each time: its dlt state goes with it, or incremental loads would skip data."""
    for leftover in DEMO_WAREHOUSE.parent.glob(f"{DEMO_WAREHOUSE.name}*"):
        leftover.unlink()
    shutil.rmtree(Warehouse(DEMO_WAREHOUSE).state_dir, ignore_errors=True)


def run_demo(size: str, seed: int, echo: Callable[[str], None], days: int = DAYS) -> int:
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
        _fresh_warehouse()
        orgs_config, credentials = sim.connector_config(base, attestation_dir=DEMO_WAREHOUSE.parent / "attestation")
        # A scheduled run a day, for `days` simulated days (the simulator's clock travels between runs:
        # accounts come and go, grants change, new audit events): the score has a trend and findings a
        # first and last seen date. Only the last day's run is told in full.
        for day in range(1, days + 1):
            last = day == days
            if day > 1:
                sim.advance(1)
            when = sim.summary()["orgs"][0]["clock"][:10]
            step(f"Day {day} of {days} ({when}). Extracting every resource over HTTP into {DEMO_WAREHOUSE} ..."
                 if last or day == 1 else f"Day {day} of {days} ({when}). The daily run ...")

            def extracted(result, told: bool = last or day == 1) -> None:
                if not told:
                    return
                step(f"  {sum(result.rows_by_table.values()):,} rows in {len(result.rows_by_table)} tables; "
                     f"{sum(c['requests'] for c in result.coverage):,} requests, none of them a write "
                     f"({len(sim.request_log.writes())} writes logged)")
                for problem in result.problems:
                    step(f"  not collected: {problem['resource']} [{problem['tenant']}] {problem['status']}: "
                         f"{_clip(problem['reason'], 110)}")
                step("Building the marts (dbt build of the dbt project) ...")

            # the earlier days only feed the history (score, first seen): their dbt tests are skipped, the last
            # day's build runs them all
            outcome = run(orgs_config, credentials, DEMO_WAREHOUSE, on_extracted=extracted,
                          on_transform_progress=(lambda line: step(f"  {line}")) if last else None, dbt_tests=last)
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
        history = queries.score_history(DEMO_WAREHOUSE, org.org_key)
        trend = " → ".join(f"{score:.0f}" for score in history["posture_score"])
        echo(f"== {org.org_key}: posture score {org.posture_score:.0f}/100"
             + (f" (over {len(history)} days: {trend})" if len(history) > 1 else "")
             + f" — {org.checks_failing} of {org.checks_evaluated} evaluated checks fail ({org.failing_critical} "
             f"critical, {org.failing_high} high), {org.checks_manual} await an attestation (manual), "
             f"{org.checks_not_evaluable} not_evaluable, {org.checks_not_computable} not_computable")
        echo("Worst failing checks, with the fix:")
        for row in queries.failing_checks(DEMO_WAREHOUSE, org.org_key, limit=5).itertuples():
            echo(f"  {row.severity:<8} {row.check_id:<12} {_clip(row.title, 52):<52} {row.failing_resources:>4} failing"
                 f" since {row.first_seen_at:%Y-%m-%d}")
            echo(f"  {'':<21} fix: {_clip(row.remediation, 100)}")
        echo("Riskiest accounts: the signals that fired on each, worst first")
        for row in queries.riskiest_accounts(DEMO_WAREHOUSE, org.org_key, limit=5).itertuples():
            label = "  [this integration's account]" if row.is_integration_account else ""
            echo(f"  {row.risk_level:<8} {row.risk_score:>4.0f}  {_clip(row.display_name, 24):<24} "
                 f"{row.email or row.account_type}{label}")
            echo(f"  {'':<15} {_signals(row.signal_titles, row.signal_count)}")
        for row in queries.integration_accounts(DEMO_WAREHOUSE, org.org_key).itertuples():
            if not row.is_ranked:
                echo(f"  (not ranked: {row.display_name} <{row.email}> is the account this product reads as; "
                     f"its admin rights and API token are its job, and nothing else fired on it)")
        echo("Riskiest third-party apps:")
        for row in queries.riskiest_apps(DEMO_WAREHOUSE, org.org_key, limit=5).itertuples():
            echo(f"  {row.risk_level:<8} {row.risk_score:>4.0f}  {_clip(row.app_name, 24):<24} "
                 f"{row.site_ref} {row.product}")
            echo(f"  {'':<15} {_signals(row.signal_titles, row.signal_count)}")
        detections = queries.detection_counts(DEMO_WAREHOUSE, org.org_key)
        if len(detections):
            echo(f"Audit detections: {int(detections['events'].sum())} events matched "
                 f"{len(detections)} detections (worst: {detections.iloc[0]['detection_id']} "
                 f"{detections.iloc[0]['title']})")


if __name__ == "__main__":
    run_demo("tiny", 7, print)
