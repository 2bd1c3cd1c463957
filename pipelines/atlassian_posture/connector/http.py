"""The one HTTP client every Atlassian resource uses: read-only, polite, retrying, counted.

- Retries 429 and 503 (and other 5xx, timeouts, dropped connections) with exponential
  backoff and full jitter, honouring `Retry-After` (seconds or an HTTP date) and
  `X-RateLimit-Reset` when the server sends them.
- A rate budget per endpoint family (budget.py): documented limits (the Admin API's audit
  endpoints), limits the server announces in its headers, and limits learned from 429s are
  paced client-side, so requests wait their turn instead of being refused.
- A concurrency limit per host that halves when 429s come on a family without a budget and
  grows back by one after a run of successes (AIMD), so fan-out calls back off together.
- Only reads: GET, plus the few POST endpoints that are searches (users/groups search,
  workspaces, bulk fetches). Anything else raises before a byte is sent.
- Errors name the credential by its label, never its secret; 401 is fatal for the run,
  403/404 are a resource-level outcome the caller records in the coverage table.
"""

from __future__ import annotations

import email.utils
import ipaddress
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

import httpx

from atlassian_posture.connector.budget import RateBudget, family
from atlassian_posture.connector.settings import (
    MAX_LOST_RACES,
    MAX_RETRIES,
    READ_ONLY_POSTS,
    REQUEST_TIMEOUT_S,
    RETRY_CAP_S,
)


class AtlassianError(Exception):
    """An Atlassian call that failed for good. `str()` is one line a person can act on."""

    def __init__(self, message: str, status: int | None = None, url: str = ""):
        super().__init__(message)
        self.status = status
        self.url = url


class AuthenticationFailed(AtlassianError):
    """401: the credential is wrong, expired or used on the wrong host. Stops the run."""


class Forbidden(AtlassianError):
    """403: the credential lacks a permission (or the plan lacks a feature) for this resource."""


class NotAvailable(AtlassianError):
    """404 on a listing: the feature is not on this plan or product version."""


class MalformedResponse(AtlassianError):
    """The server answered 2xx with a body that is not the JSON the endpoint documents."""


def check_base_url(url: str) -> str:
    """Base URLs must be https, except loopback addresses (the simulator)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https":
        return url.rstrip("/")
    if parts.scheme == "http":
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return url.rstrip("/")
    raise ValueError(f"base URL {url!r} must use https (plain http is only allowed on loopback addresses)")


class HostLimiter:
    """Concurrency limit per host: halves on 429 (never below 1), +1 after `recover_after` successes."""

    def __init__(self, initial: int = 4, maximum: int = 8, recover_after: int = 20):
        self.limit = initial
        self.maximum = maximum
        self.recover_after = recover_after
        self.served = 0  # answers neither 429 nor 5xx: whether the host served anyone since a given moment
        self._in_flight = 0
        self._successes = 0
        self._cond = threading.Condition()

    def acquire(self) -> None:
        with self._cond:
            while self._in_flight >= self.limit:
                self._cond.wait()
            self._in_flight += 1

    def release(self, throttled: bool, served: bool = False) -> None:
        """`served`: the host answered (not 429, not 5xx): it had quota for this request."""
        with self._cond:
            self._in_flight -= 1
            self.served += served
            if throttled:
                self.limit = max(1, self.limit // 2)
                self._successes = 0
            else:
                self._successes += 1
                if self._successes >= self.recover_after and self.limit < self.maximum:
                    self.limit += 1
                    self._successes = 0
            self._cond.notify_all()


@dataclass
class RequestStats:
    """Counts for the coverage table, per resource: requests, pages, rows, retries, throttles."""

    requests: int = 0
    pages: int = 0
    rows: int = 0
    retries: int = 0
    throttled: int = 0
    # a fan-out's items (helpers.per_item): how many of each kind it asked for, and those refused (403)
    asked: dict[str, int] = field(default_factory=dict)
    refused: dict[str, list[tuple[str, dict]]] = field(default_factory=dict)  # kind -> [(name, hold columns)]
    last_request: str = ""  # "GET /path" of the latest request: where a malformed answer came from
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def ask(self, kind: str) -> None:
        with self._lock:
            self.asked[kind] = self.asked.get(kind, 0) + 1

    def refuse(self, kind: str, name: str, hold: dict) -> None:
        with self._lock:
            self.refused.setdefault(kind, []).append((name, hold))

    def refused_names(self, kind: str) -> set[str]:
        """The names of the `kind` items refused (403) so far."""
        with self._lock:
            return {name for name, _ in self.refused.get(kind, [])}

    def requested(self, what: str) -> None:
        self.last_request = what

    def count_items_of(self, other: RequestStats) -> None:
        """The fan-out items `other` asked for and was refused, counted here too (a listing another
        resource read for this one: its refused items are this table's as well)."""
        for kind, count in other.asked.items():
            for _ in range(count):
                self.ask(kind)
        for kind, items in other.refused.items():
            for name, hold in items:
                self.refuse(kind, name, hold)


def retry_delay(response: httpx.Response | None, attempt: int, now: Callable[[], datetime],
                rng: random.Random) -> float:
    """Seconds to wait before the next attempt: the server's word if it gave one, else backoff."""
    backoff = min(RETRY_CAP_S, 0.5 * 2**attempt) * rng.random()  # full jitter
    if response is None:
        return backoff
    retry_after = response.headers.get("retry-after")
    if retry_after:
        try:
            seconds = float(retry_after)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(retry_after)
            seconds = (parsed - now()).total_seconds() if parsed else 0.0
        return min(RETRY_CAP_S, max(seconds, 0.0) + rng.random() * 0.25)  # a little jitter: no thundering herd
    reset = reset_in(response, now)
    if reset is not None:
        return min(RETRY_CAP_S, reset + rng.random() * 0.25)
    return backoff


def reset_in(response: httpx.Response, now: Callable[[], datetime]) -> float | None:
    """Seconds until `X-RateLimit-Reset` (an ISO 8601 moment: the next period of a fixed window), if sent."""
    reset = response.headers.get("x-ratelimit-reset")
    if not reset:
        return None
    try:
        moment = datetime.fromisoformat(reset.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - now()).total_seconds(), 0.0)


class AtlassianClient:
    """A read-only client for one base URL and one credential (identified by `label` in messages)."""

    def __init__(self, base_url: str, auth: httpx.Auth | None, label: str, *, limiter: HostLimiter | None = None,
                 timeout: float = REQUEST_TIMEOUT_S, max_retries: int = MAX_RETRIES,
                 sleep: Callable[[float], None] = time.sleep, seed: int | None = None,
                 transport: httpx.BaseTransport | None = None, budget: RateBudget | None = None):
        self.base_url = check_base_url(base_url)
        self.label = label
        self.limiter = limiter or HostLimiter()
        self.budget = budget or RateBudget()  # this credential on this base URL: per credential and site/org
        self.max_retries = max_retries
        self.sleep = sleep
        self.rng = random.Random(seed)
        self.last_date: datetime | None = None  # the server's clock, from the Date header
        self._once: dict[str, httpx.Response] = {}  # `get_once`
        self._once_locks: dict[str, threading.Lock] = {}
        self._once_lock = threading.Lock()
        self._http = httpx.Client(auth=auth, timeout=timeout, transport=transport,
                                  headers={"Accept": "application/json", "User-Agent": "atlassian-posture"},
                                  follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AtlassianClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def get_once(self, path: str, stats: RequestStats | None = None) -> httpx.Response:
        """A GET whose answer does not change within a run (server info, a site's space-role mode), asked
        once per client, so once per run: later callers get the first answer (errors are not kept)."""
        with self._once_lock:
            lock = self._once_locks.setdefault(path, threading.Lock())
        with lock:
            if path not in self._once:
                self._once[path] = self.get(path, stats=stats)
            return self._once[path]

    def get(self, path: str, params: dict | None = None, stats: RequestStats | None = None) -> httpx.Response:
        return self.request("GET", path, params=params, stats=stats)

    def post_search(self, path: str, body: dict, stats: RequestStats | None = None) -> httpx.Response:
        """POST to an endpoint that only reads (a search or bulk fetch)."""
        return self.request("POST", path, json=body, stats=stats)

    def request(self, method: str, path: str, *, params: dict | None = None, json: dict | None = None,
                stats: RequestStats | None = None) -> httpx.Response:
        url = self.url(path)
        if method != "GET" and not (method == "POST" and any(fnmatchcase(urlsplit(url).path, p) for p in READ_ONLY_POSTS)):
            raise AtlassianError(f"refusing {method} {urlsplit(url).path}: the connector only reads from Atlassian")
        stats = stats or RequestStats()
        attempt = lost_races = 0
        served = self.limiter.served  # the host's answers so far: a 429 after others were served is a lost race
        key = family(method, urlsplit(url).path)
        while True:
            wait = self.budget.reserve(key)  # before taking a host slot: a paced family never holds one idle
            if wait > 0:  # after a 429, this is its Retry-After (the budget blocked the family till then)
                self.sleep(wait)
            self.limiter.acquire()
            response: httpx.Response | None = None
            throttled = paced = False
            try:
                stats.requested(f"{method} {urlsplit(url).path}")
                response = self._http.request(method, url, params=params, json=json)
                stats.add(requests=1)
                self._remember_date(response)
                throttled = response.status_code == 429
                server_now = lambda: self.last_date or datetime.now(UTC)  # noqa: E731
                scope = self.budget.scope(key, response)  # the family's bucket, or the credential's (DC)
                if throttled:  # the family's budget backs off; the whole host only if it had none
                    delay = retry_delay(response, attempt, server_now, self.rng)
                    paced = self.budget.throttled(scope, delay + 0.01, response)  # never early, by a clock tick
                else:
                    self.budget.observe(scope, response, reset_in(response, server_now))
            except httpx.TransportError as exc:  # timeouts, resets, truncated bodies
                stats.add(requests=1)
                failure = f"{type(exc).__name__}: {exc}"
            finally:
                self.limiter.release(throttled and not paced, served=response is not None
                                     and response.status_code < 500 and not throttled)
            if response is not None:
                status = response.status_code
                if status < 400:
                    return response
                if status == 401:
                    raise AuthenticationFailed(
                        f"{self.label} was rejected (401) by {urlsplit(self.base_url).netloc}: check the token "
                        f"or key, that it has not expired, and that it is meant for this host", status, url)
                if status == 403:
                    raise Forbidden(f"{self.label} may not read {urlsplit(url).path} (403): "
                                    f"{_reason(response)}", status, url)
                if status == 404:
                    raise NotAvailable(f"{urlsplit(url).path} is not available (404): {_reason(response)}", status, url)
                if status != 429 and status < 500:
                    raise AtlassianError(f"{method} {urlsplit(url).path} failed ({status}): {_reason(response)}",
                                         status, url)
                if throttled:
                    stats.add(throttled=1)
                    if self.limiter.served > served and lost_races < MAX_LOST_RACES:
                        # other requests got the quota since this one last tried: it lost a race, the host
                        # is serving; counting it as an attempt would fail one unlucky request of many
                        served, lost_races = self.limiter.served, lost_races + 1
                        stats.add(retries=1)
                        continue
                    served = self.limiter.served
                failure = f"HTTP {status}"
            if attempt >= self.max_retries:
                raise AtlassianError(f"{method} {urlsplit(url).path} still failing after {attempt + 1} attempts "
                                     f"({failure})", response.status_code if response is not None else None, url)
            stats.add(retries=1)
            if not throttled:  # a 429's wait is booked in the family's budget (top of the loop)
                self.sleep(retry_delay(response, attempt, lambda: self.last_date or datetime.now(UTC), self.rng))
            attempt += 1

    def json(self, response: httpx.Response):
        try:
            return response.json()
        except ValueError as exc:
            path = urlsplit(str(response.url)).path
            if "html" in response.headers.get("content-type", "") or response.text.lstrip()[:1] == "<":
                # a login page or a proxy's page served with 200: the request never reached the API
                raise MalformedResponse(f"{path} answered {response.status_code} with an HTML page, not JSON (a "
                                        f"login or proxy page?): check the base URL and that {self.label} reaches "
                                        f"the REST API directly", response.status_code, str(response.url)) from exc
            raise MalformedResponse(f"{path} answered {response.status_code} with a body that is not JSON",
                                    response.status_code, str(response.url)) from exc

    def _remember_date(self, response: httpx.Response) -> None:
        header = response.headers.get("date")
        if header:
            try:
                self.last_date = email.utils.parsedate_to_datetime(header)
            except (TypeError, ValueError):
                pass


def _reason(response: httpx.Response) -> str:
    """The server's own error message, shortened; never echoes request headers."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:160].strip() or response.reason_phrase
    if isinstance(body, dict):
        for key in ("errorMessages", "errors", "message"):
            value = body.get(key)
            if isinstance(value, list) and value:
                first = value[0]
                return str(first.get("title") or first.get("detail") or first) if isinstance(first, dict) else str(first)
            if isinstance(value, str) and value:
                return value
    return response.reason_phrase
