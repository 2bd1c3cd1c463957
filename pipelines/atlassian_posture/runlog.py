"""What `extract` and `run` say while they work: lines for people, or JSON lines for log shippers.

`--log-format json` (or ATLASSIAN_POSTURE_LOG_FORMAT=json) writes one JSON object per line on
standard error: `ts` (UTC, ISO 8601), `level`, `event`, `message`, and the event's fields (run id,
warehouse, rows, resource, tenant, status, exit code...). Fields are counts, names and paths:
credentials never reach a log line (the connector's errors are already free of them).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import TextIO

FORMATS = ("text", "json")


class RunLog:
    def __init__(self, fmt: str = "text", stream: TextIO | None = None, err: TextIO | None = None):
        self.fmt = fmt
        self.stream = stream or sys.stdout
        self.err = err or sys.stderr

    def event(self, event: str, message: str, level: str = "info", **fields) -> None:
        if self.fmt == "json":
            record = {"ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), "level": level,
                      "event": event, "message": message, **fields}
            print(json.dumps(record, default=str), file=self.err, flush=True)
        else:
            print(message if level != "error" else f"error: {message}",
                  file=self.err if level == "error" else self.stream, flush=True)

    def fail(self, exit_code: int, message: str, **fields) -> None:
        """Report the failure in one line and exit with `exit_code`."""
        self.event("run_failed", message, level="error", exit_code=exit_code, **fields)
        sys.exit(exit_code)
