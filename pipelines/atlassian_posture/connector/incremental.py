"""Incremental audit logs: the server's clock, and one cursor with an overlap window and the ids already loaded.

Every audit log loads the same way: Jira Cloud (`auditing/record`), Atlassian Audit on Jira and
Confluence Data Center, Confluence Cloud (`/audit`), and the org events stream when the server
refuses its saved cursor. Each run asks for [newest loaded record - AUDIT_OVERLAP_HOURS, the
server's now]: events that arrive late (Atlassian's logs are eventually consistent), up to the
overlap, are caught; the records already loaded inside the overlap are skipped by id, so an
unchanged log loads nothing and a re-read cannot duplicate. The window's end is the server's
clock, never ours: paging stays stable while the log grows, and a skewed local clock cannot
hide records.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta

import dlt
import httpx

from atlassian_posture.connector.helpers import Scope
from atlassian_posture.connector.http import AtlassianClient, RequestStats
from atlassian_posture.connector.settings import AUDIT_OVERLAP_HOURS

OVERLAP_MS = int(timedelta(hours=AUDIT_OVERLAP_HOURS) / timedelta(milliseconds=1))


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def parse_time(value: str) -> datetime:
    """Jira's `2026-10-30T09:00:00.000+0000`, or ISO 8601 with `Z`, as an aware UTC datetime (naive = UTC)."""
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def server_now(client: AtlassianClient, response: httpx.Response | None = None) -> datetime:
    """The server's clock, so audit windows follow the tenant, not this machine.

    From `response` (a cheap call made for this): its body's `serverTime` where it has one
    (Jira's serverInfo, in milliseconds), else its `Date` header; without either, the `Date` of
    the client's last response, and only then our own clock.
    """
    if response is not None:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("serverTime"), str):
            try:
                return parse_time(body["serverTime"])
            except ValueError:
                pass
        header = response.headers.get("date")
        if header:
            try:
                return email.utils.parsedate_to_datetime(header).astimezone(UTC)
            except (TypeError, ValueError):
                pass
    return (client.last_date or datetime.now(UTC)).astimezone(UTC)


def tenant_state(scope: Scope) -> dict:
    """This tenant's dict in the running resource's dlt state (`tenants.<label>`)."""
    return dlt.current.resource_state().setdefault("tenants", {}).setdefault(scope.label, {})


class AuditCursor:
    """One tenant's position in one audit log, kept in its dict of the resource's dlt state.

    State: `<newest_key>` (the newest record time loaded, epoch ms; `max_ms` unless the log
    names it otherwise: the org stream's `processed_ms` is its processing time) and `recent`
    (id -> time of the records loaded within AUDIT_OVERLAP_HOURS of it). Ids are remembered
    only inside that overlap, which keeps the state and this run's memory bounded however long
    the window. `is_new` skips what was loaded before (and counts it off `stats`, which
    `paginate` fed every record read: coverage counts the rows loaded, not the re-read);
    nothing reaches the state before `commit`, so the caller decides when a window counts as
    read: after the whole window for a log read newest first (a run that fails half-way asks
    for the same window again), after every page for the org stream, whose saved position
    moves page by page.
    """

    def __init__(self, state: dict, stats: RequestStats | None = None, newest_key: str = "max_ms"):
        self._state = state
        self._stats = stats
        self._newest_key = newest_key
        newest = state.get(newest_key)
        self.newest: int | None = int(newest) if newest is not None else None
        self.recent: dict[str, int] = dict(state.get("recent") or {})

    @property
    def resume_ms(self) -> int | None:
        """Where the next window starts: the newest record loaded minus the overlap; None before the first load."""
        return self.newest - OVERLAP_MS if self.newest is not None else None

    def is_new(self, record_id, moment_ms: int | None) -> bool:
        """True for a record not loaded before (remembered from now on); one without an id or a time is always new."""
        if record_id is None:
            return True
        key = str(record_id)
        if key in self.recent:
            if self._stats is not None:
                self._stats.add(rows=-1)
            return False
        if moment_ms is not None:
            self.newest = moment_ms if self.newest is None else max(self.newest, moment_ms)
            if moment_ms >= self.newest - OVERLAP_MS:  # only ids inside the overlap are worth remembering
                self.recent[key] = moment_ms
        return True

    def commit(self) -> None:
        """Save the position and the ids inside the overlap of it (older ones can no longer come back)."""
        if self.newest is None:
            return
        floor = self.newest - OVERLAP_MS
        self.recent = {k: v for k, v in self.recent.items() if v >= floor}
        self._state[self._newest_key] = self.newest
        self._state["recent"] = dict(self.recent)


def incremental_audit(state: dict, pages: Callable[[int, int], Iterable[list[dict]]], *, now_ms: int,
                      initial_ms: int, time_ms: Callable[[dict], int | None], record_id: Callable[[dict], object],
                      stamp: Callable[[dict, str], dict], stats: RequestStats | None = None
                      ) -> Iterator[list[dict]]:
    """Yield the audit records not loaded before, page by page, and advance `state` once the log was read.

    `pages(start_ms, end_ms)` reads the window [newest loaded - overlap (or `initial_ms` the
    first time), `now_ms`]; `time_ms`, `record_id` and `stamp(record, id)` read a record's time
    and id and make it a row. The cursor moves only after the whole window was read: the logs
    come newest first, so a position taken half-way would skip what was not read yet.
    """
    cursor = AuditCursor(state, stats)
    start_ms = cursor.resume_ms
    for page in pages(initial_ms if start_ms is None else start_ms, now_ms):
        out = []
        for record in page:
            rid = record_id(record)
            if cursor.is_new(rid, time_ms(record)):
                out.append(stamp(record, str(rid)))
        if out:
            yield out
    cursor.commit()


# A cheap call per product whose response carries the server's clock (Date header; Jira also serverTime)
DC_CLOCK_PATH = {"jira": "/rest/api/2/serverInfo", "confluence": "/rest/api/server-information"}


def jira_time(moment: datetime) -> str:
    """Jira's own date-time form, accepted by auditing/record's `from`/`to`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def iso_z(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
