"""Organization audit log: `/events`, `/events/{eventId}`, `/events-stream`, `/event-actions`.

All four need Atlassian Guard: without it they answer 403 (checks.md POSTURE-014; the spec
documents no plan error). Events live in `org.events`, a lazy `EventLog` of up to a million
generated events: every handler only takes `window(...)`, `len()` and slices of it.

Two cursors, because the two endpoints page differently:

- `/events` (newest first by `time`, rich filters, `limit` 30/500): the cursor pins the
  snapshot (`visible_at` of the first page) and the filters, and records the *scan position*
  in that snapshot. Content filters (`action`, `actor`, `ip`, `product`, `location`, `q`)
  are applied while scanning; one request scans at most `SCAN_BUDGET` events, so a rare
  filter can give a short (even empty) page that still has a `next` link.
- `/events-stream` (ascending by `processedAt` by default, `limit` 200/500): the cursor
  records the *position* of the last event served (processedAt in ms + event id), never an
  offset. Atlassian returns a cursor on the last page too ("to facilitate seamless
  polling"), so a client stops on a short page and polls later with that cursor: events
  processed since then, late ones included, come next, and nothing is served twice.
  `from`/`to` (epoch ms) bound `processedAt` on this endpoint [inference: the endpoint
  sorts and polls by processing time].

Both serve the 180-day retention of Guard Standard: older events are gone (`/events` by
event time, `/events-stream` by processing time), so after time travel the oldest ones age out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atlassian_simulator.generator.audit import ORG_ACTIONS
from atlassian_simulator.lazy import AuditEvent, Reversed, from_ms, to_ms
from atlassian_simulator.model import Organization
from atlassian_simulator.server.context import require_guard
from atlassian_simulator.server.paging import (
    ADMIN_INVALID_CURSOR,
    InvalidCursor,
    _absolute_with,
    _BadParam,
    _page_size,
    decode_cursor,
    encode_cursor,
)
from atlassian_simulator.server.routes.admin_common import (
    admin_error,
    bad_request,
    endpoint,
    epoch_ms_param,
    gateway_url,
    iso,
    org_for,
    query_list,
)

RETENTION = timedelta(days=180)  # Guard Standard keeps 180 days of org audit events (checks.md)
EVENTS_DEFAULT, EVENTS_CAP = 30, 500
STREAM_DEFAULT, STREAM_CAP = 200, 500
SCAN_BUDGET = 20_000
PRODUCTS = ("bitbucket", "confluence", "guard_detect", "jira", "loom")
_MS = timedelta(milliseconds=1)


# --- rendering -----------------------------------------------------------------------------------


def _copy(value):
    """A deep copy of a stored JSON-like value (a rendered body must never alias the state)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def render_actor(event: AuditEvent) -> dict:
    stored = event.fields.get("actor") or {}
    actor = {"id": stored.get("id") or event.actor_id or "unknown"}
    for key in ("name", "email", "auth", "app", "onBehalfOf"):
        if stored.get(key) is not None:
            actor[key] = _copy(stored[key])
    app = actor.get("app")
    if app is not None and "id" not in app:  # stored as {key, name}: the API's shape is {id, type, attributes}
        actor["app"] = {"id": app.get("key", "unknown"), "type": "apps",
                        "attributes": {k: v for k, v in app.items() if k != "key"}}
    return actor


def render_event(request: Request, org: Organization, event: AuditEvent, stream: bool = False) -> dict:
    fields = event.fields
    attributes: dict = {"time": iso(event.time)}
    if stream:
        attributes["processedAt"] = iso(event.processed_at)
    attributes["action"] = event.action
    attributes["actor"] = render_actor(event)
    attributes["context"] = _copy(fields.get("context") or [])
    attributes["container"] = _copy(fields.get("container") or [])
    if fields.get("location"):
        attributes["location"] = _copy(fields["location"])
    body = {"id": event.event_id, "type": "events", "attributes": attributes,
            "links": {"self": f"{gateway_url(request)}/admin/v1/orgs/{org.org_id}/events/{event.event_id}"}}
    display = ORG_ACTIONS.get(event.action, (event.action, ""))[0]
    body["message"] = {"content": display, "format": "simple"}
    return body


# --- /events filters -----------------------------------------------------------------------------


def _filters(request: Request) -> dict:
    filters: dict = {}
    if request.query_params.get("action"):
        filters["action"] = request.query_params["action"]
    for name in ("actor", "ip", "product"):
        values = query_list(request, name)
        if values:
            filters[name] = values
    for product in filters.get("product", []):
        if product not in PRODUCTS:
            raise bad_request(f"Invalid value '{product}' for parameter 'product'.")
    if request.query_params.get("location"):
        try:
            locations = json.loads(request.query_params["location"])
        except ValueError:
            raise bad_request("Parameter 'location' must be a JSON list of {city, countryName}.") from None
        if isinstance(locations, dict):
            locations = [locations]
        if not isinstance(locations, list) or not all(isinstance(x, dict) for x in locations):
            raise bad_request("Parameter 'location' must be a JSON list of {city, countryName}.")
        filters["location"] = locations
    if request.query_params.get("q"):
        filters["q"] = request.query_params["q"].lower()
    return filters


def _matcher(filters: dict) -> Callable[[AuditEvent], bool] | None:
    if not filters:
        return None

    def match(event: AuditEvent) -> bool:
        fields = event.fields
        location = fields.get("location") or {}
        actor = fields.get("actor") or {}
        if "action" in filters and event.action != filters["action"]:
            return False
        if "actor" in filters and (actor.get("id") or event.actor_id) not in filters["actor"]:
            return False
        if "ip" in filters and location.get("ip") not in filters["ip"]:
            return False
        if "product" in filters and fields.get("product") not in filters["product"]:
            return False
        if "location" in filters and not any(
            all(location.get(k) == v for k, v in wanted.items()) for wanted in filters["location"]
        ):
            return False
        if "q" in filters:
            text = json.dumps([event.action, actor, fields.get("context"), fields.get("container"), location]).lower()
            if filters["q"] not in text:
                return False
        return True

    return match


def _scan(items: Sequence[AuditEvent], start: int, size: int, match) -> tuple[list[AuditEvent], int]:
    """Up to `size` matching events from position `start`; returns them and where to resume."""
    total = len(items)
    if match is None:
        return list(items[start : start + size]), min(start + size, total)
    page: list[AuditEvent] = []
    position, budget = start, SCAN_BUDGET
    while position < total and len(page) < size and budget > 0:
        chunk = items[position : position + min(500, budget)]
        for event in chunk:
            position += 1
            budget -= 1
            if match(event):
                page.append(event)
                if len(page) == size:
                    break
    return page, position


def _page_body(request: Request, data: list, token: str | None, size: int) -> JSONResponse:
    """The Admin v1 body of the events endpoints: absolute `links.next`, bare `meta.next`."""
    links = {"self": str(request.url)}
    meta: dict = {}
    if token is not None:
        links["next"] = _absolute_with(request, cursor=token)
        meta["next"] = token
    meta["page_size"] = size
    return JSONResponse({"data": data, "links": links, "meta": meta})


def _limit(request: Request, default: int, cap: int) -> int:
    try:
        return _page_size(request.query_params, "limit", default, cap, minimum=1)
    except _BadParam as exc:
        raise bad_request(str(exc)) from None


def _cursor(request: Request) -> dict | None:
    token = request.query_params.get("cursor")
    if not token:
        return None
    try:
        return decode_cursor(token)
    except InvalidCursor as exc:
        raise bad_request(str(exc), ADMIN_INVALID_CURSOR) from None


def _window_bounds(start_ms: int | None, end_ms: int | None, visible: datetime) -> tuple[datetime, datetime | None]:
    """(since, until) of a window: `from`/`to` inclusive to the millisecond, never before the retention."""
    if start_ms is not None and end_ms is not None and start_ms > end_ms:
        raise bad_request("'from' must not be after 'to'.", "ADMIN-400-3")
    floor = visible - RETENTION
    since = floor if start_ms is None else max(floor, from_ms(start_ms))
    return since, None if end_ms is None else from_ms(end_ms) + _MS - timedelta(microseconds=1)


# --- handlers ------------------------------------------------------------------------------------


def _guarded_org(request: Request) -> Organization:
    org = org_for(request).org
    require_guard(request, 403)
    return org


@endpoint
async def list_events(request: Request):
    """Newest first by event time; `from`/`to` epoch ms (inclusive) and content filters."""
    org = _guarded_org(request)
    size = _limit(request, EVENTS_DEFAULT, EVENTS_CAP)
    state = _cursor(request)
    if state is None:  # a cursor carries everything; other parameters only count on page one
        state = {"v": to_ms(org.clock), "f": epoch_ms_param(request, "from"), "t": epoch_ms_param(request, "to"),
                 "x": _filters(request), "p": 0}
    try:
        visible, position = from_ms(int(state["v"])), int(state["p"])
        since, until = _window_bounds(state.get("f"), state.get("t"), visible)
        filters = dict(state.get("x") or {})
    except (KeyError, TypeError, ValueError, OverflowError):
        raise bad_request("malformed cursor", ADMIN_INVALID_CURSOR) from None
    items = Reversed(org.events.window(visible, since, until, key="time"))
    page, resume = _scan(items, position, size, _matcher(filters))
    token = encode_cursor({**state, "p": resume}) if resume < len(items) else None
    return _page_body(request, [render_event(request, org, e) for e in page], token, size)


@endpoint
async def get_event(request: Request):
    org = _guarded_org(request)
    event = org.events.find(request.path_params["event_id"], org.clock)
    if event is None or event.time < org.clock - RETENTION:
        raise admin_error(404, "Event not found", "ADMIN-404-4")
    return JSONResponse({"data": render_event(request, org, event)})


def _skip_served(items: Sequence[AuditEvent], after: list | None) -> int:
    """Index of the first event after the cursor position (processedAt ms, event id)."""
    if not after:
        return 0
    after_ms, after_id = after
    position = 0
    while position < len(items):
        event = items[position]
        if to_ms(event.processed_at) != after_ms:
            break
        position += 1
        if event.event_id == after_id:
            return position
    return 0  # the position's event is gone: serve its millisecond again rather than lose one


@endpoint
async def events_stream(request: Request):
    """Polling endpoint: ordered by processedAt; the cursor is a position, kept on the last page."""
    org = _guarded_org(request)
    size = _limit(request, STREAM_DEFAULT, STREAM_CAP)
    state = _cursor(request)
    if state is None:
        order = request.query_params.get("sortOrder") or "asc"
        if order not in ("asc", "desc"):
            raise bad_request(f"Invalid value '{order}' for parameter 'sortOrder'.")
        state = {"s": order, "f": epoch_ms_param(request, "from"), "t": epoch_ms_param(request, "to")}
    try:
        order = state["s"]
        since, until = _window_bounds(state.get("f"), state.get("t"), org.clock)
        after = state.get("a")
        if after is not None:
            after = [int(after[0]), str(after[1])]
        if order not in ("asc", "desc"):
            raise ValueError(order)
    except (KeyError, TypeError, ValueError, IndexError, OverflowError):
        raise bad_request("malformed cursor", ADMIN_INVALID_CURSOR) from None
    if order == "asc":
        if after is not None:
            since = max(since, from_ms(after[0]))
        items = org.events.window(org.clock, since, until, key="processed_at")
    else:
        if after is not None:
            edge = from_ms(after[0]) + _MS - timedelta(microseconds=1)
            until = min(until, edge) if until else edge
        items = Reversed(org.events.window(org.clock, since, until, key="processed_at"))
    start = _skip_served(items, after)
    page = list(items[start : start + size])
    last = page[-1] if page else None
    position = [to_ms(last.processed_at), last.event_id] if last else after
    more = start + len(page) < len(items)
    token = None
    if order == "asc" or more:  # ascending: always a cursor, to poll with later
        token = encode_cursor({**state, "a": position} if position else {k: v for k, v in state.items() if k != "a"})
    return _page_body(request, [render_event(request, org, e, stream=True) for e in page], token, size)


@endpoint
async def event_actions(request: Request):
    _guarded_org(request)
    data = [{"id": action, "type": "event-actions",
             "attributes": {"displayName": display, "groupDisplayName": group}}
            for action, (display, group) in ORG_ACTIONS.items()]
    return JSONResponse({"data": data})


_V1 = "/admin/v1/orgs/{org_id}"
ROUTES = [
    Route(f"{_V1}/events", list_events, methods=["GET"]),
    Route(f"{_V1}/events/{{event_id}}", get_event, methods=["GET"]),
    Route(f"{_V1}/events-stream", events_stream, methods=["GET"]),
    Route(f"{_V1}/event-actions", event_actions, methods=["GET"]),
]
