"""Change-driven daily runs: re-read only the fan-out items the audit logs say changed.

A full extract reads every per-item fan-out (role assignments per user and group, members per
group, role actors and scheme per project, permissions per space, Marketplace listings per
app): almost all of a run's requests. Between full sweeps, a run reads each organization's
audit logs (org events, Jira and Confluence Cloud, Data Center) since its last run, maps every
record to the items it names (`Named`), and each fan-out reads only those (`only`). The other
items are *held*: a hold marker per item keeps its current rows (validation.py `ITEM_HOLD`), so
nothing is retired that was not read again. An item the last run's listing did not have (a new
account, group, project, space or app, whether a log named it or not) is always read, and each
fan-out reads at least one item a run (a different one each day): a credential that lost its
rights then shows in coverage as it would in a full run. Group members and the account listings
are read per named account instead (`members`, `accounts`: only the rows of the items read can
retire, `validation.ITEM_READ`); a listing with no per-account read is kept unread (`keep`), a
listing that can only be scanned is scanned past what is held (`scan_from`). Other listings
(groups, projects, spaces, schemes, apps) are read in full: a new or deleted entity shows there.
Records an earlier run mapped are skipped when the overlap meets them again, and no window starts
before the last full sweep (less SWEEP_SKEW_MINUTES): the sweep read what was logged before it.

An organization does a full sweep instead (and its `change_plan` coverage row says why) when:
it has no earlier sweep, the last one is older than the sweep interval (default 7 days, server
clock), the run is forced (`--full`) or reads only some resources, or a log it needs cannot be
read (no Admin API key for a Cloud organization, no Guard, a Free plan, 403/404, any error).
A record of a kind that can change fan-out data but names nothing usable marks that whole kind
to be read (never skipped silently). A change no log records shows up by the next sweep; the
coverage says how old each held snapshot is (`snapshot_as_of`: the server time of the last sweep).

State (dlt source state `change_driven.<org key>`: `since_ms`, the server time the last
recorded run started, `swept_ms`, the last full sweep's, and `known`, the `resource|tenant` pairs
read in full since, so a new site, instance or resource is read in full) is written by the `runs`
fact resource, so a killed run rolls it back with its load (recovery.py). A run in which a
resource of the organization failed keeps the previous window, so its changes are read again.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from atlassian_posture.connector.config import OrgConfig
from atlassian_posture.connector.helpers import Connections, Coverage, Scope
from atlassian_posture.connector.http import AtlassianError, NotAvailable, RequestStats
from atlassian_posture.connector.incremental import (
    DC_CLOCK_PATH,
    OVERLAP_MS,
    from_ms,
    iso_z,
    jira_time,
    server_now,
    to_ms,
)
from atlassian_posture.connector.paging import AdminV1, AuditOffset, ConfluenceV1, DcAudit, paginate
from atlassian_posture.connector.settings import (
    CHANGE_SWEEP_DAYS,
    JIRA_API,
    MEMBER_READS_MAX,
    PAGE,
    SWEEP_SKEW_MINUTES,
)

STATE_KEY = "change_driven"
GROUP_GRANTS = "group grants"  # an `only` kind: groups, as far as what they grant is concerned
PLAN_RESOURCE = "change_plan"  # its coverage rows: the requests spent reading the logs, and the mode chosen
SWEEP_SKEW_MS = SWEEP_SKEW_MINUTES * 60_000
KINDS = ("accounts", "groups", "projects", "spaces", "apps")

_ACTIVE: contextvars.ContextVar[Plan | None] = contextvars.ContextVar("change_plan", default=None)


# --- what the logs name -------------------------------------------------------------------------


@dataclass
class Named:
    """Identifiers (ids, keys, names; lower-case) of the items the logs name, per kind, and the kinds a
    record could not be mapped for (kind -> why: read whole)."""

    items: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})
    whole: dict[str, str] = field(default_factory=dict)
    records: int = 0
    # groups whose roles or product access changed: every member's role assignments change with them
    role_groups: set[str] = field(default_factory=set)
    # records an earlier run mapped (`record_key`), met again in the overlap: skipped, their items were re-read then
    mapped_before: frozenset[str] = frozenset()
    mapped: set[str] = field(default_factory=set)  # the records this run mapped to something
    skipped: int = 0
    # the accounts records name by id (lower-case -> as sent), and the groups named by a record that names no
    # account (created, renamed, deleted, granted...): a membership record names both, and changes one pair
    account_ids: dict[str, str] = field(default_factory=dict)
    group_events: set[str] = field(default_factory=set)
    # Data Center users the logs name (lower-case username -> as sent: a DC record names users by username)
    dc_accounts: dict[str, str] = field(default_factory=dict)
    # the members of groups whose roles changed (their role assignments change): ids as the warehouse has them
    role_accounts: dict[str, str] = field(default_factory=dict)
    source: str = "cloud"  # the deployment of the log being read (`read_logs`)
    groups_sent: dict[str, str] = field(default_factory=dict)  # a group's id or name, lower-case -> as sent
    _changes: int = 0
    _record: dict[str, set[str]] = field(default_factory=dict)

    def add(self, kind: str, *values, id=None) -> None:  # noqa: A002 - the records' own word
        sent = [str(v) for v in values if v not in (None, "")]
        lowered = [v.lower() for v in ([str(id)] if id not in (None, "") else []) + sent]
        self.items[kind].update(lowered)
        self._record.setdefault(kind, set()).update(lowered)
        if kind == "groups":
            for value in ([str(id)] if id not in (None, "") else []) + sent:
                self.groups_sent.setdefault(value.lower(), value)
        if kind == "accounts" and self.source == "dc" and sent:
            self.dc_accounts[sent[0].lower()] = sent[0]  # a Data Center user's name is its username
        elif kind == "accounts" and self.source != "dc" and id not in (None, ""):
            self.account_ids[str(id).lower()] = str(id)
        self._changes += bool(lowered)

    def end_record(self) -> None:
        if self._record.get("groups") and not self._record.get("accounts"):
            self.group_events |= self._record["groups"]
        self._record = {}

    def unmapped(self, kinds: Iterable[str], why: str) -> None:
        for kind in kinds:
            self.whole.setdefault(kind, why)
        self._changes += 1


def record_key(log: str, record: dict) -> str:
    """A short, stable key of one audit record (its log and content): what the state remembers as mapped."""
    text = log + json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


# Org event actions that change no fan-out data (sign-ins, API traffic, alerts; policies, domains and
# tokens are listings read in full every run).
ORG_IRRELEVANT = re.compile(r"^(user_logged_in|password_|third_party_app_.*_request|guard_detect|.*api_(key|token)_"
                            r"|email_changed|domain_|ip_allowlist|two_step|saml_|data_security|policy_)")
# Authentication policy events: who is in which policy is read per named account in a change-driven run
AUTH_POLICY = re.compile(r"^auth_policy")
# Org event actions about who holds what: must name their users/groups/apps, or the kinds are read whole.
ORG_IDENTITY = re.compile(r"(user|account|group|role|access|admin|member|app)")
# context/container types of the org events
ORG_CONTEXT = {"users": "accounts", "groups": "groups", "apps": "apps"}
# Org event actions that change what a group grants (not who is in it)
ORG_GROUP_GRANTS = re.compile(r"(access|role|permission|admin)")


def org_event(named: Named, event: dict) -> None:
    attributes = event.get("attributes") or {}
    action = str(attributes.get("action") or "")
    if ORG_IRRELEVANT.match(action):
        return
    found = False
    for item in attributes.get("context") or []:
        kind = ORG_CONTEXT.get(str(item.get("type") or ""))
        if kind:
            found = True
            named.add(kind, (item.get("attributes") or {}).get("name"), id=item.get("id"))
            if kind == "groups" and ORG_GROUP_GRANTS.search(action) and item.get("id"):
                named.role_groups.add(str(item["id"]).lower())
    if not found and AUTH_POLICY.match(action):  # a policy's own settings (its listing is read every run)
        if re.search(r"(user|member|account)", action):  # its members, but not named
            named.unmapped(("accounts",), f"org event {action} names no user")
    elif not found and ORG_IDENTITY.search(action):
        named.unmapped(("accounts", "groups", "apps"), f"org event {action} names no user, group or app")


# Jira / Confluence / DC object types and what they name. Types that hold no fan-out data (workflows,
# fields, versions, schemes: a scheme's grants are a listing read in full) are skipped; a record in a
# category about who holds what that names neither kind (e.g. only a project role) is unmapped.
TYPE_KIND = {"group": "groups", "user": "accounts", "project": "projects", "space": "spaces", "app": "apps",
             "plugin": "apps", "application": "apps"}
NO_FANOUT_TYPES = re.compile(r"^(workflow|custom_field|field|version|component|scheme|.*_scheme|screen|issue_type|"
                             r"status|resolution|priority|template|page|blog|blogpost|comment|attachment|filter|"
                             r"dashboard|board|sprint|license|mail|webhook|global_permission|globalpermission)$", re.I)
IDENTITY_CATEGORIES = re.compile(r"(user|group|permission|project|role|space|security|app|plugin)", re.I)
FANOUT_KINDS = ("accounts", "groups", "projects", "spaces", "apps")


# A product log's sign-ins and sign-outs name a user but change nothing a fan-out or listing reads
SIGN_INS = re.compile(r"(logged (in|out)|log(in|out)|sign(ed)?[ -]?(in|out)|authenticat)", re.I)


def _objects(named: Named, objects: Iterable[dict], type_key: str, log: str, category: str, summary: str) -> None:
    if SIGN_INS.search(summary):
        return
    found, other = False, False
    for item in objects:
        if not isinstance(item, dict) or not item:
            continue
        kind_name = str(item.get(type_key) or "").lower().replace(" ", "_")
        kind = TYPE_KIND.get(kind_name)
        if kind:
            found = True
            named.add(kind, item.get("name"), item.get("key"), id=item.get("id"))
        elif not NO_FANOUT_TYPES.match(kind_name):
            other = True
    if not found and (other or not objects) and IDENTITY_CATEGORIES.search(category):
        named.unmapped(FANOUT_KINDS, f"{log} record {summary!r} ({category.strip()}) names nothing to re-read")


def jira_record(named: Named, record: dict) -> None:
    objects = [o for o in (record.get("objectItem"), *(record.get("associatedItems") or [])) if o]
    _objects(named, objects, "typeName", "Jira audit", str(record.get("category") or ""),
             str(record.get("summary") or ""))


def confluence_record(named: Named, record: dict) -> None:
    objects = [o for o in (record.get("affectedObject"), *(record.get("associatedObjects") or [])) if o]
    _objects(named, objects, "objectType", "Confluence audit", str(record.get("category") or ""),
             str(record.get("summary") or ""))


def dc_event(named: Named, event: dict) -> None:
    kind = event.get("type") or {}
    _objects(named, event.get("affectedObjects") or [], "type", "Data Center audit",
             f"{kind.get('category') or ''} {kind.get('area') or ''}", str(kind.get("action") or ""))


# --- reading the logs --------------------------------------------------------------------------------


class LogUnavailable(Exception):
    """A log the change-driven run needs cannot be read: the organization does a full sweep."""


def read_log(named: Named, log: str, pages: Iterable[list[dict]], mapper: Callable[[Named, dict], None]) -> None:
    """Map every record of one log into `named`; a log that cannot be read, or answers a shape the mapping
    does not know, raises LogUnavailable (the organization then sweeps in full, never crashes)."""
    try:
        for page in pages:
            for record in page:
                named.records += 1
                record_id = record_key(log, record) if isinstance(record, dict) else ""
                if record_id in named.mapped_before:
                    named.skipped += 1
                    continue
                before = named._changes
                mapper(named, record)
                named.end_record()
                if named._changes != before:
                    named.mapped.add(record_id)
    except AtlassianError as exc:
        raise LogUnavailable(f"{log} cannot be read ({exc})") from exc
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise LogUnavailable(f"{log} answered a shape the change plan cannot map ({type(exc).__name__} "
                             f"{str(exc)[:80]})") from exc


def read_logs(connections: Connections, org: OrgConfig, since_ms: int, stats: RequestStats,
              mapped_before: Iterable[str] = ()) -> Named:
    """Every audit log of `org` from `since_ms` on, mapped to what it names (skipping `mapped_before`:
    the records of the overlap an earlier run mapped)."""
    named = Named(mapped_before=frozenset(mapped_before))

    def read(log: str, pages: Iterator[list[dict]], mapper: Callable[[Named, dict], None]) -> None:
        read_log(named, log, pages, mapper)

    admin = connections.admin(org)
    if org.sites and admin is None:
        raise LogUnavailable("no Admin API key: the organization audit log, where directory changes are recorded, "
                             "cannot be read")
    if admin is not None:
        def org_pages():
            org_id = connections.org_id(org, stats)
            yield from paginate(admin, f"/admin/v1/orgs/{org_id}/events-stream",
                                AdminV1(PAGE["admin_events"], stop_on_short_page=True),
                                params={"from": since_ms, "sortOrder": "asc"}, stats=stats)
        read("the organization audit log", org_pages(), org_event)
    for site in org.sites:
        if "jira" in site.products:
            client = connections.site(org, site, "jira")
            api = JIRA_API["cloud"]

            def jira_pages(client=client, api=api):
                now = server_now(client, client.get_once(f"{api}/serverInfo", stats=stats))
                yield from paginate(client, f"{api}/auditing/record", AuditOffset(PAGE["jira_audit"]),
                                    params={"from": jira_time(from_ms(since_ms)), "to": jira_time(now)}, stats=stats)
            read(f"the Jira audit log of {site.name}", jira_pages(), jira_record)
        if "confluence" in site.products:
            client = connections.site(org, site, "confluence")

            def confluence_pages(client=client):
                try:  # the cheap call whose Date pins the window's end, as the audit resource does (once a run)
                    now = server_now(client, client.get_once("/wiki/rest/api/audit/retention", stats=stats))
                except NotAvailable:
                    now = server_now(client)
                yield from paginate(client, "/wiki/rest/api/audit", ConfluenceV1(PAGE["confluence_audit"]),
                                    params={"startDate": since_ms, "endDate": to_ms(now)}, stats=stats)
            read(f"the Confluence audit log of {site.name}", confluence_pages(), confluence_record)
    for instance in org.data_center:
        client = connections.dc(org, instance)
        clock = DC_CLOCK_PATH[instance.product]

        def dc_pages(client=client, clock=clock):
            now = server_now(client, client.get_once(clock, stats=stats))
            yield from paginate(client, "/rest/auditing/1.0/events", DcAudit(PAGE["dc_audit"]),
                                params={"from": iso_z(from_ms(since_ms)), "to": iso_z(now)}, stats=stats)
        named.source = "dc"
        read(f"the audit log of {instance.name}", dc_pages(), dc_event)
    named.source = "cloud"
    return named




# --- the plan ------------------------------------------------------------------------------------------


@dataclass
class OrgPlan:
    org_key: str
    mode: str  # full | changes
    reason: str
    swept_ms: int | None = None  # the last full sweep (server clock), for a change-driven run
    named: Named = field(default_factory=Named)
    known: set[str] = field(default_factory=set)  # `resource|tenant` read in full before (`key`)

    @property
    def as_of(self) -> datetime | None:
        """The server time of the last full sweep: as of when a change-driven run keeps what it did not read."""
        return from_ms(self.swept_ms) if self.swept_ms is not None else None


def key(resource: str, tenant: str) -> str:
    return f"{resource}|{tenant}"


@dataclass
class Members:
    """A group-members fan-out read per member (`Plan.members`): the groups read whole, the account ids whose
    groups are read (each recorded with `Coverage.read_items` once read: only their rows can retire)."""

    groups: list
    accounts: list[str]


class Plan:
    """What this run reads, per organization; `only` applies it to one fan-out's items."""

    def __init__(self, coverage: Coverage, orgs: dict[str, OrgPlan], record: bool, started: datetime,
                 loaded: Callable[[str, str, str], set[str] | None] = lambda table, column, tenant: None):
        self.coverage = coverage
        self.orgs = orgs
        self.record = record  # False for a run of some resources only: it moves no window
        self.started = started
        # loaded(table, column, tenant): the parent items (`column` values) the table holds current rows of
        self.loaded = loaded
        self._loaded: dict[tuple[str, str, str], set[str] | None] = {}
        self._probed: set[int] = set()  # the coverage entries whose fan-out read at least one item

    def mode(self, org_key: str) -> str:
        plan = self.orgs.get(org_key)
        return plan.mode if plan else "full"

    def only(self, kind: str, scope: Scope, items: Iterable, stats: RequestStats,
             ids: Callable[[object], Iterable], hold: Callable[[object], dict]) -> list:
        items = list(items)
        plan = self.orgs.get(scope.org_key)
        if plan is None or plan.mode == "full" or not items:
            return items
        entry = self.coverage.entry_of(stats)
        grants = kind == GROUP_GRANTS
        kind = "groups" if grants else kind
        whole = plan.named.whole.get(kind)
        if entry is not None and key(entry.resource, scope.label) not in plan.known:
            whole = "never read in full before (a new site, instance or resource)"
        if whole:
            self.coverage.driven(stats, kind, len(items), len(items), [], None, whole)
            return items
        # what a group grants changes with a record about the group alone, not with one about a member of it
        named = plan.named.group_events | plan.named.role_groups if grants else plan.named.items.get(kind, set())
        read, held = [], []
        for item in items:
            keys = {str(v).lower() for v in ids(item) if v not in (None, "")}
            (read if keys & named or self._new(entry, scope, hold(item)) else held).append(item)
        if held and not read and id(stats) not in self._probed:
            # read one item anyway (once per resource and tenant, a different one each day): it shows that the
            # credential still reads this fan-out (a 403 makes the coverage `partial`, so its checks say
            # not_evaluable, as a full run would), and its rows make the load retire those of a named item gone
            # from the listing (the merge retires a tenant's unheld rows only in a load with rows of that tenant)
            read.append(held.pop(self.started.toordinal() % len(held)))
        self._probed.add(id(stats))
        as_of = plan.as_of
        self.coverage.driven(stats, kind, len(read), len(items), [hold(item) for item in held], as_of, "")
        return read

    def members(self, scope: Scope, items: Iterable, stats: RequestStats, ids: Callable[[object], Iterable],
                hold: Callable[[object], dict], dc: bool = False) -> Members | None:
        """A group-members fan-out of a change-driven run, read per member: the groups a record names without
        naming an account (created, renamed, deleted, granted), new groups and one a run are read whole; the
        accounts the logs name by id are read one by one (their groups), so a member added to or removed from a
        group of 5,000 costs one request, not 100 pages. None: read as `only` says (a full sweep, a kind to read
        whole, a resource never read in full, or more accounts than `MEMBER_READS_MAX`)."""
        plan = self.orgs.get(scope.org_key)
        if plan is None or plan.mode == "full":
            return None
        entry = self.coverage.entry_of(stats)
        accounts = sorted((plan.named.dc_accounts if dc else plan.named.account_ids).values())
        if (entry is None or key(entry.resource, scope.label) not in plan.known or len(accounts) > MEMBER_READS_MAX
                or {"groups", "accounts"} & set(plan.named.whole)):
            return None
        items = list(items)
        events = plan.named.group_events
        listed: set[str] = set()
        read = []
        for item in items:
            keys = {str(v).lower() for v in ids(item) if v not in (None, "")}
            listed |= keys
            if keys & events or self._new(entry, scope, hold(item)):
                read.append(item)
        if not read and items and id(stats) not in self._probed:
            read.append(items[self.started.toordinal() % len(items)])  # one a run: see it is still readable
        self._probed.add(id(stats))
        as_of = plan.as_of
        self.coverage.driven(stats, "groups", len(read), len(items), [], as_of, "")
        self.coverage.driven(stats, "member accounts", len(accounts), len(accounts), [], as_of, "")
        # a named group gone from the listing (deleted): its rows retire (by id; a name alone cannot say which)
        columns = list(hold(items[0])) if items else []
        gone = [{column: value} for value in sorted(events - listed) for column in columns]
        self.coverage.read_items(stats, [hold(item) for item in read] + gone, as_of)
        return Members(read, accounts)

    def accounts(self, scope: Scope, stats: RequestStats, *, roles: bool = False, dc: bool = False,
                 apps: bool = False) -> list[str] | None:
        """An account listing (or per-account fan-out) in a change-driven run: the accounts the logs name (ids as
        sent; Data Center usernames with `dc`; with `roles` also the members of groups whose roles changed),
        which the caller reads by themselves instead of the listing, then records with `Coverage.read_items`
        (only their rows can retire; every other row stays, as of the last sweep). None: read in full (a
        sweep, a resource never read in full, a kind to read whole, more than `MEMBER_READS_MAX`, or, for a
        listing of app accounts too (`apps`), an app the logs name: installing one adds its bot account, and no
        record names that)."""
        plan = self.orgs.get(scope.org_key)
        entry = self.coverage.entry_of(stats)
        if plan is None or plan.mode == "full" or entry is None or plan.named.whole.get("accounts") \
                or key(entry.resource, scope.label) not in plan.known \
                or (apps and (plan.named.items["apps"] or plan.named.whole.get("apps"))):
            return None
        named = dict(plan.named.dc_accounts if dc else plan.named.account_ids)
        if roles:
            named.update(plan.named.role_accounts)
        if len(named) > MEMBER_READS_MAX:
            return None
        as_of = plan.as_of
        self.coverage.driven(stats, "named accounts", len(named), len(named), [], as_of, "")
        self.coverage.read_items(stats, [], as_of)
        return sorted(named.values())

    def named_groups(self, scope: Scope, resources: Iterable[str]) -> list[str] | None:
        """A Cloud site's group listing in a change-driven run whose group members are read per account
        (`members`): the ids and names (as sent) of the groups a record names without an account (created,
        renamed, deleted, granted), which the listing asks for instead of every group; a group no record names
        shows up at the next sweep. None: list every group. `resources`: those that share the listing, each
        of which must take a partial one (read in full before, no kind to read whole, at most
        `MEMBER_READS_MAX` accounts)."""
        plan = self.orgs.get(scope.org_key)
        if plan is None or plan.mode == "full" or {"groups", "accounts"} & set(plan.named.whole) \
                or len(plan.named.account_ids) > MEMBER_READS_MAX \
                or any(key(r, scope.label) not in plan.known for r in resources):
            return None
        return sorted(plan.named.groups_sent.get(g, g) for g in plan.named.group_events)

    def keep(self, scope: Scope, stats: RequestStats, why: str, takers: Iterable[str] = ()) -> bool:
        """Whether a change-driven run keeps this account listing as of the last sweep without reading it (a
        listing with no per-item read, whose facts for the named accounts another resource reads: `why`).
        Only when the resources it hands its pages to (`takers`) read per account too (`accounts`)."""
        plan = self.orgs.get(scope.org_key)
        entry = self.coverage.entry_of(stats)
        if plan is None or plan.mode == "full" or entry is None or plan.named.whole.get("accounts") \
                or len(plan.named.account_ids) > MEMBER_READS_MAX \
                or any(key(r, scope.label) not in plan.known for r in (entry.resource, *takers)):
            return False
        self.coverage.read_items(stats, [], plan.as_of)
        entry.reason = f"change-driven: not read, {why}"
        return True

    def scan_from(self, scope: Scope, stats: RequestStats, kind: str, column: str) -> set[str] | None:
        """A listing that can only be scanned (Jira DC's filters, by id), in a change-driven run: the ids the
        last run loaded (`column` of its current rows); the caller reads only past them and the tenant's
        other rows are held (a changed one comes back by the next sweep). None: read in full."""
        plan = self.orgs.get(scope.org_key)
        entry = self.coverage.entry_of(stats)
        if plan is None or plan.mode == "full" or entry is None or plan.named.whole.get(kind) \
                or key(entry.resource, scope.label) not in plan.known:
            return None
        loaded = self.loaded(entry.resource, column, scope.label)
        if not loaded:
            return None
        self.coverage.driven(stats, kind, 0, len(loaded), [{}],
                             plan.as_of, "")
        return loaded

    def _new(self, entry, scope: Scope, hold: dict) -> bool:
        """An item the last run's listing did not have (a new account, group, project, space or app, whether a
        log named it or not): read, never held."""
        if entry is None or len(hold) != 1:
            return True
        (column, value), = hold.items()
        cache = (entry.resource, column, scope.org_key if entry.resource in BY_ORG else scope.label)
        if cache not in self._loaded:
            self._loaded[cache] = self.loaded(*cache)
        loaded = self._loaded[cache]
        return loaded is None or str(value).lower() not in loaded

    def state(self, previous: dict, connections: Connections, coverage_rows: list[dict]) -> dict:
        """The `change_driven` state after this run: per organization, where the next window starts and
        when the last full sweep was (server clock). Unchanged for an organization a resource of which
        failed (its changes are read again), and for a run of some resources only."""
        out = {k: dict(v) for k, v in previous.items()}
        if not self.record:
            return out
        elapsed = datetime.now(UTC) - self.started
        failed = {row["tenant"].split("/")[0] for row in coverage_rows if row["status"] == "failed"}
        for org in connections.tenants:
            clock = connections.server_clock(org.key)
            if org.key in failed or clock is None:
                continue
            started_ms = to_ms(clock - elapsed)  # the server's time when this run started
            entry = out.setdefault(org.key, {})
            # the records mapped within the overlap of the next window: it skips them (their items were read now)
            mapped = {k: v for k, v in (entry.get("mapped") or {}).items() if v >= started_ms - OVERLAP_MS}
            plan = self.orgs.get(org.key)
            if plan is not None:
                mapped.update(dict.fromkeys(plan.named.mapped, started_ms))
            entry["mapped"] = mapped
            entry["since_ms"] = started_ms
            if self.mode(org.key) == "full":
                entry["swept_ms"] = started_ms
            # what was read in full (nothing held) is known; what could not be read must be read in full again
            rows = [r for r in coverage_rows if r["tenant"].split("/")[0] == org.key]
            known = set(entry.get("known") or []) - {key(r["resource"], r["tenant"]) for r in rows
                                                     if r["status"] not in ("ok", "degraded", "partial")}
            known |= {key(r["resource"], r["tenant"]) for r in rows
                      if r["status"] in ("ok", "degraded", "partial") and not r.get("snapshot_as_of")}
            entry["known"] = sorted(known)
        return out


def plan(connections: Connections, coverage: Coverage, state: dict, *, full: bool, record: bool,
         sweep_days: float = CHANGE_SWEEP_DAYS, started: datetime | None = None,
         groups_of: Callable[[set[str]], set[str] | None] = lambda accounts: None,
         members_of: Callable[[set[str]], set[str] | None] = lambda groups: None,
         loaded: Callable[[str, str, str], set[str] | None] = lambda table, column, tenant: None) -> Plan:
    """Decide per organization: a full sweep, or a change-driven run (reading its audit logs now).

    `groups_of(accounts)`: the groups the warehouse has these accounts in; `members_of(groups)` the
    accounts in these groups (None: unknown, then the kind is read whole). A changed account
    (deactivated, renamed) changes its rows in every group it is a member of; a group granted or
    refused a role changes the role assignments of every member."""
    orgs: dict[str, OrgPlan] = {}
    for org in connections.tenants:
        saved = state.get(org.key) or {}
        # its own product in the tenant label: no check's topology (int_check_input_gaps) counts it as a read
        scope = Scope(org.key, PLAN_RESOURCE, "all", None, connections.org_ids.get(org.key))
        reason = None
        if full:
            reason = "full run requested" if record else "a run of some resources only reads them in full"
        elif saved.get("since_ms") is None or saved.get("swept_ms") is None or "known" not in saved:
            reason = "no earlier full sweep"
        if reason is not None:
            orgs[org.key] = OrgPlan(org.key, "full", f"full sweep: {reason}")
            continue
        with coverage.track(PLAN_RESOURCE, scope, snapshot=False) as stats:
            # the sweep is due by the server's clock (a known one, or the first log's answer)
            try:
                # late records come within the overlap; those logged before the last sweep started were read by it
                start_ms = max(int(saved["since_ms"]) - OVERLAP_MS, int(saved["swept_ms"]) - SWEEP_SKEW_MS)
                named = read_logs(connections, org, start_ms, stats, saved.get("mapped") or {})
            except LogUnavailable as exc:
                orgs[org.key] = OrgPlan(org.key, "full", f"full sweep: {exc}")
            else:
                if named.role_groups:
                    members = members_of(named.role_groups)
                    if members is None:
                        named.unmapped(("accounts",), "the members of groups whose roles changed are not known")
                    else:
                        named.add("accounts", *members)
                        named.role_accounts.update({m.lower(): m for m in members})
                if named.items["accounts"]:
                    groups = groups_of(named.items["accounts"])
                    if groups is None:
                        named.unmapped(("groups",), "the groups of the changed accounts are not known")
                    else:
                        named.add("groups", *groups)
                now = connections.server_clock(org.key) or datetime.now(UTC)
                age = now - from_ms(int(saved["swept_ms"]))
                if age >= timedelta(days=sweep_days):
                    orgs[org.key] = OrgPlan(org.key, "full", f"full sweep: the last one is {age.days} days old "
                                                             f"(every {sweep_days:g} days)")
                else:
                    counts = ", ".join(f"{len(v)} {k}" for k, v in named.items.items() if v) or "nothing"
                    whole = "; read whole: " + "; ".join(f"{k} ({why})" for k, why in named.whole.items()) \
                        if named.whole else ""
                    skipped = f" ({named.skipped} mapped by an earlier run)" if named.skipped else ""
                    orgs[org.key] = OrgPlan(org.key, "changes", f"change-driven: {named.records} audit records{skipped} since "
                                            f"{from_ms(int(saved['since_ms'])):%Y-%m-%d %H:%M} UTC name {counts}{whole}; "
                                            f"last full sweep {from_ms(int(saved['swept_ms'])):%Y-%m-%d %H:%M} UTC",
                                            int(saved["swept_ms"]), named, set(saved["known"]))
            entry = coverage.entries[-1] if coverage.entries else None
        if entry is not None and entry.resource == PLAN_RESOURCE and entry.tenant == scope.label:
            entry.reason = orgs[org.key].reason
    return Plan(coverage, orgs, record, started or datetime.now(UTC), loaded)


@contextlib.contextmanager
def active(current: Plan | None) -> Iterator[None]:
    """Make `current` the plan `only` applies while the pipeline extracts (resources run in this thread)."""
    token = _ACTIVE.set(current)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def only(kind: str, scope: Scope, items: Iterable, stats: RequestStats, *,
         ids: Callable[[object], Iterable] = lambda item: (item,),
         hold: Callable[[object], dict] = lambda item: {}) -> list:
    """The items of a fan-out this run reads: all of them in a full sweep (or with no plan); in a
    change-driven run, those whose `ids` the audit logs name, the others held (their rows kept, and
    the coverage row says as of when). `kind`: accounts | groups | projects | spaces | apps."""
    current = _ACTIVE.get()
    if current is None:
        return list(items)
    return current.only(kind, scope, items, stats, ids, hold)


def members(scope: Scope, items: Iterable, stats: RequestStats, *, ids: Callable[[object], Iterable],
            hold: Callable[[object], dict], dc: bool = False) -> Members | None:
    """`Plan.members` for the active plan (`dc`: the Data Center usernames the logs name); None without one."""
    current = _ACTIVE.get()
    return None if current is None else current.members(scope, items, stats, ids, hold, dc)


def accounts(scope: Scope, stats: RequestStats, *, roles: bool = False, dc: bool = False,
             apps: bool = False) -> list[str] | None:
    """`Plan.accounts` for the active plan; None without one."""
    current = _ACTIVE.get()
    return None if current is None else current.accounts(scope, stats, roles=roles, dc=dc, apps=apps)


def named_groups(scope: Scope, resources: Iterable[str]) -> list[str] | None:
    """`Plan.named_groups` for the active plan; None without one."""
    current = _ACTIVE.get()
    return None if current is None else current.named_groups(scope, resources)


def read_items(stats: RequestStats, reads: list[dict], scope: Scope | None = None) -> None:
    """`Coverage.read_items` of the active plan's coverage: the items a per-account read read (`accounts`,
    `members`, `named_groups`); only their rows can retire; with `scope`, the rest is kept as of its
    organization's last sweep."""
    current = _ACTIVE.get()
    if current is not None:
        plan = current.orgs.get(scope.org_key) if scope is not None else None
        as_of = plan.as_of if plan is not None else None
        current.coverage.read_items(stats, reads, as_of)


def keep(scope: Scope, stats: RequestStats, why: str, takers: Iterable[str] = ()) -> bool:
    """`Plan.keep` for the active plan; False without one."""
    current = _ACTIVE.get()
    return current is not None and current.keep(scope, stats, why, takers)


def scan_from(scope: Scope, stats: RequestStats, kind: str, column: str) -> set[str] | None:
    """`Plan.scan_from` for the active plan; None without one."""
    current = _ACTIVE.get()
    return None if current is None else current.scan_from(scope, stats, kind, column)


def full_run(org_key: str) -> bool:
    """Whether this run reads every fan-out item of `org_key` (a sweep, or no plan at all)."""
    current = _ACTIVE.get()
    return current is None or current.mode(org_key) == "full"


def saved_state(pipeline) -> dict:
    """The `change_driven` state of the last committed load (after `recovery.abort_unfinished`), if the
    warehouse holds it: a warehouse file replaced or emptied while dlt's working folder stayed behind holds
    none of what that state says was swept, and the run sweeps in full (never keeps what is not there)."""
    sources = pipeline.state.get("sources") or {}
    state = dict((sources.get("atlassian") or {}).get(STATE_KEY) or {})
    if state and not _warehouse_holds(pipeline, int(pipeline.state.get("_state_version") or 0)):
        return {}
    return state


def _warehouse_holds(pipeline, version: int) -> bool:
    """Whether the warehouse's own copy of the pipeline state (`_dlt_pipeline_state`) is at `version` or later."""
    try:
        with pipeline.sql_client() as client:
            rows = client.execute_sql(
                f"select max(version) from {client.make_qualified_table_name('_dlt_pipeline_state')} "
                f"where pipeline_name = '{pipeline.pipeline_name}'")
    except Exception:  # noqa: BLE001 - no such table: a new or replaced warehouse
        return False
    found = rows[0][0] if rows else None
    return found is not None and int(found) >= version


# (table, group column, member column) of the membership snapshots: Cloud by account id, DC by username
MEMBERSHIP_COLUMNS = (("org_group_memberships", "group_id", "account_id"),
                      ("jira_group_members", "group_id", "account_id"), ("jira_group_members", "group_name", "name"),
                      ("confluence_group_members", "group_id", "account_id"),
                      ("confluence_group_members", "group_name", "username"))


def _memberships(pipeline, values: set[str], by_member: bool) -> set[str] | None:
    """Current groups of these members (`by_member`), or members of these groups, from the warehouse's
    membership snapshots; None when they cannot be read."""
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(values))
    found: set[str] = set()
    try:
        with pipeline.sql_client() as client:
            schema = client.dataset_name
            present = {(t, c) for t, c in client.execute_sql(
                "select table_name, column_name from information_schema.columns where table_schema = "
                f"'{schema}'") or []}
            for table, group, member in MEMBERSHIP_COLUMNS:
                if not {(table, group), (table, member), (table, "_dlt_valid_to")} <= present:
                    continue
                want, where = (group, member) if by_member else (member, group)
                rows = client.execute_sql(
                    f"select distinct {want} from {client.make_qualified_table_name(table)} "
                    f"where _dlt_valid_to is null and lower({where}) in ({listed})")
                found |= {str(r[0]) for r in rows or [] if r[0] is not None}  # as loaded: ids to ask for
    except Exception:  # noqa: BLE001 - unknown: the plan reads the kind whole instead
        return None
    return found


def member_groups(pipeline) -> Callable[[set[str]], set[str] | None]:
    """`groups_of` for `plan`."""
    return lambda accounts: _memberships(pipeline, accounts, by_member=True)


def group_members(pipeline) -> Callable[[set[str]], set[str] | None]:
    """`members_of` for `plan`."""
    return lambda groups: _memberships(pipeline, groups, by_member=False)


# fan-out resource -> its parent listing's table, and the listing column of each hold column
LISTINGS = {
    "org_user_role_assignments": ("org_users", {"account_id": "account_id"}),
    "org_last_active": ("org_managed_accounts", {"account_id": "account_id"}),
    "org_group_role_assignments": ("org_groups", {"group_id": "id"}),
    "jira_group_members": ("jira_groups", {"group_id": "group_id", "group_name": "name"}),
    "jira_role_actors": ("jira_projects", {"project_id": "id"}),
    "jira_project_permission_schemes": ("jira_projects", {"project_id": "id"}),
    "confluence_group_members": ("confluence_groups", {"group_id": "id", "group_name": "name"}),
    "confluence_space_permissions": ("confluence_spaces", {"space_id": "id", "space_key": "key"}),
    "confluence_space_role_assignments": ("confluence_spaces", {"space_id": "id"}),
    "apps_marketplace": ("apps_installed", {"key": "key"}),
    "jira_filters": ("jira_filters", {"id": "id"}),  # scanned by id on Data Center (`scan_from`)
    "jira_dashboards": ("jira_dashboards", {"id": "id"}),  # details of new ones only on Data Center
}
BY_ORG = {"apps_marketplace"}  # its tenant is the organization's Marketplace view; the listing's are its sites


def loaded_items(pipeline) -> Callable[[str, str, str], set[str] | None]:
    """`loaded` for `plan`: the items of a fan-out's parent listing as the last run loaded it (current rows of
    `LISTINGS`), for one tenant (one organization for `BY_ORG`); None when unknown (every item is then read).

    Read on first use, in full, once per (table, column): the first `loaded(...)` comes from a resource,
    which may run in one of dlt's extract worker threads, and the pipeline's SQL client must not be
    opened there (dlt's configuration context is shared with the thread running the pipeline), so
    `prefetch` reads them all in that thread before the extract starts, for a change-driven run."""
    cache: dict[tuple[str, str], dict[str, set[str]] | None] = {}

    def read(table: str, listed: str, lineage: str) -> dict[str, set[str]] | None:
        try:
            with pipeline.sql_client() as client:
                rows = client.execute_sql(
                    f"select {lineage}, {listed} from {client.make_qualified_table_name(table)} "
                    f"where _dlt_valid_to is null and {listed} is not null")
        except Exception:  # noqa: BLE001 - no such table or column yet: every item is new
            return None
        out: dict[str, set[str]] = {}
        for where, value in rows or []:
            out.setdefault(str(where), set()).add(str(value).lower())
        return out

    def loaded(resource: str, column: str, where: str) -> set[str] | None:
        table, columns = LISTINGS.get(resource, (None, {}))
        if table is None or column not in columns:
            return None
        key = (resource, column)
        if key not in cache:
            cache[key] = read(table, columns[column], "_org_key" if resource in BY_ORG else "_tenant")
        found = cache[key]
        return None if found is None else found.get(where, set())

    def prefetch() -> None:
        for resource, (_, columns) in LISTINGS.items():
            for column in columns:
                loaded(resource, column, "")

    loaded.prefetch = prefetch  # type: ignore[attr-defined]
    return loaded
