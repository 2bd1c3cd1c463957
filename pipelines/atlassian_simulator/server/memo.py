"""Per-request memos: a lookup the routes make many times while answering one request is computed once.

The indexes over an organization (group memberships, Jira's org index) are cached per state and
validated by a fingerprint that walks every membership list: cheap once, not 100,000 times while one
users search filters a large organization's accounts. `TenantMiddleware` opens a scope per request;
within it, `per_request(key, compute)` answers from the scope. Outside any scope (a unit test calling
a helper directly) it computes every time. The state cannot change while one request is answered (the
server runs one event loop and routes do not await between lookups and use), so a memo never shows a
request a state other than its own.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")
_SCOPE: ContextVar[dict | None] = ContextVar("simulator_request_memo", default=None)


@contextlib.contextmanager
def request_scope() -> Iterator[None]:
    token = _SCOPE.set({})
    try:
        yield
    finally:
        _SCOPE.reset(token)


def per_request(key: Hashable, compute: Callable[[], T]) -> T:
    memo = _SCOPE.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


# the listings a paged request computed, for the requests that continue them
_LISTINGS: OrderedDict[Hashable, object] = OrderedDict()
_LISTINGS_SIZE = 16


def listing(key: Hashable, continuing: bool, compute: Callable[[], T]) -> T:
    """A listing a paged route filters and sorts from the whole organization, computed afresh by a
    listing's first page and reused by the pages that continue it (`continuing`: a cursor or a
    `startAt` past 0) while `key` (which must name the state, e.g. the clock and the collections'
    sizes) is unchanged. A large organization's 100,000 accounts were filtered and sorted again for
    each page of 100. A client that pages through a listing while the state changes in place sees
    the listing as of its first page, like a cursor over a snapshot."""
    if continuing and key in _LISTINGS:
        _LISTINGS.move_to_end(key)
        return _LISTINGS[key]  # type: ignore[return-value]
    value = compute()
    _LISTINGS[key] = value
    _LISTINGS.move_to_end(key)
    while len(_LISTINGS) > _LISTINGS_SIZE:
        _LISTINGS.popitem(last=False)
    return value
