"""What `extract` and `run` say while they work: lines for people, or JSON lines for log shippers.

`--log-format json` (or ATLASSIAN_POSTURE_LOG_FORMAT=json) writes one JSON object per line on
standard error: `ts` (UTC, ISO 8601), `level`, `event`, `message`, and the event's fields (run id,
warehouse, rows, resource, tenant, status, exit code...). Fields are counts, names and paths:
credentials never reach a log line (the connector's errors are already free of them).

`captured()` makes that hold for what the libraries say too: dlt's (multi-line) warnings, Python
warnings, anything logged on the root logger (dbt's warnings and errors, see transform.py) and an
uncaught crash become one event each (`event` "log" or "crash") instead of free text on stderr.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import sys
import threading
import traceback
from collections.abc import Iterator
from typing import TextIO

FORMATS = ("text", "json")
LEVELS = {"WARNING": "warning", "CRITICAL": "error"}
EXIT_CRASH = 1  # what Python exits with on an uncaught exception


class RunLog:
    def __init__(self, fmt: str = "text", stream: TextIO | None = None, err: TextIO | None = None):
        self.fmt = fmt
        self._stream, self._err = stream, err
        self._lock = threading.Lock()  # progress arrives from the extraction's threads: whole lines only
        self.console = None  # a live progress display's rich console: text lines go above its live line

    @property
    def stream(self) -> TextIO:  # looked up when written: a live progress display redirects sys.stdout meanwhile
        return self._stream or sys.stdout

    @property
    def err(self) -> TextIO:
        return self._err or sys.stderr

    def event(self, event: str, message: str, level: str = "info", **fields) -> None:
        if self.fmt == "json":
            record = {"ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), "level": level,
                      "event": event, "message": message, **fields}
            self.write(json.dumps(record, default=str), err=True)
        else:
            self.write(message if level != "error" else f"error: {message}", err=level == "error")

    def write(self, line: str, err: bool = False) -> None:
        """One whole line: on standard error (`err`) or output, or above the live progress line."""
        with self._lock:
            if self.console is not None and self.fmt == "text":
                self.console.print(line, markup=False, highlight=False, soft_wrap=True)
            else:
                print(line, file=self.err if err else self.stream, flush=True)

    def fail(self, exit_code: int, message: str, **fields) -> None:
        """Report the failure in one line and exit with `exit_code`."""
        self.event("run_failed", message, level="error", exit_code=exit_code, **fields)
        sys.exit(exit_code)

    @contextlib.contextmanager
    def captured(self) -> Iterator[RunLog]:
        """Within: what libraries log and Python warnings go through this log (see above), and in JSON an
        unexpected exception becomes a `crash` event and exit code 1 (its traceback a field). Restored after,
        so a command run in-process (tests, an orchestrator) leaves logging as it found it."""
        handler = _Handler(self)
        take_over = _TakeOver(handler)
        root, dlt = logging.getLogger(), logging.getLogger("dlt")
        root.addHandler(handler)
        # dlt logs to its own logger (propagate off) through a stream handler it (re)creates whenever its runtime
        # is initialized; a logger filter outlives that: it hands the record to us and stops dlt's handler.
        dlt.filters.insert(0, take_over)
        warnings_were_captured = getattr(logging, "_warnings_showwarning", None) is not None
        logging.captureWarnings(True)  # warnings.warn -> logger "py.warnings" -> root
        try:
            yield self
        except Exception as exc:
            if self.fmt != "json":
                raise
            self.event("crash", f"{type(exc).__name__}: {exc}", level="error", exit_code=EXIT_CRASH,
                       traceback="".join(traceback.format_exception(exc)))
            raise SystemExit(EXIT_CRASH) from None
        finally:
            root.removeHandler(handler)
            dlt.removeFilter(take_over)
            if not warnings_were_captured:
                logging.captureWarnings(False)


# Library messages about what the product expects: dlt's "columns ... did not receive any data" is every field
# Atlassian may leave out, declared on purpose (staging reads an absent column as NULL: macros/raw_table.sql).
EXPECTED = ("did not receive any data",)


class _Handler(logging.Handler):
    """A library's log record as one JSON event, or for people `warning: <logger>: <first line>` (an error
    in full)."""

    def __init__(self, log: RunLog):
        super().__init__()
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage().strip()
            if any(noise in message for noise in EXPECTED):
                return
            level = LEVELS.get(record.levelname, record.levelname.lower())
            if self.log.fmt == "json":
                self.log.event("log", message, level=level, logger=record.name)
            else:
                # people get a warning's first paragraph on one line (dlt's carry developer advice after it), an
                # error in full
                text = " ".join(message.split("\n\n")[0].split()) if level != "error" else message.replace("\n", "\n    ")
                self.log.write(f"{level}: {record.name.rsplit('.', 1)[-1]}: {text}", err=True)
        except Exception:  # noqa: BLE001 (a log line must never break the run)
            self.handleError(record)


class _TakeOver(logging.Filter):
    """A logger filter that hands every record to `handler` and keeps it from the logger's own handlers."""

    def __init__(self, handler: logging.Handler):
        super().__init__()
        self.handler = handler

    def filter(self, record: logging.LogRecord) -> bool:
        self.handler.handle(record)
        return False
