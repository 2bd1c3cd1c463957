"""Run the extraction into a DuckDB warehouse: lock, load, coverage, one-line failures.

Library code: returns a `RunResult` or raises `RunFailed` (with an exit code and a one-line
message); the CLI prints. A killed or failed run loads nothing of itself (dlt commits a load
package only when extraction finished), keeps everything earlier runs loaded, and the next
run resumes from the committed incremental state.
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

from atlassian_posture.connector import RUN_FACT_TABLES, RunFacts, all_resources
from atlassian_posture.connector.config import ConfigError, load_tenants
from atlassian_posture.connector.helpers import Connections, Coverage, PartialSnapshot
from atlassian_posture.connector.http import AtlassianError, AuthenticationFailed
from atlassian_posture.errors import EXIT_AUTH, EXIT_CONFIG, EXIT_FAILED, RunFailed
from atlassian_posture.warehouse import Warehouse, storage_cause


@dataclass
class RunResult:
    run_id: str
    started_at: datetime
    duration_s: float
    coverage: list[dict] = field(default_factory=list)
    rows_by_table: dict[str, int] = field(default_factory=dict)
    tenants: list = field(default_factory=list)  # the OrgConfigs read

    @property
    def problems(self) -> list[dict]:
        return [c for c in self.coverage if c["status"] != "ok"]


def extract(orgs: dict, credentials: dict, database: Warehouse | Path | str, *, pipelines_dir: Path | None = None,
            resources: list[str] | None = None, lock_wait_s: float = 0.0, progress: str | None = None,
            transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
            locked: bool = False, on_progress: Callable[[dict], None] | None = None) -> RunResult:
    """Extract every configured tenant into `database` (schema `raw`), with the run facts (coverage, runs,
    posture_settings).

    `locked=True` when the caller already holds the warehouse's lock (extract + transform)."""
    try:
        tenants = load_tenants(orgs, credentials)
    except ConfigError as exc:
        raise RunFailed(f"configuration: {exc}", EXIT_CONFIG) from exc
    started = datetime.now(UTC)
    clock = time.monotonic()
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
        selected = all_resources(connections, coverage, facts)
        if resources:
            names = [r.name for r in selected if r.name not in RUN_FACT_TABLES]
            unknown = set(resources) - set(names)
            if unknown:
                raise RunFailed(f"unknown resources: {', '.join(sorted(unknown))}; valid: {', '.join(sorted(names))}",
                                EXIT_CONFIG)
            selected = [r for r in selected if r.name in resources or r.name in RUN_FACT_TABLES]
        failure: RunFailed | None = None
        counts: dict[str, int] = {}
        try:
            info = pipeline.run(selected, schema=dlt.Schema("atlassian"), loader_file_format="parquet")
            info.raise_on_failed_jobs()
            trace = pipeline.last_trace
            if trace and trace.last_normalize_info:
                counts = {t: n for t, n in trace.last_normalize_info.row_counts.items()
                          if not t.startswith("_dlt") and t not in RUN_FACT_TABLES}
        except PipelineStepFailed as exc:
            failure = _explain(exc, warehouse)
            recorded = facts.coverage_rows()
            if exc.step == "extract" and recorded:  # keep the record of what failed, and why
                pipeline.run(recorded, table_name="coverage", write_disposition="append",
                             schema=dlt.Schema("atlassian"))
        finally:
            connections.close()
        if failure is not None:
            raise failure
        return RunResult(facts.run_id, started, time.monotonic() - clock, facts.coverage_rows(), counts, tenants)


def _explain(exc: PipelineStepFailed, warehouse: Warehouse | None = None) -> RunFailed:
    """The root cause of a failed dlt step, as one line and an exit code."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, AuthenticationFailed):
            return RunFailed(str(cause), EXIT_AUTH)
        if isinstance(cause, (PartialSnapshot, AtlassianError)):
            return RunFailed(str(cause), EXIT_FAILED)
        cause = cause.__cause__ or cause.__context__
    storage = storage_cause(exc, warehouse)  # a full disk, a read-only directory, a damaged file
    if storage is not None:
        return storage
    return RunFailed(f"{exc.step} step failed: {str(exc).splitlines()[0]}", EXIT_FAILED)
