"""The warehouse: a DuckDB file (the default) or a PostgreSQL URL, and everything tied to one.

Every part of the product goes through here: where dlt keeps its state for the warehouse, the
advisory lock that keeps runs from interleaving, the dlt destination and the DuckDB settings, and
publishing the read copy that readers open (see consume/readcopy.py for the reader side).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from atlassian_posture.errors import EXIT_CONFIG, EXIT_FAILED, EXIT_LOCKED, RunFailed, causes

DEFAULT_WAREHOUSE = Path("warehouse/atlassian_posture.duckdb")
DEMO_WAREHOUSE = Path("warehouse/demo.duckdb")
ENV_WAREHOUSE = "ATLASSIAN_POSTURE_WAREHOUSE"
PG_PASSWORD_ENV = "ATLASSIAN_POSTURE_PG_PASSWORD"
PIPELINE_NAME = "atlassian_posture"
RAW_DATASET = "raw"
# DuckDB takes up to 80% of RAM for its merges by default; capped, it spills to disk instead, so a
# scheduled load stays small next to whatever else the machine runs.
DUCKDB_SETTINGS = {"memory_limit": "512MB", "threads": 2}
# The load's share: dlt's scd2 merges run inside the extracting process, next to its own heap, so they get
# little (they spill to `<warehouse>.tmp`): DuckDB's footprint is about 85 MB plus its limit, on one thread.
# A load that runs out of it anyway (an organization larger than any measured) is retried with the next
# limit of the ladder (`connector/runner.py`), so a small first limit costs a retry, never a failed run.
# Normalize writes a table's parquet in files of 100,000 rows (each INSERT of the load stays small), two
# load jobs run at a time and writer buffers are small: the extractor's peak stays under 500 MiB whatever
# the organization's size (benchmarks/perf.py measures it, DECISIONS.md).
LOAD_MEMORY_LIMITS = ("64MB", "128MB", "512MB", "2GB")
LOAD_DUCKDB_SETTINGS = {"memory_limit": LOAD_MEMORY_LIMITS[0], "threads": 1}
LOAD_SETTINGS = {"data_writer.buffer_max_items": 500, "load.workers": 2,
                 "normalize.data_writer.file_max_items": 100_000}
# The published copy is written in the storage format of DuckDB 1.0, which every DuckDB 1.x and 2.x
# reads: the DuckDB CLI, Metabase's and DBeaver's drivers and duckdb-engine often bundle a 1.x.
PUBLISHED_STORAGE_VERSION = "v1.0.0"


def is_server(location: Path | str) -> bool:
    """A PostgreSQL URL (postgresql://user@host:port/db) rather than a DuckDB file."""
    return str(location).startswith(("postgresql://", "postgres://"))


@dataclass(frozen=True)
class Warehouse:
    """Where the raw tables and the marts live: `location` is a DuckDB file path or a PostgreSQL URL."""

    location: Path | str

    @classmethod
    def of(cls, value: Warehouse | Path | str | None) -> Warehouse:
        """A warehouse from a CLI value, an environment variable or a path; the default file when empty."""
        if isinstance(value, Warehouse):
            return value
        if value is None or str(value) == "":
            value = os.environ.get(ENV_WAREHOUSE) or DEFAULT_WAREHOUSE
        return cls(str(value) if is_server(value) else Path(value))

    @property
    def is_server(self) -> bool:
        return is_server(self.location)

    @property
    def path(self) -> Path:
        """The DuckDB file (only for a file warehouse)."""
        if self.is_server:
            raise ValueError(f"{self.redacted} is a server, not a file")
        return Path(self.location)

    @property
    def redacted(self) -> str:
        """What may be printed: the file path, or the URL without its password."""
        if not self.is_server:
            return str(self.location)
        parts = urlsplit(str(self.location))
        netloc = f"{parts.username + '@' if parts.username else ''}{parts.hostname}{f':{parts.port}' if parts.port else ''}"
        return parts._replace(netloc=netloc).geturl()

    @property
    def url(self) -> str:
        """The server URL with its password: from the URL, else from $ATLASSIAN_POSTURE_PG_PASSWORD."""
        parts = urlsplit(str(self.location))
        if parts.password is not None or not os.environ.get(PG_PASSWORD_ENV):
            return str(self.location)
        netloc = f"{parts.username or ''}:{quote(os.environ[PG_PASSWORD_ENV], safe='')}@{parts.hostname}"
        return parts._replace(netloc=netloc + (f":{parts.port}" if parts.port else "")).geturl()

    @property
    def password(self) -> str:
        return unquote(urlsplit(self.url).password or "") if self.is_server else ""

    @property
    def _server_key(self) -> str:
        parts = urlsplit(str(self.location))
        return hashlib.sha256(f"{parts.hostname}:{parts.port}{parts.path}".encode()).hexdigest()[:16]

    @property
    def state_dir(self) -> Path:
        """dlt's pipelines dir for this warehouse (pipeline state, incremental cursors, pending packages):
        `.dlt-pipelines/` beside a file; `warehouse/.dlt-pipelines-<hash>/` for a server."""
        if self.is_server:
            return Path("warehouse") / f".dlt-pipelines-{self._server_key}"
        return self.path.parent / ".dlt-pipelines"

    @property
    def dbt_dir(self) -> Path:
        """dbt's target and log directories for this warehouse, so the (possibly installed, read-only)
        project directory is never written to."""
        if self.is_server:
            return Path("warehouse") / f".dbt-{self._server_key}"
        return self.path.parent / ".dbt"

    @property
    def lock_path(self) -> Path:
        """`<file>.lock` beside a DuckDB file; for a server, a file per database under the temp directory
        (runs on this machine exclude each other; the password is not part of the name)."""
        if not self.is_server:
            return Path(f"{self.location}.lock")
        return Path(tempfile.gettempdir()) / f"atlassian-posture-{self._server_key}.lock"

    @contextlib.contextmanager
    def lock(self, wait_s: float = 0.0) -> Iterator[None]:
        """One run per warehouse at a time: an advisory lock, released on exit or death of the process.

        The lock file is removed when the run ends, by its holder while it still holds the lock; a waiter
        that then gets the lock of the removed file sees the path no longer names that file, and locks
        again whatever the path names now (so two runs never both hold "the" lock)."""
        path = self.lock_path
        deadline = time.monotonic() + wait_s
        while True:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = open(path, "a+")  # noqa: SIM115 (closed below, on every path)
            except OSError as exc:
                raise self.storage_failure(exc) from None
            try:
                while True:
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            raise RunFailed(f"another run holds {path} (pid {_holder(path)}); try again when it "
                                            f"ends", EXIT_LOCKED) from None
                        time.sleep(0.5)
            except BaseException:
                handle.close()
                raise
            if _same_file(path, handle):
                break
            handle.close()  # its holder removed it as we waited: lock the current one
        with handle:
            try:
                try:
                    handle.seek(0)
                    handle.truncate()
                    handle.write(str(os.getpid()))
                    handle.flush()
                except OSError as exc:
                    raise self.storage_failure(exc) from None
                self.check()
                yield
            finally:
                with contextlib.suppress(OSError):  # still held: nobody can take this file's lock before it is gone
                    path.unlink()
                fcntl.flock(handle, fcntl.LOCK_UN)

    def check(self) -> None:
        """Before a run writes: an existing DuckDB file must open as one (a corrupt or truncated file is
        a one-line error naming it, not a traceback deep in dlt)."""
        if self.is_server or not self.path.exists():
            return
        import duckdb

        try:
            with duckdb.connect(str(self.path), read_only=True) as con:
                con.execute("select count(*) from duckdb_tables()").fetchall()
        except (duckdb.Error, OSError) as exc:
            failure = storage_cause(exc, self)
            if failure is not None:
                raise failure from None
            # anything else (this process holding the file open with other settings...): the run will tell

    def storage_failure(self, exc: BaseException) -> RunFailed:
        """A storage problem of this warehouse as one line with its cause and exit code (`storage_cause`)."""
        return storage_cause(exc, self) or RunFailed(f"the warehouse {self.redacted} failed: "
                                                     f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                                                     EXIT_FAILED)

    def destination(self, memory_limit: str | None = None):
        """The dlt destination: duckdb with capped memory (`LOAD_DUCKDB_SETTINGS`, or `memory_limit`), or postgres."""
        import dlt
        from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

        if self.is_server:
            return dlt.destinations.postgres(credentials=self.url)
        settings = {**LOAD_DUCKDB_SETTINGS, **({"memory_limit": memory_limit} if memory_limit else {})}
        return dlt.destinations.duckdb(DuckDbCredentials(str(self.location), global_config=settings))

    def pipeline(self, pipelines_dir: Path | None = None, progress: str | None = None):
        """The dlt pipeline that loads this warehouse (`dlt pipeline atlassian_posture info
        --pipelines-dir <state_dir>` shows it)."""
        import dlt

        _quiet_dlt_tracebacks()
        for key, value in LOAD_SETTINGS.items():  # defaults: a user's config.toml or environment still decides
            if key not in dlt.config:
                dlt.config[key] = value
        return dlt.pipeline(pipeline_name=PIPELINE_NAME, destination=self.destination(), dataset_name=RAW_DATASET,
                            pipelines_dir=str(pipelines_dir or self.state_dir), progress=progress)

    @property
    def published_path(self) -> Path:
        """Where readers find the copy of a file warehouse: `<dir>/published/<name>`."""
        return self.path.parent / "published" / self.path.name

    def publish(self) -> Path | str:
        """Make this run's state readable: a file warehouse is copied (DuckDB's COPY FROM DATABASE, in the
        1.0 storage format) beside its published path and swapped in atomically; a server serves readers
        itself (MVCC) and needs no copy. The caller holds the lock. The copy keeps the file's name, so
        the catalog name inside views still resolves."""
        if self.is_server:
            return self.redacted
        import duckdb

        target = self.published_path
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in target.parent.glob(f".{glob.escape(target.name)}.*.partial*"):  # a killed publish's copy
            stale.unlink(missing_ok=True)  # (the caller holds the lock: no other publish is writing one)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            with duckdb.connect(str(self.location), config=DUCKDB_SETTINGS) as con:
                catalog = con.execute("select current_database()").fetchone()[0]
                path = str(partial).replace("'", "''")
                con.execute(f"attach '{path}' as published_copy (storage_version '{PUBLISHED_STORAGE_VERSION}')")
                con.execute(f'copy from database "{catalog}" to published_copy')
                con.execute("detach published_copy")
            with open(partial, "rb") as written:
                os.fsync(written.fileno())
            os.replace(partial, target)
        except OSError as exc:
            raise self.storage_failure(exc) from None
        finally:
            partial.unlink(missing_ok=True)
        return target


class _NoTraceback(logging.Filter):
    """dlt logs some failures it survives (a trace it cannot save on a full disk) with their traceback:
    keep its line, drop the traceback, so the user reads one line per problem. A load job dlt will retry
    (two merges that ran out of DuckDB's memory side by side) is a warning that names the cause, not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and str(record.msg).startswith("Transient exception in job"):
            text = str(record.exc_info[1]).strip()
            cause = text.splitlines()[0] if text else type(record.exc_info[1]).__name__
            record.msg, record.args = f"{record.getMessage()}: {cause}; dlt retries the job", ()
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text = None, None
        return True


def _quiet_dlt_tracebacks() -> None:
    """`_NoTraceback` first among dlt's logger filters: before the CLI's (runlog), which takes the record."""
    logger = logging.getLogger("dlt")
    for found in [f for f in logger.filters if isinstance(f, _NoTraceback)]:
        logger.removeFilter(found)
    logger.filters.insert(0, _NoTraceback())


_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)
_FULL = (errno.ENOSPC, errno.EDQUOT)


def storage_cause(exc: BaseException, warehouse: Warehouse | None = None) -> RunFailed | None:
    """The storage failure behind `exc` (anywhere in its cause chain) as one line, or None if there is none.

    A read-only directory and a file that is not a (whole) DuckDB database need a person (exit 2,
    like the configuration); a full disk can be retried once space is freed (exit 1)."""
    where = warehouse.redacted if warehouse is not None else "the warehouse"
    folder = str(Path(where).parent) if warehouse is not None and not warehouse.is_server else where
    for cause in causes(exc):
        text = str(cause).lower()
        code = getattr(cause, "errno", None)
        if code in _FULL or "no space left" in text or "disk quota" in text:
            return RunFailed(f"no space left on the device that holds {folder}: free space (or move the warehouse "
                             f"with --warehouse) and run again", EXIT_FAILED)
        if code in _READ_ONLY or "read-only file system" in text or "permission denied" in text:
            return RunFailed(f"cannot write in {folder} ({getattr(cause, 'strerror', None) or 'read-only'}): make it "
                             f"writable for this user or point --warehouse elsewhere", EXIT_CONFIG)
        if any(sign in text for sign in ("not a valid duckdb database", "corrupt", "truncated", "checksum",
                                         "could not read enough bytes", "failed to read", "invalid database",
                                         "unexpected end")):
            return RunFailed(f"the warehouse file {where} is damaged or not a DuckDB database "
                             f"({str(cause).splitlines()[0][:160]}): move it away (the readers' copy is in "
                             f"published/) and run again to rebuild it", EXIT_CONFIG)
    return None


def _same_file(path: Path, handle) -> bool:
    """Whether `path` still names the file `handle` has open."""
    try:
        named, held = os.stat(path), os.fstat(handle.fileno())
    except FileNotFoundError:
        return False
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "unknown"
    except OSError:
        return "unknown"
