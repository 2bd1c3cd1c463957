"""Progress while `extract` and `run` work, so a slow site is never minutes of silence.

Each (resource, tenant) is reported when it ends (status, rows, requests, seconds): a `resource` event
in `--log-format json`, else a line. On a terminal a live line below them says what is running and for
how long (rich, which dlt already brings); redirected to a file or a pipe there are only the lines.
The transform reports each dbt step the same way.

The connector calls `RunProgress.resource` from its coverage (connector/helpers.py `Coverage`) with a
coverage row: status `running` when a (resource, tenant) starts, its outcome when it ends.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from atlassian_posture.runlog import RunLog


def resource_line(row: dict) -> str:
    rows, requests = row.get("rows") or 0, row.get("requests") or 0
    line = (f"  {row['status']:<13} {row['resource']} [{row['tenant']}]: {rows:,} row{'s' if rows != 1 else ''}, "
            f"{requests:,} request{'s' if requests != 1 else ''}, {row.get('duration_s') or 0:.1f} s")
    return f"{line}; {row['reason']}" if row.get("reason") else line


def resource_fields(row: dict) -> dict[str, Any]:
    return {"run_id": row.get("run_id"), "resource": row["resource"], "tenant": row["tenant"],
            "status": row["status"], "rows": row.get("rows"), "requests": row.get("requests"),
            "retries": row.get("retries"), "duration_s": row.get("duration_s"), "reason": row.get("reason") or None}


class RunProgress:
    """Reports a run's progress through `log`; a context manager (the live display lives inside it)."""

    def __init__(self, log: RunLog, live: bool | None = None):
        self.log = log
        self.live = (log.fmt == "text" and _is_terminal(log.stream)) if live is None else live
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str], float] = {}
        self._reported: dict[tuple[str, str], tuple[str, str]] = {}
        self._phase = "Extracting"
        self._display = None
        self._task = None

    def __enter__(self) -> RunProgress:
        self._captured = self.log.captured()  # what libraries say goes through the log too
        self._captured.__enter__()
        if self.live:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.table import Column

            self._display = Progress(SpinnerColumn(), TimeElapsedColumn(table_column=Column(no_wrap=True, min_width=7)),
                                     TextColumn("{task.description}", markup=False,
                                                table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
                                     console=Console(file=self.log.stream), transient=True, expand=True)
            self._task = self._display.add_task(self._phase, total=None)
            self._display.start()
            self.log.console = self._display.console
        return self

    def __exit__(self, *exc) -> bool | None:
        if self._display is not None:
            self.log.console = None
            self._display.stop()
            self._display = None
        return self._captured.__exit__(*exc)

    # --- what the run reports ---

    def resource(self, row: dict) -> None:
        """A coverage row: `running` when a (resource, tenant) starts, its outcome when it ends."""
        key = (row["resource"], row["tenant"])
        with self._lock:
            if row["status"] == "running":
                self._running[key] = time.monotonic()
            else:
                self._running.pop(key, None)
                self._reported[key] = (row["status"], row.get("reason") or "")
        if row["status"] != "running":
            self._say("resource", resource_line(row), level="info" if row["status"] == "ok" else "warning",
                      **resource_fields(row))
        self._refresh()

    def step(self, event: str, message: str, phase: str | None = None, **fields) -> None:
        """A step of the run (`transform`: dbt's progress) as a line; `phase` names what the live line shows."""
        if phase:
            with self._lock:
                self._phase = phase
        self._say(event, message, **fields)
        self._refresh()

    def unreported(self, coverage: list[dict]) -> list[dict]:
        """The rows of the run's final coverage not already reported as they are: validation (rows rejected
        at load: `degraded`) is only known at the end."""
        with self._lock:
            return [row for row in coverage
                    if self._reported.get((row["resource"], row["tenant"])) != (row["status"], row.get("reason") or "")]

    # --- output ---

    def _say(self, event: str, message: str, level: str = "info", **fields) -> None:
        self.log.event(event, message, level=level, **fields)  # live: above the live line (RunLog.console)

    def _refresh(self) -> None:
        if self._display is None:
            return
        with self._lock:
            running = sorted(self._running.items(), key=lambda item: item[1])
            done, phase = len(self._reported), self._phase
        if phase != "Extracting":
            text = phase
        elif running:  # the longest-running first: on a slow site, the one to wait for
            (resource, tenant), _ = running[0]
            text = f"Extracting: {done} done, {len(running)} running (longest {resource} [{tenant}])"
        else:
            text = f"Extracting: {done} done" + ("; loading" if done else "")
        self._display.update(self._task, description=text)


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
