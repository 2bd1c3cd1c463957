"""The `atlassian-posture` command line. Thin: each command parses options and calls a library function."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

SIZES = ["tiny", "small", "medium", "large"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="atlassian-posture")
def main() -> None:
    """A SQL warehouse of your Atlassian organization's security posture.

    Extracts users, groups, roles, permission schemes, audit logs and installed apps from
    Atlassian Cloud and Data Center into DuckDB, and serves a simulated Atlassian
    organization to run everything against without a real tenant.
    """


def _size_options(f):
    f = click.option("--size", type=click.Choice(SIZES), default="small", show_default=True,
                     help="Named organization size (tiny ~70 accounts, small ~200, medium ~5,000, large ~100,000).")(f)
    f = click.option("--seed", type=int, default=7, show_default=True,
                     help="Seed: the same seed and size give byte-identical responses.")(f)
    f = click.option("--orgs", type=click.IntRange(1, 10), default=1, show_default=True,
                     help="How many organizations to serve at once (profiles cycle: exposed, hardened, unguarded).")(f)
    f = click.option("--accounts", type=int, default=None, help="Custom size: number of accounts.")(f)
    f = click.option("--projects", type=int, default=None, help="Custom size: projects per site.")(f)
    f = click.option("--sites", type=int, default=None, help="Custom size: Cloud sites per organization.")(f)
    return f


def _generate(size, seed, orgs, accounts, projects, sites, topologies=None):
    from atlassian_simulator.core import Simulator

    return Simulator.generate(size=size, seed=seed, orgs=orgs, accounts=accounts, projects=projects, sites=sites,
                              topologies=topologies)


@main.command()
@_size_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (loopback only).")
@click.option("--port", type=int, default=8080, show_default=True, help="TCP port.")
@click.option("--secrets-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the simulated credentials and base URLs to this TOML file (keep it out of git).")
@click.option("--request-log", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write every request (method, path, status, credential label) to this JSON-lines file.")
@click.option("--latency-ms", type=float, default=0.0, help="Fault injection: latency added to every request.")
@click.option("--error-rate", type=float, default=0.0, help="Fault injection: share of requests answered 5xx.")
@click.option("--rate-limits", type=click.Choice(["off", "atlassian"]), default="off", show_default=True,
              help="'atlassian' applies the documented limits (org events 10/min, last-active 200/min, ...).")
@click.option("--topology", "topologies", multiple=True, metavar="PRESET[+MOD...]",
              help="One organization per use, mixed in one simulator (then --orgs is their number): full, cloud, "
                   "site-only, scoped-only, org-only, jira-only, confluence-only, split-products, dc-only, dc-jira, "
                   "dc-confluence; modifiers +free/+standard/+premium/+enterprise, +guard/+noguard "
                   "(pipelines/atlassian_simulator/README.md, Topologies).")
def simulate(size, seed, orgs, accounts, projects, sites, host, port, secrets_out, request_log, latency_ms,
             error_rate, rate_limits, topologies):
    """Serve a simulated Atlassian organization on 127.0.0.1 until interrupted.

    Base URLs: /site/<name> stands for https://<name>.atlassian.net, /gateway for
    https://api.atlassian.com, /dc/<instance> for a Data Center host. The control API
    (/_sim/advance, /_sim/truth, /_sim/summary) drives time travel and reads the ground truth.
    """
    import uvicorn
    from atlassian_simulator.settings import DOCUMENTED_RATE_LIMITS

    if host not in ("127.0.0.1", "localhost", "::1"):
        raise click.UsageError("the simulator only listens on loopback (127.0.0.1, localhost or ::1)")
    started = time.monotonic()
    try:
        sim = _generate(size, seed, orgs, accounts, projects, sites, list(topologies) or None)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--topology") from exc
    if request_log:
        sim.request_log.open_file(request_log)
    sim.faults.latency_ms = latency_ms
    sim.faults.error_rate = error_rate
    if rate_limits == "atlassian":
        sim.faults.rate_limits = dict(DOCUMENTED_RATE_LIMITS)
    base = f"http://{host}:{port}"
    if secrets_out:
        secrets_out.write_text(sim.secrets_toml(base))
    click.echo(f"Generated {size} organization(s) in {time.monotonic() - started:.1f} s; serving on {base}")
    for i, org in enumerate(sim.orgs):
        urls = sim.urls(base, org=i)
        shape = f", topology {org.config['topology']['name']}" if org.config.get("topology") else ""
        click.echo(f"  {org.name} ({org.config['profile']}{shape}): sites {', '.join(urls['sites']) or 'none'}")
        click.echo(f"    admin API {urls['gateway']}   data center {', '.join(urls['dc'].values()) or 'none'}")
    click.echo("Credentials: " + (f"written to {secrets_out}" if secrets_out else "pass --secrets-out FILE to get them"))
    uvicorn.run(sim.app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
                date_header=False)


@main.command("simulate-advance")
@click.option("--url", default="http://127.0.0.1:8080", show_default=True, help="A running simulator.")
@click.option("--days", type=float, default=1.0, show_default=True, help="How far to move the clock.")
def simulate_advance(url, days):
    """Time travel: advance a running simulator's clock and apply one step of changes."""
    import httpx

    response = httpx.post(f"{url}/_sim/advance", params={"days": days}, timeout=60)
    response.raise_for_status()
    for org in response.json()["orgs"]:
        click.echo(f"{org['from']} -> {org['to']}: {len(org['accounts_created'])} account(s) created, "
                   f"{len(org['accounts_deactivated'])} deactivated, {sum(org['events'].values())} audit event(s) "
                   f"({sum(len(v) for v in org['late_events'].values())} late), "
                   f"{len(org['apps_installed'])} app(s) installed, {len(org['apps_removed'])} removed")


@main.command("simulate-truth")
@_size_options
@click.option("--advance-days", type=float, default=0.0, help="Time-travel this many days before writing.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the ground-truth manifest here (default: standard output).")
def simulate_truth(size, seed, orgs, accounts, projects, sites, advance_days, out):
    """Write the ground truth (every check's failing resources) of a simulated organization."""
    sim = _generate(size, seed, orgs, accounts, projects, sites)
    if advance_days:
        sim.advance(advance_days)
    text = json.dumps(sim.truth(), indent=2, sort_keys=True)
    if out:
        out.write_text(text + "\n")
        click.echo(f"Ground truth written to {out}")
    else:
        click.echo(text)


class WarehouseType(click.ParamType):
    """A DuckDB file (a path) or a PostgreSQL URL (kept as text)."""

    name = "FILE|URL"

    def convert(self, value, param, ctx):
        from atlassian_posture.warehouse import Warehouse

        return Warehouse.of(value)


def _warehouse_options(f):
    f = click.option("--warehouse", type=WarehouseType(), default="warehouse/atlassian_posture.duckdb",
                     show_default=True, envvar="ATLASSIAN_POSTURE_WAREHOUSE",
                     help="The DuckDB file to load into, or a PostgreSQL URL postgresql://user@host:5432/db "
                          "(password in $ATLASSIAN_POSTURE_PG_PASSWORD).")(f)
    f = click.option("--config-file", type=click.Path(exists=True, dir_okay=False), default=None,
                     help="A TOML file with [sources.atlassian.orgs] and [sources.atlassian.credentials] "
                          "(default: .dlt/config.toml, .dlt/secrets.toml and environment variables).")(f)
    f = click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
                     envvar="ATLASSIAN_POSTURE_LOG_FORMAT",
                     help="json: one JSON object per line on standard error, for log shippers.")(f)
    f = click.option("--wait", type=float, default=0.0,
                     help="Seconds to wait for another run's lock before giving up (exit 4).")(f)
    return f


def _settings(log, config_file):
    from atlassian_posture.connector.config import ConfigError, read_settings
    from atlassian_posture.errors import EXIT_CONFIG

    try:
        return read_settings(config_file)
    except ConfigError as exc:
        log.fail(EXIT_CONFIG, f"configuration: {exc}", step="extract")


def _fail_on_option(f):
    from atlassian_posture.connector.runner import STATUSES

    def parse(ctx, param, value):
        wanted = {s.strip() for part in value for s in part.split(",") if s.strip()}
        unknown = wanted - set(STATUSES) - {"none"}
        if unknown:
            raise click.BadParameter(f"unknown status {', '.join(sorted(unknown))}; one of "
                                     f"{', '.join(s for s in STATUSES if s != 'ok')} or none")
        return frozenset(wanted - {"none"}) if value else frozenset({"failed"})

    return click.option("--fail-on", multiple=True, callback=parse, metavar="STATUS[,STATUS...]",
                        help="Coverage statuses that make the run exit non-zero once everything else is loaded: "
                             "failed (default; exit 1), or also degraded, partial, forbidden, not_available, "
                             "skipped (exit 6); 'none' never.")(f)


def _sweep_options(f):
    """Change-driven runs (connector/changes.py): between full sweeps, only what the audit logs name is re-read."""
    f = click.option("--full", is_flag=True, default=False,
                     help="Read everything (a full sweep), not only what the audit logs say changed.")(f)
    return click.option("--sweep-days", type=click.FloatRange(min=0), default=None, metavar="DAYS",
                        help="Sweep in full when the last full sweep is this many days old (server clock; "
                             "default 7). Between sweeps, fan-outs re-read only what the audit logs name.")(f)


def _report_extracted(log, warehouse, result, progress) -> None:
    if result.recovered:
        log.event("recovered", result.recovered, level="warning", run_id=result.run_id)
    if result.load_memory:
        log.event("load_memory", f"The load ran out of DuckDB's first memory limit and loaded at {result.load_memory}: "
                                 "the run used more memory than usual; nothing was lost.", level="warning",
                  run_id=result.run_id, memory_limit=result.load_memory)
    loaded = sum(result.rows_by_table.values())
    for row in progress.unreported(result.coverage):  # the rest was reported as it happened
        if log.fmt == "json" or row["status"] != "ok":
            progress.resource(row)
    log.event("loaded", f"Loaded {loaded:,} rows into {len(result.rows_by_table)} tables of {warehouse.redacted} "
                        f"in {result.duration_s:.1f} s (run {result.run_id}).",
              run_id=result.run_id, warehouse=warehouse.redacted, rows=loaded, tables=len(result.rows_by_table),
              not_collected=len(result.problems), duration_s=round(result.duration_s, 3))


@main.command("extract")
@_warehouse_options
@click.option("--resource", "resources", multiple=True, help="Only these resources (repeatable).")
@_sweep_options
@_fail_on_option
def extract_command(warehouse, config_file, log_format, wait, resources, full, sweep_days, fail_on):
    """Extract and load every configured tenant into the warehouse (no transformation).

    Exit codes: 0 done (coverage lists what was not collected), 1 failed (a resource could not be
    read: the rest is loaded), 2 configuration error, 3 a credential was rejected (401), 4 another
    run holds the warehouse lock, 6 coverage has a status --fail-on names.
    """
    from atlassian_posture.connector.runner import extract, verdict
    from atlassian_posture.errors import PostureError
    from atlassian_posture.progress import RunProgress
    from atlassian_posture.runlog import RunLog

    log = RunLog(log_format)
    orgs, credentials = _settings(log, config_file)
    with RunProgress(log) as progress:
        try:
            result = extract(orgs, credentials, warehouse, resources=list(resources) or None, lock_wait_s=wait,
                             on_progress=progress.resource, full=full,
                             **({"sweep_days": sweep_days} if sweep_days is not None else {}))
        except PostureError as exc:
            log.fail(exc.exit_code, str(exc), step="extract")
        _report_extracted(log, warehouse, result, progress)
    problem = verdict(result, fail_on)
    if problem is not None:
        log.fail(problem.exit_code, str(problem), step="extract")


@main.command("run")
@_warehouse_options
@click.option("--dbt-project", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The dbt project to build (default: the one shipped with the package).")
@_sweep_options
@_fail_on_option
def run_command(warehouse, config_file, log_format, wait, dbt_project, full, sweep_days, fail_on):
    """Extract and load, then transform (dbt build): the command a scheduler calls.

    The warehouse lock is held for both steps; then the warehouse is published (copied
    atomically to warehouse/published/) for dashboards, notebooks, reports and BI tools.
    Exit codes as for extract, plus 5 when the transformation fails (the raw tables of this
    run stay loaded, and the last published copy stays as it was). A resource that failed (exit
    1) or a status --fail-on names (exit 6) ends the run after the marts are built and published.
    """
    from atlassian_posture.connector.runner import verdict
    from atlassian_posture.errors import PostureError, TransformFailed
    from atlassian_posture.progress import RunProgress
    from atlassian_posture.run import run
    from atlassian_posture.runlog import RunLog
    from atlassian_posture.transform import PROJECT_DIR

    log = RunLog(log_format)
    orgs, credentials = _settings(log, config_file)

    def extracted(result):
        _report_extracted(log, warehouse, result, progress)
        progress.step("transform", "Transforming: dbt build of the marts and their tests.", phase="Transforming")

    with RunProgress(log) as progress:
        try:
            outcome = run(orgs, credentials, warehouse, project_dir=dbt_project or PROJECT_DIR, lock_wait_s=wait,
                          on_progress=progress.resource, on_extracted=extracted, full=full, sweep_days=sweep_days,
                          on_transform_progress=lambda line: progress.step("transform", f"  {line}"))
        except TransformFailed as exc:
            log.fail(exc.exit_code, f"transform: {exc}", step="transform")
        except PostureError as exc:
            log.fail(exc.exit_code, str(exc))
    run_id = outcome.extracted.run_id
    log.event("transformed", f"Transformed: {outcome.transformed.models} models and seeds built, "
                             f"{outcome.transformed.tests} tests passed.", run_id=run_id,
              models=outcome.transformed.models, tests=outcome.transformed.tests)
    published = outcome.published if not warehouse.is_server else "the server (no copy needed)"
    from atlassian_posture.connector.evaluability import run_lines  # identity branch: what it could judge
    for line in run_lines(outcome.extracted, warehouse):
        log.event("evaluability", line)
    problem = verdict(outcome.extracted, fail_on)
    log.event("published", f"Published for readers at {published} (run {run_id}, "
                           f"{outcome.duration_s:.0f} s in all).",
              run_id=run_id, path=str(published), exit_code=problem.exit_code if problem else 0,
              duration_s=round(outcome.duration_s, 3))
    if problem is not None:
        log.fail(problem.exit_code, str(problem))


@main.command()
@click.option("--config-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A TOML file with the connector configuration (default: the dlt way).")
@click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also say which checks the last run of this warehouse could not judge because Atlassian renamed "
                   "or dropped a field (default: the scheduled warehouse, when it was ever published).")
def doctor(config_file, warehouse):
    """Check each configured credential and endpoint: what a run will and will not collect, and why.

    Exit codes: 0 something can be read for every organization, 1 nothing answered for one (network,
    server), 2 configuration (every endpoint 404: a wrong URL), 3 a credential was rejected (401)."""
    from atlassian_posture.connector.config import ConfigError, load_tenants, read_settings
    from atlassian_posture.connector.doctor import diagnose

    try:
        settings = read_settings(config_file)
        findings = diagnose(*settings)
    except ConfigError as exc:
        click.echo(f"error: configuration: {exc}", err=True)
        sys.exit(2)
    width = max((len(f.target) for f in findings), default=10)
    for f in findings:
        mark = "collect" if f.collected else "skip   "
        click.echo(f"{mark}  {f.tenant:<12} {f.target:<{width}}  {f.what:<22} {f.status:<13} {f.detail}")
    from atlassian_posture.connector.evaluability import doctor_lines  # identity branch: what it can judge
    for line in doctor_lines(load_tenants(*settings), findings):
        click.echo(line)
    _last_run_drift(warehouse)
    blocked = [f for f in findings if f.status == "unauthorized"]
    if blocked:
        click.echo(f"{len(blocked)} check(s) were rejected (401): fix those credentials before a run.", err=True)
        sys.exit(3)
    from atlassian_posture.connector.doctor import nothing_answered

    unreachable = nothing_answered(findings)
    if unreachable:
        click.echo(f"error: {unreachable[1]}", err=True)
        sys.exit(unreachable[0])


def _last_run_drift(warehouse: Path | None) -> None:
    """Field drift is only visible in data: report the last run's, from its published copy."""
    from atlassian_posture.connector.evaluability import drift_lines
    from atlassian_posture.consume.readcopy import WarehouseUnavailable, readable_path
    from atlassian_posture.warehouse import DEFAULT_WAREHOUSE, Warehouse

    if warehouse is None and not Warehouse(DEFAULT_WAREHOUSE).published_path.exists():
        return
    try:
        last = readable_path(warehouse or DEFAULT_WAREHOUSE)
    except WarehouseUnavailable as exc:
        click.echo(f"last run: {exc}")
        return
    drift = drift_lines(last)
    click.echo(f"last run ({last}): " + (f"{len(drift)} check(s) not judged because a field Atlassian sends "
                                         "changed:" if drift else "no field drift"))
    for line in drift:
        click.echo(f"  {line}")


def _reader_warehouse_option(f):
    return click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="The warehouse whose published copy to read (default: $ATLASSIAN_POSTURE_WAREHOUSE, "
                             "else warehouse/atlassian_posture.duckdb, else the demo's).")(f)


@main.command()
@_reader_warehouse_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (loopback only).")
@click.option("--port", type=int, default=2718, show_default=True, help="TCP port.")
def dashboard(warehouse, host, port):
    """Serve the dashboard (a marimo app, run mode) on 127.0.0.1 until interrupted.

    Overview, drill-down from a failing check to its resources and remediation, filterable
    identity and app tables, audit activity. It reads the copy each run publishes, read-only,
    so it never blocks a scheduled run and picks up new data on reload.
    """
    from atlassian_posture.consume import dashboard as app
    from atlassian_posture.consume.readcopy import WarehouseUnavailable

    try:
        # its own process group, so stopping it reaches whatever marimo starts, and a Ctrl+C reaches it only via us
        process = app.start(warehouse, host, port, start_new_session=True)
    except (WarehouseUnavailable, ValueError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"Dashboard on http://{host}:{port} (Ctrl+C stops it)")
    sys.exit(_serve(process))


STOP_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP")  # systemd, Docker and schedulers; Ctrl+C; a closed terminal


def _serve(process, grace_s: float = 10.0) -> int:
    """Wait for the dashboard server; on SIGTERM, SIGINT or SIGHUP stop its process group (SIGTERM, then
    SIGKILL after `grace_s`) and wait for it, so nothing is left listening on the port. Returns the exit code:
    the server's own, or 0 when it was asked to stop."""
    import os
    import signal
    import subprocess

    def stop_group(how: int) -> None:
        try:
            os.killpg(process.pid, how)
        except (ProcessLookupError, PermissionError):  # already gone
            pass

    asked: list[float] = []

    def forward(signum, frame) -> None:
        if not asked:
            asked.append(time.monotonic())
            stop_group(signal.SIGTERM)

    previous = {name: signal.signal(getattr(signal, name), forward) for name in STOP_SIGNALS}
    try:
        while True:
            try:
                code = process.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if asked and time.monotonic() - asked[0] > grace_s:
                    stop_group(signal.SIGKILL)
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)
    stop_group(signal.SIGKILL)  # anything of the group that outlived the server
    return 0 if asked else code


@main.command()
@_reader_warehouse_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("warehouse/report.html"),
              show_default=True, help="Where to write the HTML file.")
@click.option("--org", default=None, help="Only this organization (its org key).")
def report(warehouse, out, org):
    """Write a self-contained HTML report (charts included, no network needed to open it)."""
    from atlassian_posture.consume.readcopy import WarehouseUnavailable
    from atlassian_posture.consume.report import write_report

    try:
        result = write_report(out, warehouse, org)
    except WarehouseUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"Report written to {result.path} ({result.size_bytes / 1024:,.0f} KiB; "
               f"{result.organizations} organization(s), {result.failing_checks} failing checks).")


@main.command()
@click.option("--size", type=click.Choice(SIZES), default="small", show_default=True, help="Organization size.")
@click.option("--seed", type=int, default=7, show_default=True, help="Generator seed.")
@click.option("--days", type=click.IntRange(1, 30), default=3, show_default=True,
              help="Simulated days, one daily run each (a score trend needs more than one).")
def demo(size, seed, days):
    """Run the end-to-end demo: a simulated organization served in-process, extracted into
    warehouse/demo.duckdb for a few simulated days, marts built, published, reported
    (warehouse/demo-report.html) and summarized."""
    from atlassian_posture.demo import run_demo

    sys.exit(run_demo(size, seed, echo=click.echo, days=days))


if __name__ == "__main__":
    main()
