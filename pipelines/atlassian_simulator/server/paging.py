"""Atlassian's pagination styles, one function per style, plus the products' error bodies.

Each product pages differently (see each API's REST documentation), and a
connector has to get every one of them right: which parameter moves the window, which
field says "last page", whether the server silently lowered the page size. The routes
hand a sequence of model objects and a renderer to one of these functions and get back
the exact response shape, so each style's quirks live in one place.

Conventions shared by every style:

- `items` may be a lazy sequence (an audit log of a million events): only `len(items)`
  and `items[a:b]` are used, never iteration over the whole thing.
- `default` is the page size when the client sends none; `cap` is the server maximum.
  Asking for more than `cap` is not an error: the page is silently cut to `cap`, and the
  lowered size is reported wherever the style reports one. A client that advances by the
  size it *asked for* instead of the size it *got* loses rows, as it would against Atlassian.
- Invalid parameters (not an integer, negative, malformed cursor) answer 400 with the
  product's own error body.
- Responses are compact JSON with keys in insertion order, so the same state and request
  give byte-identical responses.

Cursor styles (Confluence v2, Admin v1/v2, DC audit) use `encode_cursor`/`decode_cursor`:
base64url of a small JSON object whose `"o"` key is the offset of the next page. The admin
v2 API ignores every other filter once a `cursor` is sent, so a route serving it must put
its filter state into the cursor and read it back from there, e.g.::

    state = decode_cursor(body["cursor"]) if body.get("cursor") else {"q": filters}
    items = search(state.get("q", {}))
    return admin_v2(body, items, render, 100, 1000, cursor_state={"q": state.get("q", {})})

The cursor only records an offset, so a route whose collection can grow between pages
(audit logs) should also pin its window in the cursor state (e.g. the `visible_at`
moment of the first page) if it wants later pages to see the same snapshot.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse

Render = Callable[[Any], Any]

# --- Error bodies --------------------------------------------------------------------------------

# Error codes used when the caller gives none. Admin codes come from the `ApplicationError`
# schema of the organization API spec; Confluence v2 codes from observed responses.
_ADMIN_CODES = {
    400: "ADMIN-400-19",  # request syntax is not valid (a cursor problem is ADMIN-400-1)
    403: "ADMIN-403-3",
    404: "ADMIN-404-1",
    405: "ADMIN-405-1",
    409: "ADMIN-409-28",
    429: "ADMIN-429-1",
}
_CONFLUENCE_V2_CODES = {
    400: "INVALID_REQUEST_PARAMETER",
    401: "UNAUTHORIZED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
}
ADMIN_INVALID_CURSOR = "ADMIN-400-1"


def error_body(kind: str, status: int, message: str, *, code: str | None = None, detail: str | None = None) -> dict:
    """The error body product `kind` sends: "jira", "confluence", "confluence_v2" or "admin".

    Connectors log and sometimes branch on these bodies, so each product's shape is kept:
    Jira's `ErrorCollection`, Confluence v1's `statusCode`/`data`/`message`, Confluence v2's
    and the Admin API's JSON:API-like `errors` lists (the Admin one with a *string* status).
    """
    if kind == "jira":
        return {"errorMessages": [message], "errors": {}}
    if kind == "confluence":
        return {
            "statusCode": status,
            "data": {"authorized": False, "valid": True, "errors": [], "successful": False},
            "message": message,
        }
    if kind == "confluence_v2":
        error = {
            "status": status,
            "code": code or _CONFLUENCE_V2_CODES.get(status, "ERROR"),
            "title": message,
            "detail": detail,
        }
        return {"errors": [error]}
    if kind == "admin":
        error = {"status": str(status), "code": code or _ADMIN_CODES.get(status, "ADMIN-500-1"), "title": message}
        if detail is not None:
            error["detail"] = detail
        return {"errors": [error]}
    raise ValueError(f"unknown error body kind {kind!r}")


def error_response(
    kind: str,
    status: int,
    message: str,
    *,
    code: str | None = None,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """`error_body` wrapped in a compact JSON response with the given status."""
    return JSONResponse(error_body(kind, status, message, code=code, detail=detail), status, headers=headers)


# --- Cursors -------------------------------------------------------------------------------------


class InvalidCursor(ValueError):
    """A cursor token that this server did not produce (bad base64, bad JSON, bad offset)."""


_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


def encode_cursor(state: Mapping[str, Any]) -> str:
    """An opaque, URL-safe token for `state` (base64url of compact JSON, no padding)."""
    raw = json.dumps(dict(state), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> dict:
    """The state an `encode_cursor` token carries; `InvalidCursor` if it is not one."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise InvalidCursor(f"malformed cursor {token!r}")
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor(f"malformed cursor {token!r}") from exc
    if not isinstance(state, dict):
        raise InvalidCursor(f"malformed cursor {token!r}")
    return state


def _read_cursor(token: str | None) -> tuple[int, dict]:
    """(offset, other state) of an incoming cursor; (0, {}) when there is none."""
    if token is None or token == "":
        return 0, {}
    state = decode_cursor(token)
    offset = state.pop("o", None)
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidCursor(f"malformed cursor {token!r}")
    return offset, state


def _next_state(offset: int, carried: dict, cursor_state: Mapping[str, Any] | None) -> dict:
    """Cursor state for the page at `offset`: the route's `cursor_state` if given, else what came in."""
    return {"o": offset, **(dict(cursor_state) if cursor_state is not None else carried)}


# --- Parameters ----------------------------------------------------------------------------------


class _BadParam(ValueError):
    pass


_INT = re.compile(r"-?\d+")


def _int_param(source: Mapping[str, Any], name: str, default: int, minimum: int | None = 0) -> int:
    """An integer parameter from a query string or a JSON body; `_BadParam` if invalid."""
    value = source.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _BadParam(f"Invalid value '{value}' for parameter '{name}'.")
    if isinstance(value, str):
        if not _INT.fullmatch(value.strip()):
            raise _BadParam(f"Invalid value '{value}' for parameter '{name}'.")
        value = int(value)
    if minimum is not None and value < minimum:
        raise _BadParam(f"Invalid value '{value}' for parameter '{name}': must be at least {minimum}.")
    return value


def _page_size(source: Mapping[str, Any], name: str, default: int, cap: int, minimum: int = 0) -> int:
    """The page size actually served: the client's (or the default), silently cut to `cap`."""
    return min(_int_param(source, name, default, minimum), cap)


def _slice(items: Sequence, start: int, size: int) -> tuple[list, int]:
    """(the page, total length), touching a lazy sequence only through len() and one slice."""
    total = len(items)
    if start >= total or size <= 0:
        return [], total
    return list(items[start : start + size]), total


# --- URLs ----------------------------------------------------------------------------------------


def _query_with(request: Request, **updates: Any) -> str:
    """The request's query string with some parameters replaced, kept in their original order."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for key, value in parse_qsl(request.url.query, keep_blank_values=True):
        if key not in updates:
            out.append((key, value))
        elif key not in seen:
            seen.add(key)
            if updates[key] is not None:
                out.append((key, str(updates[key])))
    out.extend((key, str(value)) for key, value in updates.items() if key not in seen and value is not None)
    return urlencode(out)


def _absolute_with(request: Request, **updates: Any) -> str:
    """The absolute URL of this request with some query parameters replaced (Jira/Admin next links)."""
    return str(request.url.replace(query=_query_with(request, **updates)))


def _wiki_split(request: Request) -> tuple[str, str, str]:
    """(mount prefix, context, path inside the context) of a Confluence request path.

    Cloud paths look like `<prefix>/wiki/rest/api/...`; the simulator may serve a site under
    a mount prefix (`/sites/acme`), which Atlassian itself never has. A Data Center style path
    without `/wiki` is split at `/rest/` instead, with an empty context.
    """
    path = request.url.path
    i = path.find("/wiki/")
    if i >= 0:
        return path[:i], "/wiki", path[i + len("/wiki") :]
    i = path.find("/confluence/rest/")  # Data Center's usual context path
    if i >= 0:
        return path[:i], "/confluence", path[i + len("/confluence") :]
    i = path.find("/rest/")
    if i >= 0:
        return path[:i], "", path[i:]
    return "", "", path


def site_url(request: Request) -> str:
    """scheme://host plus the mount prefix, up to but excluding `/wiki`: the site's root URL."""
    prefix, _, _ = _wiki_split(request)
    return f"{request.url.scheme}://{request.url.netloc}{prefix}"


def wiki_base_url(request: Request) -> str:
    """What Confluence reports as `_links.base`: the site URL *with* its `/wiki` context.

    Atlassian's responses carry `"base": "https://<site>.atlassian.net/wiki"` next to
    `"context": "/wiki"`; v1 `next` links are relative to that base (`/rest/api/...`), while v2
    `next` links are relative to the site and start with `/wiki/...` again. A client that
    blindly joins `base + next` works for v1 and doubles `/wiki` for v2: that trap is real.
    """
    _, context, _ = _wiki_split(request)
    return site_url(request) + context


# --- Jira ----------------------------------------------------------------------------------------


def _bad(kind: str, exc: Exception, code: str | None = None) -> JSONResponse:
    return error_response(kind, 400, str(exc), code=code)


def page_bean(request: Request, items: Sequence, render: Render, default: int, cap: int) -> JSONResponse:
    """Jira Cloud `PageBean`: `startAt`/`maxResults`, ends when `isLast` is true."""
    try:
        start = _int_param(request.query_params, "startAt", 0)
        size = _page_size(request.query_params, "maxResults", default, cap)
    except _BadParam as exc:
        return _bad("jira", exc)
    page, total = _slice(items, start, size)
    is_last = start + len(page) >= total
    body: dict[str, Any] = {"self": str(request.url)}
    if not is_last:
        body["nextPage"] = _absolute_with(request, startAt=start + size, maxResults=size)
    body.update(maxResults=size, startAt=start, total=total, isLast=is_last, values=[render(i) for i in page])
    return JSONResponse(body)


def bare_array(request: Request, items: Sequence, render: Render, default: int, cap: int) -> JSONResponse:
    """Jira's un-enveloped JSON array paged by `startAt`/`maxResults`; past the end it is `[]`.

    Nothing says how big the page was or whether more remain, so the only safe end signal
    for a client is an empty page.
    """
    try:
        start = _int_param(request.query_params, "startAt", 0)
        size = _page_size(request.query_params, "maxResults", default, cap)
    except _BadParam as exc:
        return _bad("jira", exc)
    page, _ = _slice(items, start, size)
    return JSONResponse([render(i) for i in page])


def audit_offset(
    request: Request, items: Sequence, render: Render, default: int = 1000, cap: int = 1000
) -> JSONResponse:
    """Jira Cloud audit records: `offset`/`limit` → `{offset, limit, total, records}`.

    A `limit` of zero or less falls back to the default rather than failing.
    """
    try:
        offset = _int_param(request.query_params, "offset", 0)
        limit = _int_param(request.query_params, "limit", default, minimum=None)
    except _BadParam as exc:
        return _bad("jira", exc)
    limit = min(limit if limit > 0 else default, cap)
    page, total = _slice(items, offset, limit)
    return JSONResponse({"offset": offset, "limit": limit, "total": total, "records": [render(i) for i in page]})


def dc_stream(
    request: Request, items: Sequence, render: Render, default: int = 2000, cap: int = 2000
) -> JSONResponse:
    """Jira DC `/user/list` (`StreamPageBean`): integer `cursor`, no total, ends on `isLast`.

    The spec promises this endpoint never 404s, even on a cursor it did not hand out, so an
    unknown cursor is read as a position and a cursor past the end gives an empty last page.
    """
    try:
        start = _int_param(request.query_params, "cursor", 0)
        size = _page_size(request.query_params, "maxResults", default, cap)
    except _BadParam as exc:
        return _bad("jira", exc)
    page, total = _slice(items, start, size)
    is_last = start + len(page) >= total
    body: dict[str, Any] = {
        "self": str(request.url),
        "maxResults": size,
        "values": [render(i) for i in page],
        "isLast": is_last,
    }
    if not is_last:
        next_cursor = str(start + len(page))
        body["nextCursor"] = next_cursor
        body["nextPage"] = _absolute_with(request, cursor=next_cursor, maxResults=size)
    return JSONResponse(body)


def dc_audit(
    request: Request,
    items: Sequence,
    render: Render,
    default: int,
    cap: int,
    *,
    cursor_state: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """Atlassian Audit on Data Center (`/rest/auditing/1.0/events`): `limit` with `offset` or `pageCursor`.

    `pageCursor` wins over `offset` when both are sent. `pagingInfo.offset` is only reported
    for offset-paged requests; `nextPageCursor` only when more events remain.
    """
    try:
        size = _page_size(request.query_params, "limit", default, cap, minimum=1)
        token = request.query_params.get("pageCursor")
        by_cursor = bool(token)
        start, carried = _read_cursor(token) if by_cursor else (_int_param(request.query_params, "offset", 0), {})
    except (_BadParam, InvalidCursor) as exc:
        return _bad("jira", exc)
    page, total = _slice(items, start, size)
    is_last = start + len(page) >= total
    paging: dict[str, Any] = {"limit": size}
    if not by_cursor:
        paging["offset"] = start
    if not is_last:
        paging["nextPageCursor"] = encode_cursor(_next_state(start + len(page), carried, cursor_state))
    paging.update(size=len(page), lastPage=is_last)
    return JSONResponse({"entities": [render(i) for i in page], "pagingInfo": paging})


# --- Confluence ----------------------------------------------------------------------------------


def confluence_v1(request: Request, items: Sequence, render: Render, default: int, cap: int) -> JSONResponse:
    """Confluence v1 `start`/`limit`: ends when `_links.next` is absent (or `size` is 0).

    `totalSize` is only computed when the client asks with `shouldReturnTotalSize=true`.
    `_links.next` is relative to `_links.base` (which already ends in the `/wiki` context).
    """
    try:
        start = _int_param(request.query_params, "start", 0)
        size = _page_size(request.query_params, "limit", default, cap)
    except _BadParam as exc:
        return _bad("confluence", exc)
    page, total = _slice(items, start, size)
    body: dict[str, Any] = {"results": [render(i) for i in page], "start": start, "limit": size, "size": len(page)}
    if request.query_params.get("shouldReturnTotalSize", "").lower() == "true":
        body["totalSize"] = total
    _, context, inner = _wiki_split(request)
    links = {"base": wiki_base_url(request), "context": context, "self": str(request.url)}
    if size > 0 and start + len(page) < total:
        links["next"] = f"{inner}?{_query_with(request, start=start + size, limit=size)}"
    body["_links"] = links
    return JSONResponse(body)


def confluence_v2(
    request: Request,
    items: Sequence,
    render: Render,
    default: int,
    cap: int,
    *,
    cursor_state: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """Confluence v2 cursor paging: `limit`/`cursor`; next page in `_links.next` and a `Link` header.

    Both carry the same site-relative URL (`/wiki/api/v2/...`) with the other query
    parameters kept and `cursor` replaced; both are absent on the last page.
    """
    try:
        size = _page_size(request.query_params, "limit", default, cap, minimum=1)
        start, carried = _read_cursor(request.query_params.get("cursor"))
    except (_BadParam, InvalidCursor) as exc:
        return _bad("confluence_v2", exc)
    page, total = _slice(items, start, size)
    links: dict[str, str] = {}
    headers: dict[str, str] = {}
    if start + len(page) < total:
        token = encode_cursor(_next_state(start + len(page), carried, cursor_state))
        _, context, inner = _wiki_split(request)
        links["next"] = f"{context}{inner}?{_query_with(request, cursor=token)}"
        headers["Link"] = f'<{links["next"]}>; rel="next"'
    links["base"] = wiki_base_url(request)
    return JSONResponse({"results": [render(i) for i in page], "_links": links}, headers=headers)


# --- Atlassian Administration --------------------------------------------------------------------


def admin_v1(
    request: Request,
    items: Sequence,
    render: Render,
    default: int,
    cap: int,
    *,
    meta: Mapping[str, Any] | None = None,
    meta_next: bool = False,
    cursor_state: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """Admin API v1: `cursor` (and `limit` where the endpoint has one); `links.next` is an absolute URL.

    `meta` is copied into the body as `"meta"` (e.g. `{"total": n}` for users). With
    `meta_next=True` (events, events-stream, policies) `meta` also carries the bare cursor in
    `meta.next` and the served `page_size`, as those endpoints do.
    """
    try:
        size = _page_size(request.query_params, "limit", default, cap, minimum=1)
        start, carried = _read_cursor(request.query_params.get("cursor"))
    except _BadParam as exc:
        return _bad("admin", exc)
    except InvalidCursor as exc:
        return _bad("admin", exc, ADMIN_INVALID_CURSOR)
    page, total = _slice(items, start, size)
    token = None
    links = {"self": str(request.url)}
    if start + len(page) < total:
        token = encode_cursor(_next_state(start + len(page), carried, cursor_state))
        links["next"] = _absolute_with(request, cursor=token)
    body: dict[str, Any] = {"data": [render(i) for i in page], "links": links}
    if meta is not None or meta_next:
        merged = dict(meta or {})
        if meta_next:
            if token is not None:
                merged["next"] = token
            merged["page_size"] = size
        body["meta"] = merged
    return JSONResponse(body)


def admin_v2(
    request_or_body: Request | Mapping[str, Any],
    items: Sequence,
    render: Render,
    default: int,
    cap: int,
    *,
    cursor_state: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """Admin API v2: `cursor`/`limit` from the query (GET) or the JSON body (POST search).

    `links.next` is a bare cursor token, not a URL (`LinkPageCursor`), and so is
    `links.self`. The server ignores other filters once a cursor is sent: the route must
    keep its filters in `cursor_state` (see the module docstring).
    """
    source = request_or_body.query_params if isinstance(request_or_body, Request) else (request_or_body or {})
    try:
        size = _page_size(source, "limit", default, cap, minimum=1)
        cursor = source.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise InvalidCursor(f"malformed cursor {cursor!r}")
        start, carried = _read_cursor(cursor)
    except _BadParam as exc:
        return _bad("admin", exc)
    except InvalidCursor as exc:
        return _bad("admin", exc, ADMIN_INVALID_CURSOR)
    page, total = _slice(items, start, size)
    links = {"self": encode_cursor(_next_state(start, carried, cursor_state))}
    if start + len(page) < total:
        links["next"] = encode_cursor(_next_state(start + len(page), carried, cursor_state))
    body: dict[str, Any] = {"data": [render(i) for i in page], "links": links}
    if meta is not None:
        body["meta"] = dict(meta)
    return JSONResponse(body)
