"""Pages one resource reads, handed to another resource of the same run that needs the same listing.

Some listings feed two tables (a site's group members feed Jira's and Confluence's tables; the
managed accounts feed their table and the authentication-policy bulk fetch). Caching whole
listings would hold tens of thousands of accounts in memory; reading them twice doubles their
cost. Instead the resource that owns the listing streams it, and `put`s each page (or what the
other needs of it) here; the other resource `take`s the pages as they come.

The taker waits by yielding None, and drains what was read on each turn, so at most a page or two sit
here. In dlt's round-robin (one thread) the None lets dlt move on to the reader; with parallelized
resources (each in an extract worker thread) the taker first waits a moment for the reader's next
page, so it neither spins nor holds a worker for long.
Whether a pair shares is decided once per run, from the resources dlt selected (`RunFacts.selected`,
complete before any resource runs): iterating one resource alone, or a run without the reader,
reads the listing itself as before. Both sides must visit their tenants in the same order.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator
from dataclasses import dataclass, field

from atlassian_posture.connector.http import AtlassianError, RequestStats


class Reading:
    """One reader's listing of one tenant (`Handover.reading`). Set `stats` to the reader's coverage stats:
    what it was refused is the taker's too."""

    def __init__(self, handover: Handover, channel: tuple[str, str, Hashable], shared: bool):
        self.handover, self.channel, self.shared = handover, channel, shared
        self.stats = RequestStats()
        self.failure: Exception | None = AtlassianError(f"{channel[0]} stopped before the end of its listing")

    def pages(self, pages: Iterable, convert: Callable = lambda page: page) -> Iterator:
        """`pages` as they are read, each handed over first (as `convert` makes it, before the reader's own
        row cleaning changes it); an error of the listing is the taker's outcome too."""
        try:
            for page in pages:
                if self.shared:
                    self.handover.put(*self.channel, convert(page))
                yield page
        except Exception as exc:
            self.failure = exc
            raise
        self.failure = None

TAKER_WAIT_S = 0.05  # how long a taker in a worker thread waits for a page before yielding None


@dataclass
class _Channel:
    pages: deque = field(default_factory=deque)  # read, not yet taken
    done: bool = False
    stats: RequestStats | None = None  # the reader's, once done: what it was refused is the taker's too
    failure: Exception | None = None
    released: bool = False  # the taker stopped (its own call failed): pages read from now on are dropped


class Handover:
    """Channels between reader and taker resources, per (reader, taker, tenant), for one run."""

    def __init__(self, selected: Collection[str] = ()):
        self._selected = selected  # filled by dlt's selection before any resource runs
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # a page put, or a channel closed or released
        self._channels: dict[Hashable, _Channel] = {}
        self._decided: dict[tuple[str, str], bool] = {}

    def shared(self, reader: str, taker: str, tenant: Hashable) -> bool:
        """Whether `reader` hands this tenant's pages to `taker` in this run (both ask; both get the same answer)."""
        with self._lock:
            pair = (reader, taker)
            if pair not in self._decided:
                self._decided[pair] = {reader, taker} <= set(self._selected)
            if self._decided[pair]:
                self._channels.setdefault((reader, taker, tenant), _Channel())
            return self._decided[pair]

    @contextlib.contextmanager
    def reading(self, reader: str, taker: str, tenant: Hashable, when: bool = True) -> Iterator[Reading]:
        """Around the reader's listing of one tenant: its `pages` are handed over if the pair shares (and
        `when`), and the taker learns how it ended when the block ends, however it ends."""
        reading = Reading(self, (reader, taker, tenant), when and self.shared(reader, taker, tenant))
        try:
            yield reading
        finally:
            if reading.shared:
                self.close(reader, taker, tenant, reading.stats, reading.failure)

    def put(self, reader: str, taker: str, tenant: Hashable, page) -> None:
        with self._lock:
            channel = self._channels[(reader, taker, tenant)]
            if not channel.released:
                channel.pages.append(page)
            self._arrived.notify_all()

    def release(self, reader: str, taker: str, tenant: Hashable) -> None:
        """The taker needs no more pages of this tenant (it failed on its own): nothing more is kept for it."""
        with self._lock:
            channel = self._channels[(reader, taker, tenant)]
            channel.released = True
            channel.pages.clear()
            self._arrived.notify_all()

    def close(self, reader: str, taker: str, tenant: Hashable, stats: RequestStats,
              failure: Exception | None) -> None:
        with self._lock:
            channel = self._channels[(reader, taker, tenant)]
            channel.done, channel.stats, channel.failure = True, stats, failure
            self._arrived.notify_all()

    def take(self, reader: str, taker: str, tenant: Hashable) -> Iterator:
        """The pages as they are read, None while waiting for more; ends when the reader is done."""
        parallel = threading.current_thread() is not threading.main_thread()  # a dlt extract worker
        while True:
            with self._lock:
                channel = self._channels[(reader, taker, tenant)]
                if parallel and not channel.pages and not channel.done:
                    self._arrived.wait(TAKER_WAIT_S)
                ready = list(channel.pages)
                channel.pages.clear()
                done = channel.done
            yield from ready
            if done:
                return
            if not ready:
                yield None

    def result(self, reader: str, taker: str, tenant: Hashable) -> tuple[RequestStats, Exception | None]:
        """After `take` ended: the reader's counts (its refused items) and its failure, if any."""
        channel = self._channels[(reader, taker, tenant)]
        return channel.stats or RequestStats(), channel.failure

    def outcome(self, reader: str, taker: str, tenant: Hashable, stats: RequestStats) -> None:
        """After `take` ended: the reader's refused items counted in `stats`; its failure raised."""
        channel = self._channels[(reader, taker, tenant)]
        stats.count_items_of(channel.stats)
        if channel.failure is not None:
            raise channel.failure
