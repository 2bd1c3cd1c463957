"""The simulator's own control API under `/_sim` (not Atlassian's): time travel and ground truth.

It sits outside the request log and the fault injection, so a test harness can drive a
served simulator (`atlassian-posture simulate-advance`) without touching what the
connector under test is measured on.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def build_control(sim) -> Starlette:
    async def advance(request: Request) -> JSONResponse:
        try:
            days = float(request.query_params.get("days", "1"))
        except ValueError:
            return JSONResponse({"error": "days must be a number"}, 400)
        return JSONResponse(sim.advance(days))

    async def truth(request: Request) -> JSONResponse:
        return JSONResponse(sim.truth())

    async def summary(request: Request) -> JSONResponse:
        return JSONResponse(sim.summary())

    async def requests(request: Request) -> JSONResponse:
        return JSONResponse({"counts": sim.request_log.counts(), "writes": sim.request_log.writes()})

    return Starlette(routes=[
        Route("/_sim/advance", advance, methods=["POST"]),
        Route("/_sim/truth", truth),
        Route("/_sim/summary", summary),
        Route("/_sim/requests", requests),
    ])


class ControlDispatch:
    """Send `/_sim/...` to the control app and everything else to the simulated estate."""

    def __init__(self, estate, control):
        self.estate = estate
        self.control = control

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith("/_sim/"):
            return await self.control(scope, receive, send)
        return await self.estate(scope, receive, send)
