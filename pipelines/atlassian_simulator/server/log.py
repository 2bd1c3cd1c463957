"""A record of every request the simulator answered, for tests to assert on.

Tests ask questions such as "did the connector ever write?", "how many calls did a load
cost?", "did it back off after a 429?". `RequestLogMiddleware` answers them by recording
each request once it is finished, including the ones the fault middleware answered on
its own (it must wrap `FaultMiddleware`, not the other way round).

Memory stays bounded on long runs: entries live in a `deque(maxlen=...)`, while the
counters by method, status and fault, and the count of writes, are never truncated.
The credential is a label set by the auth layer, never the secret itself.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

# POST endpoints that only read (searches and bulk fetches): calling them is not a write.
DEFAULT_READ_ONLY_POSTS = (
    "*/users/search",
    "*/groups/search",
    "*/workspaces",
    "*/auth-policies/bulk-fetch",
    "*/users-bulk",
    "*/permissions/check",
)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Key in `scope["state"]` by which the fault middleware checks that it is being logged.
LOG_MARKER = "_request_log"


class RequestLog:
    """Thread-safe, bounded log of requests, optionally mirrored to a JSON-lines file.

    Each entry is `{"seq", "method", "path", "query", "status", "credential", "fault"}`, plus `started`
    and `seconds` when the middleware recorded it;
    `seq` counts up in completion order and keeps counting across `clear()`. `status` is
    None when no response was started (a simulated connection reset, a cancelled request).
    """

    def __init__(
        self,
        maxlen: int = 200_000,
        *,
        path: str | Path | None = None,
        read_only_posts: Iterable[str] = DEFAULT_READ_ONLY_POSTS,
    ):
        self._lock = threading.Lock()
        self._entries: deque[dict] = deque(maxlen=maxlen)
        self._seq = 0
        self._by_method: Counter = Counter()
        self._by_status: Counter = Counter()
        self._by_fault: Counter = Counter()
        self._writes = 0
        self.read_only_posts = tuple(read_only_posts)
        # line-buffered: a served simulator's log file is readable while it runs
        self._file = open(path, "a", encoding="utf-8", buffering=1) if path is not None else None

    def is_write(self, method: str, path: str) -> bool:
        """Whether a request could change state: any non-read method, except read-only POSTs."""
        method = method.upper()
        if method in READ_METHODS:
            return False
        if method == "POST" and any(fnmatchcase(path, pattern) for pattern in self.read_only_posts):
            return False
        return True

    def record(
        self,
        *,
        method: str,
        path: str,
        query: str,
        status: int | None,
        credential: str,
        fault: str | None = None,
        started: float | None = None,
        seconds: float | None = None,
    ) -> dict:
        """Append one finished request and return its entry (`started`: epoch seconds, `seconds`: how long
        it took to answer, for benchmarks' per-endpoint rates)."""
        with self._lock:
            self._seq += 1
            entry = {
                "seq": self._seq,
                "method": method,
                "path": path,
                "query": query,
                "status": status,
                "credential": credential,
                "fault": fault,
            }
            if started is not None:
                entry["started"], entry["seconds"] = round(started, 4), round(seconds or 0.0, 4)
            self._entries.append(entry)
            self._by_method[method] += 1
            self._by_status[status] += 1
            if fault is not None:
                self._by_fault[fault] += 1
            if self.is_write(method, path):
                self._writes += 1
            if self._file is not None:
                self._file.write(json.dumps(entry, separators=(",", ":")) + "\n")
        return dict(entry)

    def entries(self) -> list[dict]:
        """Copies of the retained entries, oldest first."""
        with self._lock:
            return [dict(e) for e in self._entries]

    def writes(self) -> list[dict]:
        """Retained entries of requests that could change state (see `is_write`)."""
        return [e for e in self.entries() if self.is_write(e["method"], e["path"])]

    def counts(self) -> dict[str, Any]:
        """Never-truncated totals: `total`, `writes`, and counts `by_method`, `by_status`, `by_fault`."""
        with self._lock:
            return {
                "total": sum(self._by_method.values()),
                "writes": self._writes,
                "by_method": dict(self._by_method),
                "by_status": dict(self._by_status),
                "by_fault": dict(self._by_fault),
            }

    def clear(self) -> None:
        """Forget entries and counters (between test phases); `seq` and the file keep going."""
        with self._lock:
            self._entries.clear()
            self._by_method.clear()
            self._by_status.clear()
            self._by_fault.clear()
            self._writes = 0

    def open_file(self, path: str | Path) -> None:
        """Start mirroring entries to a JSON-lines file (appending)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
            self._file = open(path, "a", encoding="utf-8", buffering=1)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class RequestLogMiddleware:
    """Pure ASGI middleware recording every HTTP request into a `RequestLog`.

    Install it outermost (outside `FaultMiddleware`) so faulted requests are logged too.
    It reads, after the inner app ran, `scope["state"]["credential_label"]` (set by the auth
    layer) and `scope["state"]["fault"]` (set by the fault middleware). Requests answered
    before the auth layer ran (rate limited, injected errors) have no label; `label_fn`, if
    given, supplies one from the scope (it must never return the secret), else they are
    logged as "anonymous".
    """

    def __init__(self, app, log: RequestLog, *, label_fn: Callable[[dict], str | None] | None = None):
        self.app = app
        self.log = log
        self.label_fn = label_fn

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # created here so inner layers that copy the scope still share this very dict
        state = scope.setdefault("state", {})
        state[LOG_MARKER] = self.log
        status: int | None = None
        started, clock = time.time(), time.perf_counter()

        async def send_and_watch(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            label = state.get("credential_label")
            if label is None and self.label_fn is not None:
                label = self.label_fn(scope)
            self.log.record(
                method=scope["method"],
                path=scope["path"],
                query=scope.get("query_string", b"").decode("latin-1"),
                status=None if scope.get("state", {}).get("fault") == "reset" else status,
                credential=label or "anonymous",
                fault=state.get("fault"),
                started=started,
                seconds=time.perf_counter() - clock,
            )
