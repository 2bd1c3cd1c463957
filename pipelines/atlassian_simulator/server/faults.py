"""Injected failures: rate limits, latency, 5xx, timeouts, resets, truncated bodies, 403/404.

A connector that only ever met a healthy server has not been tested. `FaultMiddleware`
sits in front of the simulated products and misbehaves the way Atlassian does (Atlassian's
rate-limiting documentation): 429s with `Retry-After` and the
`X-RateLimit-*` headers, transient 5xx, slow answers, dropped connections, a permission
missing on one resource. Everything is off by default and `FaultConfig` can be changed
while the server runs (`sim.faults.error_rate = 0.2`).

Faults are decided before the inner app is called; the decision is put in
`scope["state"]["fault"]` so the outer `RequestLogMiddleware` records it with the final
status. Random choices come from `random.Random(config.seed)`, the clock and `sleep` are
injectable, so a test run is repeatable and never really waits.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from fnmatch import fnmatchcase
from typing import NamedTuple

import httpx

from atlassian_simulator.server.log import LOG_MARKER, RequestLog
from atlassian_simulator.server.paging import error_response


@dataclass
class FaultConfig:
    """What to break, all off by default. Fields are read on every request.

    `rate_limits` maps an fnmatch pattern on the request path to `(requests, per_seconds)`:
    a token bucket of `requests` tokens refilled evenly over `per_seconds`, one bucket per
    pattern, caller and host (`/site/<name>`, `/gateway`, `/dc/<instance>`). Two optional
    items more (`Limit`): `per="endpoint"` keys the bucket by host, method and path template
    instead of caller (Jira/Confluence Cloud burst limits: per tenant, endpoint and method), and
    `burst` a bucket larger than what refills per period (Data Center's admin-configured buckets). The random faults share one draw per request, tried in the order
    error, timeout, reset, truncate (keep their sum <= 1), and only hit paths matching
    `only` (all paths when empty). `forbidden`/`not_found` patterns always answer 403/404.
    """

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    rate_limits: dict[str, tuple[int, float]] = field(default_factory=dict)
    retry_after_format: str = "seconds"  # or "http-date"
    error_rate: float = 0.0
    error_retry_after: int = 1  # seconds, sent with injected 503s
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    reset_rate: float = 0.0
    truncate_rate: float = 0.0
    forbidden: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    only: list[str] = field(default_factory=list)
    seed: int = 0  # read when the middleware starts or `FaultMiddleware.reset()` is called


class SimulatedConnectionReset(httpx.ReadError, ConnectionResetError):
    """Raised for a reset connection.

    Through `httpx.ASGITransport` the app's exception reaches the client as is; being an
    `httpx.ReadError` as well, it lands in the same `except httpx.TransportError` branch a
    real reset would. (Under uvicorn, an exception before the response starts becomes
    uvicorn's own 500; see `FaultMiddleware`.)
    """


class SimulatedTruncatedBody(httpx.RemoteProtocolError):
    """Raised after half a body was sent: what httpx raises when a peer closes mid-body."""


def authorization_key(scope) -> str:
    """Default caller identity for rate limiting: a hash of the Authorization header."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            return "auth:" + hashlib.sha256(value).hexdigest()[:16]
    return "anonymous"


def product_kind(path: str) -> str:
    """Which product's error body a path gets: "admin", "confluence_v2", "confluence" or "jira"."""
    if "/admin/" in path or path.startswith("/admin") or "/manage/" in path:
        return "admin"
    if "/wiki/api/v2/" in path:
        return "confluence_v2"
    if "/wiki/" in path:
        return "confluence"
    return "jira"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Limit(NamedTuple):
    """A rate limit: `requests` refilled evenly over `per_seconds`; a bucket of `burst` tokens
    (default `requests`); one bucket per caller, or per endpoint (`per="endpoint"`)."""

    requests: int
    per_seconds: float
    per: str = "caller"
    burst: int | None = None


_ID_SEGMENT = re.compile(r"\d")


def _host(path: str) -> str:
    """The simulated host a path is served on: `/site/<name>`, `/gateway`, `/dc/<instance>`."""
    parts = path.split("/")
    return "/".join(parts[:3]) if len(parts) > 2 and parts[1] in ("site", "dc") else "/".join(parts[:2])


def _template(path: str) -> str:
    return "/".join("*" if _ID_SEGMENT.search(part) else part for part in path.split("/"))


@dataclass
class _Bucket:
    capacity: int
    per_seconds: float
    tokens: float
    stamp: float
    requests: int = 0  # refilled per `per_seconds` (default: `capacity`)

    @property
    def rate(self) -> float:
        return (self.requests or self.capacity) / self.per_seconds if self.per_seconds > 0 else 0.0

    def refill(self, now: float) -> None:
        if self.per_seconds > 0:
            self.tokens = min(float(self.capacity), self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now

    def wait(self) -> float:
        """Seconds until one token is back."""
        if self.tokens >= 1:
            return 0.0
        if self.capacity <= 0 or self.per_seconds <= 0:
            return max(self.per_seconds, 1.0)
        return (1 - self.tokens) / self.rate


@dataclass
class _Decision:
    delay: float = 0.0
    fault: str | None = None
    status: int | None = None
    limit_bucket: _Bucket | None = None
    retry_after: int = 0
    near_limit: bool = False
    tightest: _Bucket | None = None  # the matched bucket with the fewest tokens left: its headers are sent


_MESSAGES = {
    403: "You do not have permission to access this resource.",
    404: "The requested resource was not found.",
    429: "Rate limit exceeded.",
    500: "Internal server error.",
    502: "Bad gateway.",
    503: "Service unavailable.",
}


class FaultMiddleware:
    """Pure ASGI middleware injecting the faults of a `FaultConfig`.

    `log` is the `RequestLog` of the `RequestLogMiddleware` that must wrap this one: if a
    request arrives that it is not logging, this raises (a fault nobody can see is worse
    than no fault). Pass None to skip the check.

    `key_fn(scope)` names the caller for rate limiting (the auth layer runs later, inside).
    `clock` (monotonic seconds) drives the buckets, `wall_clock` the `X-RateLimit-Reset` and
    HTTP-date `Retry-After` values, `sleep` the latency and timeouts. `date_of(scope)`, when given,
    is the server's clock for that request (the simulated organization's): a faulted answer then
    carries it as `Date` and dates `Retry-After` and `X-RateLimit-Reset` on it, so a client that
    measures one against the other waits what was meant, not the gap between two clocks.

    Resets and truncations end by raising. Through `httpx.ASGITransport` the client sees
    that exception (or, with `raise_app_exceptions=False`, the half body). Under uvicorn a
    truncation closes the socket mid-body, and a reset announces a body and closes before
    its first byte (ASGI has no way to drop a connection unanswered: raising before the
    response starts would make uvicorn answer a plain-text 500). The request log records
    a reset with no status.
    """

    def __init__(
        self,
        app,
        config: FaultConfig,
        log: RequestLog | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
        *,
        key_fn: Callable[[dict], str] = authorization_key,
        wall_clock: Callable[[], datetime] = _utcnow,
        date_of: Callable[[dict], datetime] | None = None,
    ):
        self.app = app
        self.config = config
        self.log = log
        self.clock = clock
        self.sleep = sleep
        self.key_fn = key_fn
        self.wall_clock = wall_clock
        self.date_of = date_of
        self._lock = threading.Lock()
        self._rng = random.Random(config.seed)
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def reset(self, seed: int | None = None) -> None:
        """Refill every bucket and restart the random sequence (from `seed` or `config.seed`)."""
        with self._lock:
            self._buckets.clear()
            self._rng = random.Random(self.config.seed if seed is None else seed)

    # --- decisions (synchronous, under the lock) ---

    def _decide(self, scope) -> _Decision:
        cfg = self.config
        path = scope["path"]
        decision = _Decision()
        with self._lock:
            jitter = self._rng.uniform(0, cfg.latency_jitter_ms) if cfg.latency_jitter_ms > 0 else 0.0
            decision.delay = max(0.0, cfg.latency_ms + jitter) / 1000
            if cfg.rate_limits and self._take_tokens(scope, decision):
                return decision
            if any(fnmatchcase(path, p) for p in cfg.forbidden):
                decision.fault, decision.status = "forbidden", 403
                return decision
            if any(fnmatchcase(path, p) for p in cfg.not_found):
                decision.fault, decision.status = "not_found", 404
                return decision
            rates = (cfg.error_rate, cfg.timeout_rate, cfg.reset_rate, cfg.truncate_rate)
            if sum(rates) <= 0 or (cfg.only and not any(fnmatchcase(path, p) for p in cfg.only)):
                return decision
            roll = self._rng.random()
            for name, rate in zip(("error", "timeout", "reset", "truncate"), rates, strict=True):
                if roll < rate:
                    decision.fault = name
                    break
                roll -= rate
            if decision.fault == "error":
                decision.status = self._rng.choice((500, 502, 503))
        return decision

    def _take_tokens(self, scope, decision: _Decision) -> bool:
        """Spend one token from every bucket the path matches; True (and a 429 decision) if one is empty."""
        path, now = scope["path"], self.clock()
        buckets = []
        for pattern, value in self.config.rate_limits.items():
            if not fnmatchcase(path, pattern):
                continue
            limit = Limit(*value)
            who = f"{scope.get('method', 'GET')} {_template(path)}" if limit.per == "endpoint" else self.key_fn(scope)
            key = (pattern, _host(path), who)
            capacity = limit.burst or limit.requests
            bucket = self._buckets.get(key)
            if bucket is None or (bucket.capacity, bucket.per_seconds, bucket.requests) != (
                    capacity, limit.per_seconds, limit.requests):
                bucket = self._buckets[key] = _Bucket(capacity, limit.per_seconds, float(capacity), now,
                                                      limit.requests)
            bucket.refill(now)
            buckets.append(bucket)
        empty = [b for b in buckets if b.tokens < 1]
        if empty:
            worst = max(empty, key=_Bucket.wait)
            decision.fault, decision.status = "rate_limit", 429
            decision.limit_bucket = worst
            decision.retry_after = max(1, math.ceil(worst.wait()))
            return True
        for bucket in buckets:
            bucket.tokens -= 1
        decision.near_limit = any(b.tokens < 0.2 * b.capacity for b in buckets)
        decision.tightest = min(buckets, key=lambda b: b.tokens / b.capacity, default=None)
        return False

    # --- responses ---

    def _retry_after(self, seconds: int, now: datetime) -> str:
        if self.config.retry_after_format == "http-date":
            return format_datetime(now + timedelta(seconds=seconds), usegmt=True)
        return str(seconds)

    def _rate_limit_headers(self, path: str, decision: _Decision, now: datetime) -> dict[str, str]:
        reset = now.astimezone(UTC) + timedelta(seconds=decision.retry_after)
        if reset.second or reset.microsecond:  # the format has minutes only: round up, never early
            reset = reset.replace(second=0, microsecond=0) + timedelta(minutes=1)
        headers = {
            "Retry-After": self._retry_after(decision.retry_after, now),
            "X-RateLimit-Limit": str(decision.limit_bucket.capacity),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
        }
        kind = product_kind(path)
        if path.startswith("/dc/"):
            headers.update(_dc_headers(decision.limit_bucket))
        elif kind != "admin" and ("/rest/" in path or "/wiki/" in path):
            headers["RateLimit-Reason"] = "jira-burst-based"
        return headers

    async def _answer(self, scope, receive, send, decision: _Decision) -> None:
        path = scope["path"]
        headers: dict[str, str] = {}
        now = self.date_of(scope) if self.date_of is not None else self.wall_clock()
        if decision.status == 429:
            headers = self._rate_limit_headers(path, decision, now)
        elif decision.status == 503:
            headers = {"Retry-After": self._retry_after(self.config.error_retry_after, now)}
        if self.date_of is not None:
            headers["Date"] = format_datetime(now.astimezone(UTC), usegmt=True)
        response = error_response(product_kind(path), decision.status, _MESSAGES[decision.status], headers=headers)
        await response(scope, receive, send)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if self.log is not None and state.get(LOG_MARKER) is not self.log:
            raise RuntimeError("FaultMiddleware must be wrapped by RequestLogMiddleware with the same RequestLog")
        decision = self._decide(scope)
        state["fault"] = decision.fault
        if decision.delay > 0:
            await self.sleep(decision.delay)
        if decision.status is not None:
            await self._answer(scope, receive, send, decision)
            return
        if decision.fault == "reset":
            # Announce a body and drop the connection before any byte of it: over a socket the client
            # sees a transport error (uvicorn closes the connection), not an HTTP answer.
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")]})
            raise SimulatedConnectionReset("Connection reset by peer (simulated)")
        if decision.fault == "timeout":
            await self.sleep(self.config.timeout_seconds)
        send = _with_limit_headers(send, _served_headers(scope["path"], decision))
        if decision.fault == "truncate":
            await self._truncated(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _truncated(self, scope, receive, send) -> None:
        """Run the app, announce its full Content-Length, send half the body, then fail."""
        messages: list[dict] = []

        async def collect(message) -> None:
            messages.append(message)

        await self.app(scope, receive, collect)
        start = next(m for m in messages if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        raise SimulatedTruncatedBody(
            f"peer closed connection without sending complete message body: "
            f"received {len(body) // 2} bytes, expected {len(body)} (simulated)"
        )


def _dc_headers(bucket: _Bucket) -> dict[str, str]:
    """Data Center announces its whole (admin-configured) bucket: size, refill per interval, interval."""
    return {"X-RateLimit-Interval-Seconds": f"{bucket.per_seconds:g}",
            "X-RateLimit-FillRate": str(bucket.requests or bucket.capacity)}


def _served_headers(path: str, decision: _Decision) -> list[tuple[bytes, bytes]]:
    """The rate-limit headers of an answer that was let through: the tightest bucket's size and what is
    left of it, `NearLimit` under 20 % (Cloud), the bucket itself and `retry-after: 0` (Data Center)."""
    bucket = decision.tightest
    if bucket is None:
        return []
    headers = {"X-RateLimit-Limit": str(bucket.capacity), "X-RateLimit-Remaining": str(max(0, int(bucket.tokens)))}
    if path.startswith("/dc/"):
        headers.update(_dc_headers(bucket), **{"Retry-After": "0"})
    elif decision.near_limit:
        headers["X-RateLimit-NearLimit"] = "true"
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]


def _with_limit_headers(send, headers: list[tuple[bytes, bytes]]):
    """Wrap `send` to add rate-limit headers to the response."""
    if not headers:
        return send

    async def wrapped(message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *headers]}
        await send(message)

    return wrapped
