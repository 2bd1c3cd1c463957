"""Client-side rate budgets: pace requests so Atlassian's limits are spent, not hit.

One token bucket per client (a credential on a base URL, so per credential and per site or
org) and endpoint family. A family is the documented limit's path pattern (settings.RATE_LIMITS:
the Admin API's audit endpoints at 10/min, the events stream, last-active dates), or else the
method and the path with its ids wildcarded (Jira/Confluence Cloud burst limits are per
endpoint and method). A bucket exists when a limit is known:

- documented (settings.RATE_LIMITS), its size replaced by `X-RateLimit-Limit` when the server
  announces a different one (the period stays the documented one);
- announced: Data Center's `X-RateLimit-Limit`/`X-RateLimit-FillRate`/`X-RateLimit-Interval-Seconds`
  (an admin-configured bucket per user: one bucket for all the client's requests, `EVERY`), or a `RateLimit-Reason` naming a burst limit (per second) with
  `X-RateLimit-Limit`;
- learned from a 429 that says nothing else: one request per `Retry-After`, sped up again
  while requests succeed.

`X-RateLimit-Remaining` and `X-RateLimit-NearLimit` drain the bucket to what the server says is
left (none left and an `X-RateLimit-Reset`: a fixed window, wait for the next); a 429 blocks the
family until its `Retry-After` and slows it down. Families without a
bucket are only concurrency-limited (http.HostLimiter).

The buckets use GCRA (a "virtual scheduling" token bucket): `reserve()` books the next send
time and returns how long to wait, so waiting threads are served in order, and a test drives
it with a fake clock.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase

import httpx

from atlassian_posture.connector.settings import RATE_LIMITS, RATE_MARGIN

_ID_SEGMENT = re.compile(r"\d")
EVERY = "*"  # the bucket of every request of the client (Data Center limits a user, not an endpoint)


def family(method: str, path: str) -> str:
    """The endpoint family a limit applies to: a documented pattern, else method + templated path."""
    for pattern in RATE_LIMITS:
        if fnmatchcase(path, pattern):
            return pattern
    return f"{method} " + "/".join("*" if _ID_SEGMENT.search(part) else part for part in path.split("/"))


@dataclass
class Bucket:
    rate: float  # requests per second we allow ourselves
    capacity: float  # burst: requests that may go at once when the bucket is full
    ceiling: float  # the known limit's rate: speeding up again never goes above it (inf: unknown)
    source: str  # documented | announced | learned
    tat: float = 0.0  # GCRA theoretical arrival time (monotonic seconds)
    successes: int = 0
    announced: tuple[float, float] | None = None  # the server's last word (rate, burst): a change resets us

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    @property
    def tolerance(self) -> float:
        return max(self.capacity - 1, 0) * self.interval

    def reserve(self, now: float) -> float:
        """Book the next request: seconds to wait before sending it."""
        send = max(now, self.tat - self.tolerance)
        self.tat = max(self.tat, send) + self.interval
        return send - now

    def at_most(self, remaining: int, now: float) -> None:
        """The server says `remaining` requests are left: never burst more than that."""
        self.tat = max(self.tat, now + self.tolerance - (remaining - 1) * self.interval)

    def block(self, until: float) -> None:
        """Nothing before `until` (a 429's Retry-After), then paced (no burst)."""
        self.tat = max(self.tat, until + self.tolerance)

    def limit(self, rate: float, capacity: float, source: str) -> None:
        self.rate, self.capacity, self.ceiling, self.source = rate * RATE_MARGIN, capacity, rate * RATE_MARGIN, source


class RateBudget:
    """The buckets of one client, by endpoint family; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()
        for pattern, (requests, per_seconds) in RATE_LIMITS.items():
            rate = requests / per_seconds * RATE_MARGIN
            self.buckets[pattern] = Bucket(rate, max(1.0, requests * RATE_MARGIN // 1), rate, "documented")

    def reserve(self, key: str) -> float:
        """Seconds to wait before a request of family `key` may go (0 without a known limit): booked in
        the family's bucket and in the credential's (`EVERY`), when known."""
        with self._lock:
            now = self.clock()
            return max([bucket.reserve(now) for bucket in (self.buckets.get(key), self.buckets.get(EVERY)) if bucket],
                       default=0.0)

    @staticmethod
    def scope(key: str, response: httpx.Response) -> str:
        """Which bucket an answer's headers describe: Data Center's is the user's, over every endpoint."""
        return EVERY if response.headers.get("x-ratelimit-fillrate") else key

    def observe(self, key: str, response: httpx.Response, reset_in: float | None = None) -> None:
        """Learn from an answer's rate-limit headers (any status). `reset_in`: seconds until the
        `X-RateLimit-Reset` the answer gave (a fixed window's next period), if any."""
        headers = response.headers
        limit, remaining = _number(headers.get("x-ratelimit-limit")), _number(headers.get("x-ratelimit-remaining"))
        fill = _number(headers.get("x-ratelimit-fillrate"))
        interval = _number(headers.get("x-ratelimit-interval-seconds"))
        reason = headers.get("ratelimit-reason", "")
        with self._lock:
            now = self.clock()
            bucket = self.buckets.get(key)
            announced = None  # (requests per second, burst) the server says this family allows
            if fill and interval and fill > 0 and interval > 0:  # Data Center: the whole bucket is announced
                announced = (fill / interval, limit or fill)
            elif limit and key in RATE_LIMITS:  # a documented family: the server's size, the documented period
                announced = (limit / RATE_LIMITS[key][1], limit)
            elif limit and "burst" in reason.lower():  # Jira/Confluence Cloud: per second, per endpoint
                announced = (limit, limit)
            if announced and (bucket is None or bucket.announced != announced):
                self._set(key, *announced)
            bucket = self.buckets.get(key)
            if bucket is None:
                return
            if remaining is not None and response.status_code != 429:
                bucket.at_most(int(remaining), now)
                if remaining < 1 and reset_in is not None:  # a fixed window spent: nothing until the next
                    bucket.block(now + reset_in)
            elif headers.get("x-ratelimit-nearlimit", "").lower() == "true":
                bucket.at_most(max(1, int(bucket.capacity * 0.2)), now)
            if response.status_code < 400:
                bucket.successes += 1
                if bucket.rate < bucket.ceiling and bucket.successes >= max(bucket.capacity, 5):
                    bucket.rate, bucket.successes = min(bucket.ceiling, bucket.rate * 1.25), 0

    def throttled(self, key: str, retry_after: float, response: httpx.Response) -> bool:
        """A 429 for family `key`: learn what its headers say, block the family until `retry_after`
        seconds from now, and slow it down if it was paced already. True if it was (the host as a
        whole need not back off)."""
        with self._lock:
            known = key in self.buckets
        self.observe(key, response)
        with self._lock:
            now = self.clock()
            bucket = self.buckets.get(key)
            if bucket is None:  # nothing announced: one request per Retry-After to start with
                bucket = self.buckets[key] = Bucket(1.0 / max(retry_after, 0.1), 1.0, float("inf"), "learned")
            elif known:
                # paced and still refused: the limit is lower than we thought (or shared with another
                # client). The rate that failed bounds it from above; burst less, go slower, recover slowly.
                # A Retry-After of whole seconds (two or more) is at most about one token's refill: one
                # request per Retry-After is then about the server's rate, never pace faster than that
                bucket.ceiling = min(bucket.ceiling, bucket.rate * 0.9)
                bucket.capacity = max(1.0, bucket.capacity // 2)
                bucket.rate = max(bucket.rate * 0.75, 1e-3)
                if retry_after >= 2:
                    bucket.rate = min(bucket.rate, 1.0 / retry_after)
            bucket.successes = 0
            bucket.block(now + retry_after)
            return known

    def _set(self, key: str, rate: float, capacity: float) -> None:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(rate, capacity, rate, "announced")
        bucket.limit(rate, max(1.0, capacity * RATE_MARGIN // 1), "announced")
        bucket.announced = (rate, capacity)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None
