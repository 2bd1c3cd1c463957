"""Routes: site (see pipelines/simulator/README.md)."""

from starlette.routing import Route

ROUTES: list[Route] = []
