"""Run the extraction into a DuckDB warehouse: lock, load, coverage, one-line failures.

Library code: returns a `RunResult` or raises `RunFailed` (with an exit code and a one-line
message); the CLI prints. A killed or failed run loads nothing of itself (dlt commits a load
package only when extraction finished), keeps everything earlier runs loaded, and the next
run resumes from the committed incremental state.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dlt
import httpx
from dlt.pipeline.exceptions import PipelineStepFailed

from atlassian_posture.connector import all_resources
from atlassian_posture.connector.config import ConfigError, load_tenants
from atlassian_posture.connector.helpers import Connections, Coverage, PartialSnapshot
from atlassian_posture.connector.http import AtlassianError, AuthenticationFailed
from atlassian_posture.connector.posture_settings import settings_rows
from atlassian_posture.errors import EXIT_AUTH, EXIT_CONFIG, EXIT_FAILED, RunFailed
from atlassian_posture.warehouse import Warehouse


@dataclass
class RunResult:
    run_id: str
    started_at: datetime
    duration_s: float
    coverage: list[dict] = field(default_factory=list)
    rows_by_table: dict[str, int] = field(default_factory=dict)

    @property
    def problems(self) -> list[dict]:
        return [c for c in self.coverage if c["status"] != "ok"]


def extract(orgs: dict, credentials: dict, database: Warehouse | Path | str, *, pipelines_dir: Path | None = None,
            resources: list[str] | None = None, lock_wait_s: float = 0.0, progress: str | None = None,
            transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
            locked: bool = False) -> RunResult:
    """Extract every configured tenant into `database` (schema `raw`), then record coverage.

    `locked=True` when the caller already holds the warehouse's lock (extract + transform)."""
    try:
        tenants = load_tenants(orgs, credentials)
    except ConfigError as exc:
        raise RunFailed(f"configuration: {exc}", EXIT_CONFIG) from exc
    started = datetime.now(UTC)
    clock = time.monotonic()
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
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
        coverage = Coverage()
        pipeline = warehouse.pipeline(pipelines_dir, progress)
        selected = all_resources(connections, coverage)
        if resources:
            unknown = set(resources) - {r.name for r in selected}
            if unknown:
                raise RunFailed(f"unknown resources: {', '.join(sorted(unknown))}", EXIT_CONFIG)
            selected = [r for r in selected if r.name in resources]
        failure: RunFailed | None = None
        counts: dict[str, int] = {}
        try:
            info = pipeline.run(selected, schema=dlt.Schema("atlassian"), loader_file_format="parquet")
            info.raise_on_failed_jobs()
            trace = pipeline.last_trace
            if trace and trace.last_normalize_info:
                counts = {t: n for t, n in trace.last_normalize_info.row_counts.items() if not t.startswith("_dlt")}
        except PipelineStepFailed as exc:
            failure = _explain(exc)
        finally:
            connections.close()
        rows = coverage.rows(run_id)
        if rows:
            pipeline.run(rows, table_name="coverage", write_disposition="append", schema=dlt.Schema("atlassian"))
        if failure is None:
            _load_run_facts(pipeline, connections, tenants, run_id, started)
        if failure is not None:
            raise failure
        return RunResult(run_id, started, time.monotonic() - clock, rows, counts)


def _load_run_facts(pipeline: dlt.Pipeline, connections: Connections, tenants: list, run_id: str,
                    started: datetime) -> None:
    """`raw.runs`: each organization's server clock for this run (the marts evaluate "now" as of it,
    not as of this machine); `raw.posture_settings`: the configured policy inputs and attestation."""
    finished = datetime.now(UTC)
    runs = [{"run_id": run_id, "org_key": org.key, "org_id": connections.org_ids.get(org.key),
             "started_at": started, "finished_at": finished,
             "server_time": connections.server_clock(org.key) or finished} for org in tenants]
    settings = [row for org in tenants
                for row in settings_rows(org.key, connections.org_ids.get(org.key), org.policy, org.attestation)]
    pipeline.run(runs, table_name="runs", write_disposition="append", schema=dlt.Schema("atlassian"))
    pipeline.run(dlt.resource(settings, name="posture_settings", write_disposition="replace",
                              columns={"org_id": {"data_type": "text"}, "scope": {"data_type": "text"},
                                       "field": {"data_type": "text"}, "value": {"data_type": "text"}}),
                 schema=dlt.Schema("atlassian"))


def _explain(exc: PipelineStepFailed) -> RunFailed:
    """The root cause of a failed dlt step, as one line and an exit code."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, AuthenticationFailed):
            return RunFailed(str(cause), EXIT_AUTH)
        if isinstance(cause, (PartialSnapshot, AtlassianError)):
            return RunFailed(str(cause), EXIT_FAILED)
        cause = cause.__cause__ or cause.__context__
    return RunFailed(f"{exc.step} step failed: {str(exc).splitlines()[0]}", EXIT_FAILED)
