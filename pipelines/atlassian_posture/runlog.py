"""What `extract` and `run` say while they work: lines for people, or JSON lines for log shippers.

`--log-format json` (or ATLASSIAN_POSTURE_LOG_FORMAT=json) writes one JSON object per line on
standard error: `ts` (UTC, ISO 8601), `level`, `event`, `message`, and the event's fields (run id,
warehouse, rows, resource, tenant, status, exit code...). Fields are counts, names and paths:
credentials never reach a log line (the connector's errors are already free of them).

`capture()` makes that hold for what the libraries say too: dlt's (multi-line) warnings, Python
warnings, anything logged on the root logger (dbt's warnings and errors, see transform.py) and an
uncaught crash become one event each (`event` "log" or "crash") instead of free text on stderr.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import threading
import traceback
from typing import TextIO

FORMATS = ("text", "json")
LEVELS = {"WARNING": "warning", "CRITICAL": "error"}


class RunLog:
    def __init__(self, fmt: str = "text", stream: TextIO | None = None, err: TextIO | None = None):
        self.fmt = fmt
        self._stream, self._err = stream, err
        self._write = threading.Lock()  # progress arrives from the extraction's threads: whole lines only

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
            line, stream = json.dumps(record, default=str), self.err
        else:
            line = message if level != "error" else f"error: {message}"
            stream = self.err if level == "error" else self.stream
        with self._write:
            print(line, file=stream, flush=True)

    def fail(self, exit_code: int, message: str, **fields) -> None:
        """Report the failure in one line and exit with `exit_code`."""
        self.event("run_failed", message, level="error", exit_code=exit_code, **fields)
        sys.exit(exit_code)

    def capture(self) -> None:
        """Route what libraries log, Python warnings and an uncaught crash through this log (see above)."""
        handler = _Handler(self)
        root = logging.getLogger()
        if not any(isinstance(h, _Handler) for h in root.handlers):
            root.addHandler(handler)
        # dlt logs to its own logger (propagate off) through a stream handler it (re)creates whenever its runtime
        # is initialized; a logger filter outlives that: it hands the record to us and stops dlt's handler.
        dlt = logging.getLogger("dlt")
        dlt.filters = [f for f in dlt.filters if not isinstance(f, _TakeOver)]
        dlt.filters.insert(0, _TakeOver(handler))
        logging.captureWarnings(True)  # warnings.warn -> logger "py.warnings" -> root
        if self.fmt == "json":
            sys.excepthook = self._crash
            threading.excepthook = lambda args: self._crash(args.exc_type, args.exc_value, args.exc_traceback)

    def _crash(self, kind, value, tb) -> None:
        self.event("crash", f"{kind.__name__}: {value}", level="error",
                   traceback="".join(traceback.format_exception(kind, value, tb)))


class _Handler(logging.Handler):
    """A library's log record as one JSON event, or for people `warning: <logger>: <first line>` (an error
    in full)."""

    def __init__(self, log: RunLog):
        super().__init__()
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage().strip()
            level = LEVELS.get(record.levelname, record.levelname.lower())
            if self.log.fmt == "json":
                self.log.event("log", message, level=level, logger=record.name)
            else:
                # people get a warning's first paragraph on one line (dlt's carry developer advice after it), an
                # error in full
                text = " ".join(message.split("\n\n")[0].split()) if level != "error" else message.replace("\n", "\n    ")
                with self.log._write:
                    print(f"{level}: {record.name.rsplit('.', 1)[-1]}: {text}", file=self.log.err, flush=True)
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
