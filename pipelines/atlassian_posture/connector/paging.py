"""One paginator per Atlassian pagination style (DIGEST §2), and `paginate`, the only paging loop.

A paginator decides the first request, pulls the items out of a page, and from the page
decides the next request or that there is none. Every offset style advances by the number
of rows the server *returned*, never by the page size asked for: Jira silently lowers
`maxResults`, and advancing by the requested size loses rows (seen: 10 of 23). `paginate`
refuses to request the same page twice, and refuses a page whose items it already received
(a server that answers every `startAt` or cursor with its first page would otherwise be
followed forever: the requests differ, the pages do not), so it fails loudly instead of looping.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import httpx

from atlassian_posture.connector.http import AtlassianClient, AtlassianError, MalformedResponse, RequestStats


@dataclass
class PageRequest:
    path: str  # a path relative to the client's base URL, or an absolute URL on the same host
    params: dict = field(default_factory=dict)
    json: dict | None = None

    def key(self) -> tuple:
        return (self.path, tuple(sorted((k, str(v)) for k, v in self.params.items())),
                tuple(sorted((k, str(v)) for k, v in (self.json or {}).items())))


class Paginator:
    """Base class: `first` builds the first request, `items` reads a page, `next` decides what follows."""

    list_key: str | None = None

    def __init__(self, page_size: int | None = None):
        self.page_size = page_size

    def first(self, path: str, params: dict | None, json: dict | None) -> PageRequest:
        return PageRequest(path, dict(params or {}), dict(json) if json is not None else None)

    def items(self, body) -> list:
        value = body if self.list_key is None else (body or {}).get(self.list_key) if isinstance(body, dict) else None
        if not isinstance(value, list):
            raise ValueError(f"expected a list{' under ' + repr(self.list_key) if self.list_key else ''}")
        return value

    def next(self, request: PageRequest, body, response: httpx.Response, rows: list) -> PageRequest | None:
        raise NotImplementedError


class SinglePage(Paginator):
    """The whole list in one response (UPM, permission schemes, application roles...)."""

    def __init__(self, list_key: str | None = None):
        super().__init__()
        self.list_key = list_key

    def next(self, request, body, response, rows):
        return None


class PageBean(Paginator):
    """Jira `startAt`/`maxResults` envelopes: stop on `isLast`, or an empty page when `isLast` is absent."""

    list_key = "values"

    def first(self, path, params, json):
        return PageRequest(path, {**(params or {}), "startAt": 0, "maxResults": self.page_size})

    def next(self, request, body, response, rows):
        if body.get("isLast") is True or not rows:
            return None
        start = int(body.get("startAt", request.params["startAt"]))
        return PageRequest(request.path, {**request.params, "startAt": start + len(rows)})


class BareArray(Paginator):
    """Jira endpoints that return a bare JSON array: page until an empty one (a short page is no end)."""

    def first(self, path, params, json):
        return PageRequest(path, {**(params or {}), "startAt": 0, "maxResults": self.page_size})

    def next(self, request, body, response, rows):
        if not rows:
            return None
        return PageRequest(request.path, {**request.params, "startAt": int(request.params["startAt"]) + len(rows)})


class AuditOffset(Paginator):
    """Jira Cloud audit: `offset`/`limit` with `total`."""

    list_key = "records"

    def first(self, path, params, json):
        return PageRequest(path, {**(params or {}), "offset": 0, "limit": self.page_size})

    def next(self, request, body, response, rows):
        offset = int(body.get("offset", request.params["offset"])) + len(rows)
        if not rows or ("total" in body and offset >= int(body["total"])):
            return None
        return PageRequest(request.path, {**request.params, "offset": offset})


class ConfluenceV1(Paginator):
    """Confluence v1 and DC `start`/`limit`: stop when `_links.next` is absent or `size` is 0."""

    list_key = "results"

    def first(self, path, params, json):
        return PageRequest(path, {**(params or {}), "start": 0, "limit": self.page_size})

    def next(self, request, body, response, rows):
        if not rows or not (body.get("_links") or {}).get("next"):
            return None
        start = int(body.get("start", request.params["start"]))
        return PageRequest(request.path, {**request.params, "start": start + len(rows)})


class ConfluenceV2(Paginator):
    """Confluence v2 cursor: follow `_links.next` (site-relative, starts with /wiki) or the `Link` header."""

    list_key = "results"

    def first(self, path, params, json):
        return PageRequest(path, {**(params or {}), "limit": self.page_size})

    def next(self, request, body, response, rows):
        link = (body.get("_links") or {}).get("next") or response.links.get("next", {}).get("url")
        if not link:
            return None
        return _relative_request(link)


class AdminV1(Paginator):
    """Admin v1: `links.next` is documented as a URL; accept a bare cursor too.

    `stop_on_short_page` is for the events stream, whose ascending pages always carry a
    cursor (so it can be saved and polled later): there a short page is the end.
    """

    list_key = "data"

    def __init__(self, page_size: int | None = None, stop_on_short_page: bool = False):
        super().__init__(page_size)
        self.stop_on_short_page = stop_on_short_page
        self.last_cursor: str | None = None

    def first(self, path, params, json):
        params = dict(params or {})
        if self.page_size:
            params.setdefault("limit", self.page_size)
        return PageRequest(path, params)

    def next(self, request, body, response, rows):
        links = body.get("links") or {}
        nxt = links.get("next") or (body.get("meta") or {}).get("next")
        cursor = _cursor_of(nxt) if nxt else None
        if cursor:
            self.last_cursor = cursor
        if not nxt or not rows:
            return None
        if self.stop_on_short_page:
            # the server may cap the page below what was asked: a page is short against what it says it sent
            served = (body.get("meta") or {}).get("page_size") or request.params.get("limit") or self.page_size
            if served and len(rows) < int(served):
                return None
        return PageRequest(request.path, {**request.params, "cursor": cursor})


class AdminV2(Paginator):
    """Admin v2: `links.next` is a bare cursor; GET takes it as a query parameter, POST searches in the body."""

    list_key = "data"

    def __init__(self, page_size: int | None = None, post: bool = False):
        super().__init__(page_size)
        self.post = post

    def first(self, path, params, json):
        if self.post:
            return PageRequest(path, dict(params or {}), {**(json or {}), "limit": self.page_size})
        return PageRequest(path, {**(params or {}), "limit": self.page_size})

    def next(self, request, body, response, rows):
        cursor = (body.get("links") or {}).get("next")
        if not cursor or not rows:
            return None
        if self.post:
            return PageRequest(request.path, request.params, {**(request.json or {}), "cursor": cursor})
        return PageRequest(request.path, {**request.params, "cursor": cursor})


class DcStream(Paginator):
    """Jira DC `/user/list`: `cursor` + `isLast` + `nextCursor`."""

    list_key = "values"

    def first(self, path, params, json):
        return PageRequest(path, {**(params or {}), "maxResults": self.page_size})

    def next(self, request, body, response, rows):
        if body.get("isLast", True) or body.get("nextCursor") in (None, ""):
            return None
        return PageRequest(request.path, {**request.params, "cursor": body["nextCursor"]})


class DcAudit(Paginator):
    """Atlassian Audit on DC: `pagingInfo.nextPageCursor` until `lastPage`."""

    list_key = "entities"

    def first(self, path, params, json):
        return PageRequest(path, {**(params or {}), "limit": self.page_size})

    def next(self, request, body, response, rows):
        info = body.get("pagingInfo") or {}
        cursor = info.get("nextPageCursor")
        if isinstance(cursor, dict):
            cursor = cursor.get("cursor")
        if info.get("lastPage") or not cursor or not rows:
            return None
        params = {k: v for k, v in request.params.items() if k != "offset"}
        return PageRequest(request.path, {**params, "pageCursor": cursor})


def paginate(client: AtlassianClient, path: str, paginator: Paginator, *, params: dict | None = None,
             json: dict | None = None, stats: RequestStats | None = None) -> Iterator[list]:
    """Yield each page's items, one page in memory at a time."""
    stats = stats or RequestStats()
    request: PageRequest | None = paginator.first(path, params, json)
    seen: set[tuple] = set()
    pages_seen: set[str] = set()
    endpoint = urlsplit(client.url(path)).path
    while request is not None:
        key = request.key()
        if key in seen:
            raise AtlassianError(f"{endpoint}: the server repeated a page it already sent "
                                 f"(cursor or offset did not advance); stopping instead of looping")
        seen.add(key)
        if request.json is not None:
            response = client.post_search(request.path, request.json, stats=stats)
        else:
            response = client.get(request.path, params=request.params, stats=stats)
        body = client.json(response)
        try:
            rows = paginator.items(body)
        except (ValueError, AttributeError) as exc:
            raise MalformedResponse(f"{urlsplit(str(response.url)).path}: unexpected response shape ({exc})",
                                    response.status_code, str(response.url)) from exc
        if rows:
            digest = page_digest(rows)
            if digest in pages_seen:
                raise AtlassianError(f"{endpoint}: the server repeated a page it already sent (the same items "
                                     f"again after {len(pages_seen)} pages); stopping instead of looping")
            pages_seen.add(digest)
        stats.add(pages=1, rows=len(rows))
        yield rows
        request = paginator.next(request, body, response, rows)
        if request is not None and request.path.startswith(("http://", "https://")):
            _same_host(client, request.path)


def page_digest(rows: list) -> str:
    """A page's items as a short hash: two different pages of one listing never hold the same items."""
    digest = hashlib.blake2b(digest_size=16)
    for row in rows:  # row by row: a page of 1,000 users as one JSON text was tens of megabytes at once
        digest.update(json.dumps(row, sort_keys=True, separators=(",", ":"), default=str).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


def _relative_request(link: str) -> PageRequest:
    parts = urlsplit(link)
    path = link.split("?", 1)[0] if parts.scheme else parts.path
    return PageRequest(path, dict(parse_qsl(parts.query, keep_blank_values=True)))


def _cursor_of(value: str) -> str:
    """A bare cursor, or the `cursor` query parameter of a next-page URL."""
    if "://" in value or value.startswith("/") or "?" in value:
        return dict(parse_qsl(urlsplit(value).query)).get("cursor", "")
    return value


def _same_host(client: AtlassianClient, url: str) -> None:
    """Never follow a next link to another host: the credential would go with it."""
    if urlsplit(url).netloc != urlsplit(client.base_url).netloc:
        raise AtlassianError(f"refusing to follow a next-page link to another host ({urlsplit(url).netloc})")
