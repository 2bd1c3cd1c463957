"""Helpers shared by the Confluence Cloud, Confluence Data Center and site (UPM) routes.

Time formats, a way to add product-specific fields to a paged response that a paging
helper built, cached lookups over the organization, and request parameter parsing.
Nothing here knows a route.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse

from atlassian_simulator.lazy import from_ms, to_ms
from atlassian_simulator.model import Account, Organization
from atlassian_simulator.server.context import Denied

# --- time formats --------------------------------------------------------------------------------


def iso_z(moment: datetime) -> str:
    """ISO 8601 with milliseconds and `Z` (Confluence v2, Atlassian Audit): 2026-10-30T09:00:00.000Z."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def iso_offset(moment: datetime) -> str:
    """ISO 8601 with a basic offset (Confluence DC's Java date format): 2026-10-30T09:00:00.000+0000."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def epoch_ms(moment: datetime) -> int:
    return to_ms(moment)


def parse_epoch_ms(value: str | None, name: str) -> datetime | None:
    """An epoch-milliseconds query parameter (Confluence audit `startDate`/`endDate`)."""
    if value is None or value == "":
        return None
    text = value.strip()
    if not text.lstrip("-").isdigit():
        raise Denied(400, f"Invalid value '{value}' for parameter '{name}': expected epoch milliseconds.")
    return from_ms(int(text))


def parse_iso(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 date-time or date query parameter (Atlassian Audit `from`/`to`); epoch ms also accepted."""
    if value is None or value == "":
        return None
    text = value.strip()
    if text.lstrip("-").isdigit():
        return from_ms(int(text))
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Denied(400, f"Invalid value '{value}' for parameter '{name}': expected an ISO 8601 date-time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- responses -----------------------------------------------------------------------------------


def augment(response: JSONResponse, before: str | None = None, **extra) -> JSONResponse:
    """The same response with `extra` keys added to its JSON object (before key `before` if given).

    Used where an endpoint's envelope carries fields its paging style does not know, e.g.
    the Confluence user search's `cqlQuery`/`searchDuration`. Errors pass through untouched.
    """
    if response.status_code != 200:
        return response
    body = json.loads(response.body)
    out: dict = {}
    for key, value in body.items():
        if key == before:
            out.update(extra)
        out[key] = value
    if before is None or before not in body:
        out.update(extra)
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
    return JSONResponse(out, response.status_code, headers=headers)


def patch_links(response: JSONResponse, **links) -> JSONResponse:
    """The same response with some `_links` entries replaced (e.g. DC's `context`)."""
    if response.status_code != 200:
        return response
    body = json.loads(response.body)
    if isinstance(body, dict) and isinstance(body.get("_links"), dict):
        body["_links"].update(links)
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
    return JSONResponse(body, response.status_code, headers=headers)


class Matching(Sequence):
    """The events of a lazy sequence that match a search string (indices kept, events rebuilt on demand)."""

    def __init__(self, inner: Sequence, needle: str, render):
        self._inner = inner
        needle = needle.lower()
        self._hits = []
        for i in range(len(inner)):  # a scan is unavoidable: the search is over rendered text
            if needle in json.dumps(render(inner[i]), ensure_ascii=False).lower():
                self._hits.append(i)

    def __len__(self) -> int:
        return len(self._hits)

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [self._inner[i] for i in self._hits[item]]
        return self._inner[self._hits[item]]


# --- parameters ----------------------------------------------------------------------------------


def multi_param(request: Request, *names: str) -> list[str]:
    """A list parameter sent repeated (`a=1&a=2`), comma-separated (`a=1,2`) or both, in order."""
    out: list[str] = []
    for name in names:
        for raw in request.query_params.getlist(name):
            out.extend(part.strip() for part in raw.split(",") if part.strip())
    return out


def bool_param(request: Request, name: str, default: bool = False) -> bool:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() == "true"


# --- lookups over the organization (cached per state version) ------------------------------------

_ACCOUNT_CACHE: list[tuple[list, int, dict[str, Account]]] = []  # (the accounts list itself, its length, index)


def accounts_by_id(org: Organization) -> dict[str, Account]:
    """account id -> Account, cached per accounts list (by identity) and rebuilt when it grows.

    Time travel appends accounts and mutates them in place, never replaces one, so the
    length is a sufficient version. The cache keeps the last few lists (several simulators
    may be alive in one process) and compares them by identity, never by `id()` alone.
    """
    for accounts, length, index in _ACCOUNT_CACHE:
        if accounts is org.accounts and length == len(org.accounts):
            return index
    index = {a.account_id: a for a in org.accounts}
    _ACCOUNT_CACHE[:] = [e for e in _ACCOUNT_CACHE if e[0] is not org.accounts][-7:]
    _ACCOUNT_CACHE.append((org.accounts, len(org.accounts), index))
    return index
