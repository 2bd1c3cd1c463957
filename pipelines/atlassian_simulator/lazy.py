"""Audit logs that are generated on demand.

A large organization has about a million audit events; holding them as objects
would cost gigabytes and minutes. An `EventLog` instead has a *base* of `count`
events whose time is an arithmetic function of their index (so a time window is
found by binary search without generating anything) and whose content is built
from `(seed, index)` only when a page needs it. Events added later (planted
detections, time travel, late arrivals) are a small sorted list merged in.

Each event has a `time` (when it happened) and a `processed_at` (when the log
made it visible). A late event has `time` before the previous load and
`processed_at` after it: it is invisible until the clock passes `processed_at`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9000, 1, 1, tzinfo=UTC)
PROCESSING_DELAY = timedelta(seconds=30)


def to_ms(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


@dataclass(slots=True)
class AuditEvent:
    """One audit record, product-neutral; the routes render it in each product's shape.

    `action` is the product's own name for what happened: an org event action id
    (`user_logged_in_as_user`), a Jira/Confluence audit summary ("User added to group"),
    or a DC audit action. `fields` holds the rest (object, changed values, location, ...).
    """

    event_id: str
    time: datetime
    processed_at: datetime
    action: str
    actor_id: str | None
    fields: dict = field(default_factory=dict)


class _Window(Sequence):
    """Events of one log inside a key range, in key order, built lazily on slicing."""

    def __init__(self, log: EventLog, base_lo: int, base_hi: int, extras: list[AuditEvent], key: str):
        self._log = log
        self._lo = base_lo
        self._hi = base_hi
        self._extras = extras
        # merged position of each extra: base events strictly before it + extras before it
        self._extra_pos = [
            log._base_rank(getattr(event, key), key, base_lo, base_hi) - base_lo + j
            for j, event in enumerate(extras)
        ]

    def __len__(self) -> int:
        return (self._hi - self._lo) + len(self._extras)

    def _at(self, position: int) -> AuditEvent:
        j = bisect.bisect_left(self._extra_pos, position)
        if j < len(self._extra_pos) and self._extra_pos[j] == position:
            return self._extras[j]
        return self._log.base_event(self._lo + position - j)

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [self._at(p) for p in range(*item.indices(len(self)))]
        if item < 0:
            item += len(self)
        if not 0 <= item < len(self):
            raise IndexError(item)
        return self._at(item)


class Reversed(Sequence):
    """A read-only reversed view of a lazy sequence (newest first)."""

    def __init__(self, inner: Sequence):
        self._inner = inner

    def __len__(self) -> int:
        return len(self._inner)

    def __getitem__(self, item):
        n = len(self._inner)
        if isinstance(item, slice):
            return [self._inner[n - 1 - p] for p in range(*item.indices(n))]
        if item < 0:
            item += n
        return self._inner[n - 1 - item]


class EventLog:
    """`count` base events spread evenly over [start, end), plus explicit extras."""

    def __init__(
        self,
        start: datetime,
        end: datetime,
        count: int,
        factory: Callable[[int, datetime], AuditEvent],
        index_of: Callable[[str], int | None] = lambda event_id: None,
    ):
        self._index_of = index_of
        self._delay_ms = PROCESSING_DELAY // timedelta(milliseconds=1)
        self.start_ms = to_ms(start)
        self.end_ms = to_ms(end)
        self.count = count
        self._factory = factory
        self.extras: list[AuditEvent] = []

    # The base: event i happens at start + i * span / count (integer ms, monotonic in i).
    def base_time_ms(self, index: int) -> int:
        return self.start_ms + (index * (self.end_ms - self.start_ms)) // max(self.count, 1)

    def base_event(self, index: int) -> AuditEvent:
        time = from_ms(self.base_time_ms(index))
        event = self._factory(index, time)
        event.processed_at = time + PROCESSING_DELAY
        return event

    def _base_rank(self, moment: datetime, key: str, lo: int, hi: int) -> int:
        """Index of the first base event in [lo, hi) whose key is >= moment.

        Base times are `start + floor(i * span / count)`, so the answer is computed, not searched:
        the first i with `i * span / count >= target - start` is a ceiling division.
        """
        target = to_ms(moment) - (self._delay_ms if key == "processed_at" else 0)
        span = self.end_ms - self.start_ms
        if span <= 0 or self.count == 0:
            return lo if target <= self.start_ms else hi
        offset = target - self.start_ms
        guess = -((-offset * self.count) // span) if offset > 0 else 0
        guess = min(max(guess, lo), hi)
        while guess > lo and self.base_time_ms(guess - 1) >= target:  # exact already; kept as a guard
            guess -= 1
        while guess < hi and self.base_time_ms(guess) < target:
            guess += 1
        return guess

    def add(self, event: AuditEvent) -> None:
        bisect.insort(self.extras, event, key=lambda e: (e.time, e.event_id))

    def window(
        self,
        visible_at: datetime,
        since: datetime | None = None,
        until: datetime | None = None,
        key: str = "time",
    ) -> Sequence[AuditEvent]:
        """Events visible at `visible_at` with since <= key <= until, ascending by `key`."""
        lo_moment = since or EPOCH
        hi_moment = until or FAR_FUTURE
        lo = self._base_rank(lo_moment, key, 0, self.count)
        hi = self._base_rank(hi_moment + timedelta(milliseconds=1), key, lo, self.count)
        # base events are processed when generated; those processed after visible_at stay hidden
        hidden_from = self._base_rank(visible_at + timedelta(milliseconds=1), "processed_at", 0, self.count)
        hi = min(hi, hidden_from)
        extras = sorted(
            (
                e
                for e in self.extras
                if e.processed_at <= visible_at and lo_moment <= getattr(e, key) <= hi_moment
            ),
            key=lambda e: (getattr(e, key), e.event_id),
        )
        return _Window(self, lo, max(lo, hi), extras, key)

    def find(self, event_id: str, visible_at: datetime) -> AuditEvent | None:
        for event in self.extras:
            if event.event_id == event_id and event.processed_at <= visible_at:
                return event
        index = self._index_of(event_id)
        if index is not None and 0 <= index < self.count:
            event = self.base_event(index)
            return event if event.processed_at <= visible_at else None
        return None
