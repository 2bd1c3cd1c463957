"""What the Confluence and apps resources share: one listing per tenant and run, row cleaning,
the server's clock, and the incremental audit loop (overlap window + ids already loaded)."""

from __future__ import annotations

import email.utils
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta

import dlt
import httpx

from pipelines.atlassian.helpers import Scope, fan_out
from pipelines.atlassian.http import AtlassianClient, AtlassianError, NotAvailable, RequestStats
from pipelines.atlassian.settings import AUDIT_OVERLAP_HOURS, CONFLUENCE_FAN_OUT_CHUNK

# Hypermedia links: `_links.self`/`base` name the host the row was read through (the site URL
# with a classic token, api.atlassian.com with a scoped one), so keeping them would make the
# same space look changed when a site switches token kind, and version every scd2 row.
LINK_KEYS = ("_links", "_expandable")
# Lineage columns that can be null in a whole load (no Admin API key: no org id; org-wide rows: no
# site): typed up front so dlt materialises them instead of warning.
LINEAGE_COLUMNS = {"_org_id": {"data_type": "text"}, "_site": {"data_type": "text"}}
SCD2 = {"disposition": "merge", "strategy": "scd2"}


def snapshot(name: str, **types: str):
    """A snapshot resource: scd2 history, rows retired per `_tenant` only (as in org.py); `types`
    fixes column types where Cloud and DC disagree (DC's numeric space ids vs Cloud's strings)."""
    columns = {**LINEAGE_COLUMNS, **{column: {"data_type": kind} for column, kind in types.items()}}
    return dlt.resource(name=name, write_disposition=SCD2, merge_key="_tenant", columns=columns)


def without_links(row: dict) -> dict:
    """The row minus its top-level `_links`/`_expandable` (navigation, not state)."""
    return {k: v for k, v in row.items() if k not in LINK_KEYS}


class Listings:
    """One parent listing per (kind, tenant) and run, shared by the resources that fan out over it.

    dlt runs resources round-robin in one thread, so several resources need the same parent
    list (spaces for permissions and role assignments, groups for members, UPM for the
    Marketplace). The first asks, the others reuse it; a failure is remembered and raised
    again to each, so every resource records the same outcome in coverage. Parent lists are
    small (the spaces, groups or UPM apps of one tenant: thousands of rows at most), unlike the
    fan-out results, which stream. The listing's requests are counted on the resource that asked
    first; its rows are counted by the resources that load them.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._done: dict[tuple, tuple[bool, object]] = {}

    def get(self, kind: str, scope: Scope, fetch: Callable[[RequestStats], list], stats: RequestStats) -> list:
        key = (kind, scope.label)
        with self._lock:
            if key not in self._done:
                own = RequestStats()
                try:
                    self._done[key] = (True, fetch(own))
                except AtlassianError as exc:
                    self._done[key] = (False, exc)
                finally:
                    stats.add(requests=own.requests, pages=own.pages, retries=own.retries, throttled=own.throttled)
            ok, value = self._done[key]
        if not ok:
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]

    def failed(self, kind: str, scope: Scope) -> bool:
        """Did this listing run and fail (so what depends on it is incomplete)?"""
        done = self._done.get((kind, scope.label))
        return done is not None and not done[0]


def fan_out_chunked(items: list, fetch: Callable) -> Iterator:
    """`fan_out` a chunk of parents at a time: results never pile up for more than a chunk."""
    for start in range(0, len(items), CONFLUENCE_FAN_OUT_CHUNK):
        yield from fan_out(items[start:start + CONFLUENCE_FAN_OUT_CHUNK], fetch)


def drop_missing(fetch: Callable):
    """Wrap a per-item fetch so an item that vanished since its parent listing (404) yields nothing."""

    def wrapped(item):
        try:
            return fetch(item)
        except NotAvailable:
            return []

    return wrapped


def server_now(client: AtlassianClient, response: httpx.Response | None = None) -> datetime:
    """The server's clock (its `Date` header): audit windows are pinned to it, never to ours."""
    header = response.headers.get("date") if response is not None else None
    if header:
        try:
            return email.utils.parsedate_to_datetime(header).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    return client.last_date or datetime.now(UTC)


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def incremental_audit(state: dict, pages: Callable[[int, int], Iterable[list[dict]]], *, now_ms: int,
                      initial_ms: int, time_ms: Callable[[dict], int | None], record_id: Callable[[dict], str],
                      stamp: Callable[[dict, str], dict], stats: RequestStats | None = None
                      ) -> Iterator[list[dict]]:
    """Yield the audit records not loaded before, page by page, and advance `state` once the log was read.

    `state` is this tenant's dict in the resource state: `max_ms` (newest record time loaded)
    and `recent` (id -> time of the records inside the overlap window). The window asked for is
    [`max_ms` - overlap, `now_ms`] (or [`initial_ms`, `now_ms`] the first time): events that
    arrive late, up to the overlap, are caught; records already loaded inside the overlap are
    skipped, so an unchanged log loads nothing. The state moves only after the whole window was
    read: a run that fails half-way asks for the same window again next time. `stats` (the
    coverage counters, which `paginate` fed every record read) ends up counting the rows loaded.
    """
    overlap_ms = int(timedelta(hours=AUDIT_OVERLAP_HOURS) / timedelta(milliseconds=1))
    last_max: int | None = state.get("max_ms")
    known: dict[str, int] = dict(state.get("recent") or {})
    start_ms = last_max - overlap_ms if last_max is not None else initial_ms
    newest = last_max
    fresh: dict[str, int] = {}
    skipped = 0
    for page in pages(start_ms, now_ms):
        out = []
        for record in page:
            rid = record_id(record)
            if rid in known or rid in fresh:
                skipped += 1
                continue
            moment = time_ms(record)
            if moment is not None:
                newest = moment if newest is None else max(newest, moment)
                if moment >= newest - overlap_ms:  # only ids inside the overlap are worth remembering
                    fresh[rid] = moment
            out.append(stamp(record, rid))
        if out:
            yield out
    if stats is not None:
        stats.add(rows=-skipped)  # coverage counts the rows loaded, not the overlap re-read
    if newest is not None:
        floor = newest - overlap_ms
        state["max_ms"] = newest
        state["recent"] = {k: v for k, v in {**known, **fresh}.items() if v >= floor}
