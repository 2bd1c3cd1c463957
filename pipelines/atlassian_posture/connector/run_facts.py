"""The run facts, as resources of the source: `coverage`, `runs` and `posture_settings`.

The marts judge nothing without them (what was collected and why not, each organization's server
clock taken as "now", the configured policy inputs and attestation), so they belong to the source:
`pipeline.run(atlassian())` alone gives a warehouse the dbt project can evaluate.

They can only be written once every other resource of the run is done. dlt calls each selected
resource's function when it builds its pipe iterator, before pulling any item, and pulls items
in parallel threads; so each data resource is wrapped to say it was selected (when called) and finished
(when its generator ends, however it ends), and the fact resources yield nothing (`None`, which
dlt skips) until every selected data resource has finished.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import dlt
from dlt.extract.resource import DltResource

from atlassian_posture.connector.changes import PLAN_RESOURCE, STATE_KEY, Plan
from atlassian_posture.connector.helpers import Connections, Coverage
from atlassian_posture.connector.http import AtlassianError
from atlassian_posture.connector.posture_settings import integration_rows, settings_rows

RUN_FACT_TABLES = ("coverage", "runs", "posture_settings")
COLLECTED = ("ok", "degraded", "partial")  # statuses under which a resource loaded rows (all or some)


def read_nothing(coverage: list[dict]) -> dict[str, list[dict]]:
    """Per organization key that collected nothing at all in this run, its attempted resources.

    The anonymous probes do not count: a request without credentials that is refused (even with a
    404, as a wrong URL answers) is their normal outcome, not a sign that the tenant answered."""
    by_org: dict[str, list[dict]] = {}
    for row in coverage:
        # nor does reading the audit logs to plan a change-driven run
        if row["status"] != "skipped" and not row["resource"].endswith("_probe") and row["resource"] != PLAN_RESOURCE:
            by_org.setdefault(row["tenant"].split("/")[0], []).append(row)
    return {org: rows for org, rows in by_org.items() if not any(r["status"] in COLLECTED for r in rows)}


def new_run_id(started: datetime) -> str:
    return f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


class RunFacts:
    """One run of the source: its id and start, and which data resources are still running."""

    def __init__(self, connections: Connections, coverage: Coverage, run_id: str | None = None,
                 started: datetime | None = None):
        self.connections, self.coverage = connections, coverage
        self.started = started or datetime.now(UTC)
        self.run_id = run_id or new_run_id(self.started)
        coverage.run_id = self.run_id
        self._selected: set[str] = set()
        self._finished: set[str] = set()
        self.plan: Plan | None = None  # a change-driven run's plan (changes.py): `runs` saves its state

    @property
    def selected(self) -> set[str]:
        """The data resources dlt selected for this run: all known before any of them runs (see `watch`)."""
        return self._selected

    def watch(self, resource: DltResource) -> DltResource:
        """`resource`, reporting when dlt selects it and when its generator ends."""
        produce = resource._pipe.gen  # the resource function (dlt calls it when it builds the iterator)
        name = resource.name

        def selected() -> Iterator:
            if not self._selected:  # the first resource of the run: every row's org id is known before any is stamped
                self.connections.resolve_org_ids()
            self._selected.add(name)
            return self._until_done(name, produce)

        selected.__name__, selected.__doc__ = getattr(produce, "__name__", name), produce.__doc__
        resource._pipe.replace_gen(selected)
        return resource

    def _until_done(self, name: str, produce: Callable[[], Iterator]) -> Iterator:
        try:
            yield from produce()
        finally:
            self._finished.add(name)

    def _wait(self) -> Iterator[None]:
        while not self._selected <= self._finished:
            yield None

    def coverage_rows(self) -> list[dict]:
        return self.coverage.rows(self.run_id)

    def runs_rows(self) -> list[dict]:
        """An organization that read nothing gets no row: its marts keep the clock of its last real run."""
        finished = datetime.now(UTC)
        empty = read_nothing(self.coverage_rows())
        return [{"run_id": self.run_id, "org_key": org.key, "org_id": self.connections.org_ids.get(org.key),
                 "org_id_source": self.connections.org_id_sources.get(org.key),
                 "started_at": self.started, "finished_at": finished,
                 "server_time": self.connections.server_clock(org.key) or finished}
                for org in self.connections.tenants if org.key not in empty]

    def settings_rows(self) -> list[dict]:
        return [row for org in self.connections.tenants
                for row in settings_rows(org.key, self.connections.org_ids.get(org.key), org.policy, org.attestation)
                + integration_rows(org.key, self.connections.org_ids.get(org.key), org.sites, self._dc_users(org))]

    def _dc_users(self, org) -> dict[str, str]:
        """Per Data Center instance, the username its token authenticates as (a PAT's user is not in the
        configuration): Jira `GET /rest/api/2/myself`, Confluence `GET /rest/api/user/current`. An
        instance that does not say (an old version, an error) gives none: the marts then rank that user."""
        users = {}
        for dc in org.data_center:
            path, field = ("/rest/api/2/myself", "name") if dc.product == "jira" else ("/rest/api/user/current",
                                                                                       "username")
            try:
                client = self.connections.dc(org, dc)
                users[dc.name] = client.json(client.get(path)).get(field)
            except (AtlassianError, AttributeError, ValueError):
                continue
        return users

    def resources(self) -> list[DltResource]:
        """The three fact resources; each waits for the data resources of this run."""

        @dlt.resource(name="coverage", write_disposition="append")
        def coverage():
            """Per resource and tenant: collected or why not (status, reason), rows, requests, retries."""
            yield from self._wait()
            yield self.coverage_rows()

        @dlt.resource(name="runs", write_disposition="append")
        def runs():
            """Per organization and run: the server's clock the marts take as now, and the run's times."""
            yield from self._wait()
            if self.plan is not None:  # in the load's state: a killed run rolls it back (recovery.py)
                state = dlt.current.source_state()
                state[STATE_KEY] = self.plan.state(state.get(STATE_KEY) or {}, self.connections, self.coverage_rows())
            yield self.runs_rows()

        @dlt.resource(name="posture_settings", write_disposition="replace",
                      columns={"org_id": {"data_type": "text"}, "scope": {"data_type": "text"},
                               "field": {"data_type": "text"}, "value": {"data_type": "text"}})
        def posture_settings():
            """The configured policy inputs and attested settings no API returns, one row per field."""
            yield from self._wait()
            yield self.settings_rows()

        return [coverage, runs, posture_settings]
