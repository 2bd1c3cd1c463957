"""Lazy audit logs: windows over a generated base plus explicit extras, never materialised."""

import random
from datetime import UTC, datetime, timedelta

from atlassian_simulator.lazy import PROCESSING_DELAY, AuditEvent, EventLog, Reversed, from_ms, to_ms

START = datetime(2026, 5, 1, tzinfo=UTC)


def _log(count: int, days: float) -> EventLog:
    return EventLog(START, START + timedelta(days=days), count, lambda i, t: AuditEvent(f"b{i}", t, t, "base", None))


def test_base_rank_equals_a_linear_search():
    rnd = random.Random(1)
    for count, days in ((7, 1), (1000, 180), (1999, 3), (5, 100), (1, 1)):
        log = _log(count, days)
        for _ in range(500):
            moment = from_ms(to_ms(START) + rnd.randint(-10**6, int(days * 86_400_000) + 10**6))
            for key, shift in (("time", 0), ("processed_at", PROCESSING_DELAY // timedelta(milliseconds=1))):
                lo = rnd.randint(0, count)
                hi = rnd.randint(lo, count)
                expected = next((i for i in range(lo, hi) if log.base_time_ms(i) + shift >= to_ms(moment)), hi)
                assert log._base_rank(moment, key, lo, hi) == expected


def test_window_merges_extras_in_order_and_hides_unprocessed_events():
    log = _log(100, 10)
    clock = START + timedelta(days=10)
    early = AuditEvent("x-early", START + timedelta(days=2, seconds=1), START + timedelta(days=2, seconds=31), "e", None)
    late = AuditEvent("x-late", START + timedelta(days=3), clock + timedelta(hours=1), "late", None)
    log.add(early)
    log.add(late)
    window = log.window(clock)
    events = window[:]
    assert len(window) == 101 and len(events) == 101
    assert [e.time for e in events] == sorted(e.time for e in events)
    assert "x-early" in [e.event_id for e in events] and "x-late" not in [e.event_id for e in events]
    later = log.window(clock + timedelta(hours=2))
    assert "x-late" in [e.event_id for e in later[:]]
    assert [e.event_id for e in Reversed(later)[:3]] == [e.event_id for e in later[-3:]][::-1]
    sub = log.window(clock, since=START + timedelta(days=2), until=START + timedelta(days=4))
    assert all(START + timedelta(days=2) <= e.time <= START + timedelta(days=4) for e in sub[:])
    assert log.find("x-late", clock) is None and log.find("x-late", clock + timedelta(hours=2)) is late


def test_a_million_events_window_is_answered_without_generating_them():
    made = []
    log = EventLog(START, START + timedelta(days=180), 1_000_000,
                   lambda i, t: made.append(i) or AuditEvent(str(i), t, t, "base", None))
    window = log.window(START + timedelta(days=200), since=START + timedelta(days=90))
    assert 499_000 < len(window) < 501_000
    page = window[1000:1100]
    assert len(page) == 100 and len(made) == 100
