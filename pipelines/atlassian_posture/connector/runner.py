"""Run the extraction into a DuckDB warehouse: lock, load, coverage, one-line failures.

Library code: returns a `RunResult` or raises `RunFailed` (with an exit code and a one-line
message); the CLI prints. A killed or failed run keeps everything earlier runs committed; the next
run aborts what it left pending (`recovery.py`: state back to the last committed load) and reads
everything afresh. Coverage and runs rows count only once their load committed (`_dlt_loads`), so
they describe what landed.

Statuses in coverage, and what they do to the exit code (`verdict`): `ok`; `degraded` (rows
rejected by validation), `partial` (some items of a fan-out forbidden), `forbidden`,
`not_available` (the plan or topology has no such data) and `skipped` (not configured) exit 0
unless `--fail-on` names them (exit 6); `failed` (network, server, a malformed answer) exits 1 once
everything else is loaded, transformed and published. An organization that could read nothing
fails the run before the transform (its `runs` row is not written, so the marts' clocks stay).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dlt
import httpx
from dlt.pipeline.exceptions import PipelineStepFailed

from atlassian_posture.connector import OPT_IN, RUN_FACT_TABLES, RunFacts, all_resources, changes
from atlassian_posture.connector.config import ConfigError, load_tenants
from atlassian_posture.connector.helpers import Connections, Coverage, PartialSnapshot
from atlassian_posture.connector.http import AtlassianError, AuthenticationFailed
from atlassian_posture.connector.memory import between_steps, fewer_malloc_arenas, give_back
from atlassian_posture.connector.recovery import abort_unfinished, tidy
from atlassian_posture.connector.run_facts import COLLECTED, read_nothing
from atlassian_posture.connector.settings import CHANGE_SWEEP_DAYS
from atlassian_posture.errors import EXIT_AUTH, EXIT_CONFIG, EXIT_FAILED, EXIT_GAPS, PostureError, RunFailed, causes
from atlassian_posture.warehouse import LOAD_DUCKDB_SETTINGS, LOAD_MEMORY_LIMITS, Warehouse, storage_cause


@dataclass
class RunResult:
    run_id: str
    started_at: datetime
    duration_s: float
    coverage: list[dict] = field(default_factory=list)
    rows_by_table: dict[str, int] = field(default_factory=dict)
    tenants: list = field(default_factory=list)  # the OrgConfigs read
    recovered: str | None = None  # what an earlier, unfinished run left and this one discarded
    load_memory: str | None = None  # the DuckDB memory the load needed when its first limit was not enough

    @property
    def problems(self) -> list[dict]:
        return [c for c in self.coverage if c["status"] != "ok"]


STATUSES = ("ok", "degraded", "partial", "forbidden", "not_available", "skipped", "failed")


def verdict(result: RunResult, fail_on: frozenset[str] | set[str] = frozenset({"failed"})) -> PostureError | None:
    """The error a finished run ends with, or None: `failed` resources exit 1 (retry later); other
    statuses named in `fail_on` exit 6 (a scheduler's strict mode)."""
    hit = [row for row in result.coverage if row["status"] in fail_on]
    if not hit:
        return None
    first = hit[0]
    where = f"{first['resource']} [{first['tenant']}]: {first['status']}" + (f" ({first['reason']})" if first["reason"]
                                                                           else "")
    counts = ", ".join(f"{sum(r['status'] == s for r in hit)} {s}" for s in STATUSES if any(r["status"] == s
                                                                                          for r in hit))
    if any(row["status"] == "failed" for row in hit):
        return RunFailed(f"{counts} resource(s), first {where}; everything else is loaded and their checks say "
                         f"not_evaluable: run again later", EXIT_FAILED)
    return PostureError(f"{counts} resource(s) (--fail-on {','.join(sorted(fail_on))}), first {where}", EXIT_GAPS)


def _nothing_read_failure(empty: dict[str, list[dict]]) -> RunFailed:
    org, rows = next(iter(empty.items()))
    if all(r["status"] == "not_available" for r in rows):
        return RunFailed(f"nothing could be read for organization {org}: every endpoint answered 404; check its site "
                         f"and Data Center URLs in the configuration", EXIT_CONFIG)
    first = next((r for r in rows if r["status"] == "failed"), rows[0])
    return RunFailed(f"nothing could be read for organization {org} ({len(rows)} resources; first "
                     f"{first['resource']}: {first['status']}, {first['reason'] or 'no reason given'}); "
                     f"nothing of it was loaded but coverage", EXIT_FAILED)


def extract(orgs: dict, credentials: dict, database: Warehouse | Path | str, *, pipelines_dir: Path | None = None,
            resources: list[str] | None = None, lock_wait_s: float = 0.0, progress: str | None = None,
            transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
            locked: bool = False, on_progress: Callable[[dict], None] | None = None, full: bool = False,
            sweep_days: float = CHANGE_SWEEP_DAYS) -> RunResult:
    """Extract every configured tenant into `database` (schema `raw`), with the run facts (coverage, runs,
    posture_settings).

    Between full sweeps (every `sweep_days` by the server's clock, or `full=True`), each organization's
    fan-outs re-read only what its audit logs say changed since its last run (changes.py).

    `locked=True` when the caller already holds the warehouse's lock (extract + transform)."""
    try:
        tenants = load_tenants(orgs, credentials)
    except ConfigError as exc:
        raise RunFailed(f"configuration: {exc}", EXIT_CONFIG) from exc
    started = datetime.now(UTC)
    clock = time.monotonic()
    fewer_malloc_arenas()
    warehouse = Warehouse.of(database)
    with contextlib.nullcontext() if locked else warehouse.lock(lock_wait_s):
        connections = Connections(tenants, transport=transport, sleep=sleep)
        try:
            connections.resolve_org_ids()
        except AuthenticationFailed as exc:
            connections.close()
            raise RunFailed(str(exc), EXIT_AUTH) from exc
        except AtlassianError as exc:
            connections.close()
            raise RunFailed(str(exc), EXIT_FAILED) from exc
        coverage = Coverage(on_progress)  # each (resource, tenant) as it starts and ends
        facts = RunFacts(connections, coverage, started=started)
        pipeline = warehouse.pipeline(pipelines_dir, progress)
        between_steps(pipeline)
        try:
            recovered = abort_unfinished(pipeline)
        except OSError as exc:
            connections.close()
            raise warehouse.storage_failure(exc) from None
        selected = all_resources(connections, coverage, facts, include=resources or ())
        if resources:
            names = [r.name for r in selected if r.name not in RUN_FACT_TABLES] + \
                [n for n in OPT_IN if n not in resources]
            unknown = set(resources) - set(names)
            if unknown:
                raise RunFailed(f"unknown resources: {', '.join(sorted(unknown))}; valid: {', '.join(sorted(names))}",
                                EXIT_CONFIG)
            selected = [r for r in selected if r.name in resources or r.name in RUN_FACT_TABLES]
        failure: RunFailed | None = None
        counts: dict[str, int] = {}
        load_memory: str | None = None
        try:
            facts.plan = changes.plan(connections, coverage, changes.saved_state(pipeline), full=full or bool(resources),
                                      record=not resources, sweep_days=sweep_days, started=started,
                                      groups_of=changes.member_groups(pipeline),
                                      members_of=changes.group_members(pipeline),
                                      loaded=changes.loaded_items(pipeline))
            if any(plan.mode != "full" for plan in facts.plan.orgs.values()):
                getattr(facts.plan.loaded, "prefetch", lambda: None)()  # here: resources run in dlt's workers
            with changes.active(facts.plan):
                try:
                    info = pipeline.run(selected, schema=dlt.Schema("atlassian"), loader_file_format="parquet")
                    trace = pipeline.last_trace
                except PipelineStepFailed as exc:
                    if exc.step != "load" or warehouse.is_server or not out_of_memory(exc):
                        raise
                    trace = pipeline.last_trace  # the run's, with its normalize (the retry starts its own)
                    info, load_memory = more_memory(pipeline, warehouse, exc)
            info.raise_on_failed_jobs()
            if trace and trace.last_normalize_info:
                counts = {t: n for t, n in trace.last_normalize_info.row_counts.items()
                          if not t.startswith("_dlt") and t not in RUN_FACT_TABLES}
        except PipelineStepFailed as exc:
            failure = _explain(exc, warehouse)
            recorded = not_loaded(facts.coverage_rows(), str(failure))
            if exc.step == "extract" and recorded:  # keep the record of what failed, and why
                with contextlib.suppress(PipelineStepFailed):
                    pipeline.run(recorded, table_name="coverage", write_disposition="append",
                                 schema=dlt.Schema("atlassian"))
        finally:
            connections.close()
            give_back()
        if failure is not None:
            raise failure
        tidy(pipeline)
        result = RunResult(facts.run_id, started, time.monotonic() - clock, facts.coverage_rows(), counts, tenants,
                           recovered, load_memory)
        empty = read_nothing(result.coverage)
        if empty:
            raise _nothing_read_failure(empty)
        return result


def out_of_memory(exc: BaseException) -> bool:
    """Whether a failed load ran out of DuckDB's memory (dlt retried the job, then gave up)."""
    return any(type(cause).__name__ == "OutOfMemoryException" or
               "Out of Memory Error" in f"{cause} {getattr(cause, 'failed_message', '')}" for cause in causes(exc))


def more_memory(pipeline, warehouse: Warehouse, failure: PipelineStepFailed):
    """Load the pending package again with each larger DuckDB memory limit of the ladder until it loads: the
    jobs that finished stay done, the one that ran out resumes. (load info, the limit that loaded); the last
    failure when even the largest limit is not enough."""
    first = LOAD_DUCKDB_SETTINGS["memory_limit"]
    ladder = LOAD_MEMORY_LIMITS[LOAD_MEMORY_LIMITS.index(first) + 1:] if first in LOAD_MEMORY_LIMITS else ()
    for limit in ladder:
        try:
            return pipeline.load(destination=warehouse.destination(limit)), limit
        except PipelineStepFailed as exc:
            if not out_of_memory(exc):
                raise
            failure = exc
    raise failure


def not_loaded(rows: list[dict], cause: str) -> list[dict]:
    """The coverage of a run that failed before its load: nothing it read landed, so no row says `ok`."""
    out = []
    for row in rows:
        row = dict(row)
        read = f"read {row['rows']} rows, " if row["rows"] else ""
        if row["status"] in COLLECTED:
            row.update(status="failed", reason=f"{read}not loaded: the run stopped ({cause})")
        elif read:
            row["reason"] = f"{read}not loaded: {row['reason']}"
        row["rows"] = 0
        out.append(row)
    return out


def _explain(exc: PipelineStepFailed, warehouse: Warehouse | None = None) -> RunFailed:
    """The root cause of a failed dlt step, as one line and an exit code: the innermost exception that
    is not dlt's wrapping, and the resource dlt says raised it."""
    resource, innermost = None, exc
    for cause in causes(exc):
        if isinstance(cause, AuthenticationFailed):
            return RunFailed(str(cause), EXIT_AUTH)
        if isinstance(cause, (PartialSnapshot, AtlassianError)):
            return RunFailed(str(cause), EXIT_FAILED)
        resource = resource or getattr(cause, "resource_name", None)
        innermost = cause
    storage = storage_cause(exc, warehouse)  # a full disk, a read-only directory, a damaged file
    if storage is not None:
        return storage
    if innermost is exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return RunFailed(f"{exc.step} step failed: {text}", EXIT_FAILED)
    text = " ".join(str(innermost).split())[:300] or "no message"
    where = f" in resource {resource}" if resource else ""
    return RunFailed(f"{exc.step} step failed{where}: {type(innermost).__name__}: {text}; the warehouse keeps the "
                     f"last committed load, and the next run starts afresh", EXIT_FAILED)
