"""Run the extraction into a DuckDB warehouse: lock, load, coverage, one-line failures.

Library code: returns a `RunResult` or raises `RunFailed` (with an exit code and a one-line
message); the CLI prints. A killed or failed run loads nothing of itself (dlt commits a load
package only when extraction finished), keeps everything earlier runs loaded, and the next
run resumes from the committed incremental state.
"""

from __future__ import annotations

import contextlib
import hashlib
import fcntl
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import dlt
import httpx
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.pipeline.exceptions import PipelineStepFailed

from atlassian_posture.connector import all_resources
from atlassian_posture.connector.config import ConfigError, load_tenants
from atlassian_posture.connector.helpers import Connections, Coverage, PartialSnapshot
from atlassian_posture.connector.http import AtlassianError, AuthenticationFailed
from atlassian_posture.connector.posture_settings import settings_rows

PIPELINE_NAME = "atlassian_posture"
# DuckDB takes up to 80% of RAM for its merges by default; capped, it spills to disk instead, so a
# scheduled load stays small next to whatever else the machine runs.
DUCKDB_SETTINGS = {"memory_limit": "512MB", "threads": 2}
RAW_DATASET = "raw"

# Exit codes a scheduler can act on
EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_AUTH, EXIT_LOCKED = 0, 1, 2, 3, 4


class RunFailed(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_FAILED):
        super().__init__(message)
        self.exit_code = exit_code


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


PG_PASSWORD_ENV = "ATLASSIAN_POSTURE_PG_PASSWORD"


def is_server(database: Path | str) -> bool:
    """A PostgreSQL URL (postgresql://user@host:port/db) rather than a DuckDB file."""
    return str(database).startswith(("postgresql://", "postgres://"))


def _server_key(database: Path | str) -> str:
    parts = urlsplit(str(database))
    return hashlib.sha256(f"{parts.hostname}:{parts.port}{parts.path}".encode()).hexdigest()[:16]


def server_url(database: Path | str) -> str:
    """The URL with its password: from the URL, else from $ATLASSIAN_POSTURE_PG_PASSWORD."""
    parts = urlsplit(str(database))
    if parts.password is not None or not os.environ.get(PG_PASSWORD_ENV):
        return str(database)
    netloc = f"{parts.username or ''}:{quote(os.environ[PG_PASSWORD_ENV], safe='')}@{parts.hostname}"
    return parts._replace(netloc=netloc + (f":{parts.port}" if parts.port else "")).geturl()


def redact(database: Path | str) -> str:
    """What may be printed: the file path, or the URL without its password."""
    if not is_server(database):
        return str(database)
    parts = urlsplit(str(database))
    netloc = f"{parts.username + '@' if parts.username else ''}{parts.hostname}{f':{parts.port}' if parts.port else ''}"
    return parts._replace(netloc=netloc).geturl()


def state_dir(database: Path | str) -> Path:
    """Where dlt keeps the pipeline state (incremental cursors) for this warehouse."""
    if is_server(database):
        return Path("warehouse") / f".dlt-pipelines-{_server_key(database)}"
    return Path(database).parent / ".dlt-pipelines"


def lock_path(database: Path | str) -> Path:
    """`<file>.lock` beside a DuckDB file; for a server, a file per database under the temp directory
    (runs on this machine exclude each other; the password is not part of the name)."""
    if not is_server(database):
        return Path(f"{database}.lock")
    return Path(tempfile.gettempdir()) / f"atlassian-posture-{_server_key(database)}.lock"


@contextlib.contextmanager
def run_lock(database: Path | str, wait_s: float = 0.0) -> Iterator[None]:
    """One run per warehouse at a time: an advisory lock on `<database>.lock`, released on exit or death."""
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunFailed(f"another run holds {path} (pid {_holder(path)}); try again when it ends",
                                    EXIT_LOCKED) from None
                time.sleep(0.5)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


def make_pipeline(database: Path, pipelines_dir: Path | None = None, progress: str | None = None) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=(dlt.destinations.postgres(credentials=server_url(database)) if is_server(database) else
                     dlt.destinations.duckdb(DuckDbCredentials(str(database), global_config=DUCKDB_SETTINGS))),
        dataset_name=RAW_DATASET,
        pipelines_dir=str(pipelines_dir) if pipelines_dir else None,
        progress=progress,
    )


def extract(orgs: dict, credentials: dict, database: Path, *, pipelines_dir: Path | None = None,
            resources: list[str] | None = None, lock_wait_s: float = 0.0, progress: str | None = None,
            transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
            locked: bool = False) -> RunResult:
    """Extract every configured tenant into `database` (schema `raw`), then record coverage.

    `locked=True` when the caller already holds `run_lock(database)` (extract + transform)."""
    try:
        tenants = load_tenants(orgs, credentials)
    except ConfigError as exc:
        raise RunFailed(f"configuration: {exc}", EXIT_CONFIG) from exc
    started = datetime.now(UTC)
    clock = time.monotonic()
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    with contextlib.nullcontext() if locked else run_lock(database, lock_wait_s):
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
        pipeline = make_pipeline(database, pipelines_dir, progress)
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
        return RunResult(run_id, started, time.monotonic() - clock, rows, counts, tenants)


def _load_run_facts(pipeline: dlt.Pipeline, connections: Connections, tenants: list, run_id: str,
                    started: datetime) -> None:
    """`raw.runs`: each organization's server clock for this run (the marts evaluate "now" as of it,
    not as of this machine); `raw.posture_settings`: the configured policy inputs and attestation."""
    finished = datetime.now(UTC)
    runs = [{"run_id": run_id, "org_key": org.key, "org_id": connections.org_ids.get(org.key),
             "org_id_source": connections.org_id_sources.get(org.key),
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
