"""What the audit logs name (connector/changes.py), and which fan-out items a change-driven run reads.

Pure units (no server, no warehouse): the 7-day story against the simulator is tests/test_change_driven.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from atlassian_posture.connector import changes
from atlassian_posture.connector.helpers import Coverage, Listings, Scope

JIRA = Scope("acme", "jira", "cloud", "acme", "org-1")
SWEPT_MS = 1_790_000_000_000


def org_event(action: str, *context: dict) -> dict:
    return {"id": "e1", "attributes": {"action": action, "context": list(context)}}


def test_org_events_name_groups_users_and_apps_and_unmappable_ones_read_kinds_whole():
    named = changes.Named()
    changes.org_event(named, org_event("user_added_to_group", {"type": "groups", "id": "G1", "attributes": {"name": "Admins"}},
                                       {"type": "users", "id": "A1"}))
    changes.org_event(named, org_event("app_installed", {"type": "apps", "id": "com.x.app"}))
    changes.org_event(named, org_event("user_logged_in"))  # no fan-out data changes
    assert named.items["groups"] == {"g1", "admins"} and named.items["accounts"] == {"a1"}
    assert named.items["apps"] == {"com.x.app"} and not named.whole and not named.role_groups
    changes.org_event(named, org_event("group_product_access_granted", {"type": "groups", "id": "G2"}))
    assert named.role_groups == {"g2"}  # every member's role assignments change with it
    changes.org_event(named, org_event("user_role_changed"))  # about who holds what, names nobody
    assert set(named.whole) == {"accounts", "groups", "apps"}


def test_product_logs_map_their_objects_and_skip_what_holds_no_fan_out_data():
    named = changes.Named()
    changes.jira_record(named, {"summary": "User removed from group", "category": "group management",
                                "objectItem": {"id": "G1", "name": "team-a", "typeName": "GROUP"},
                                "associatedItems": [{"id": "A1", "name": "Ann", "typeName": "USER"}]})
    changes.jira_record(named, {"summary": "Version released", "category": "projects",
                                "objectItem": {"id": "1", "name": "v2", "typeName": "VERSION"}})
    changes.jira_record(named, {"summary": "Permission scheme updated", "category": "permissions",
                                "objectItem": {"id": "10001", "name": "Internal", "typeName": "SCHEME"}})
    changes.confluence_record(named, {"summary": "Space permission added", "category": "Permissions",
                                      "affectedObject": {"name": "Finance", "objectType": "Space"},
                                      "associatedObjects": [{"name": "team-b", "objectType": "Group"}]})
    changes.dc_event(named, {"type": {"category": "User management", "action": "User added to group"},
                             "affectedObjects": [{"name": "devs", "type": "GROUP"}, {"name": "bob", "type": "USER"}]})
    assert named.items["groups"] == {"g1", "team-a", "team-b", "devs"}
    assert named.items["accounts"] == {"a1", "ann", "bob"}
    assert named.items["spaces"] == {"finance"} and not named.whole
    changes.jira_record(named, {"summary": "Project roles changed", "category": "projects",
                                "objectItem": {"id": "10002", "name": "Developers", "typeName": "PROJECT_ROLE"}})
    assert "projects" in named.whole  # a project role changed in no named project: every project is read


def plan_for(named: changes.Named, known: set[str], loaded: set[str] = frozenset({"10001", "10002", "10003", "g1", "g2",
                                                                                  "g3"})) -> tuple[changes.Plan, Coverage]:
    """A change-driven plan for organization `acme`; the last run's listings had the `loaded` items."""
    coverage = Coverage()
    org = changes.OrgPlan("acme", "changes", "change-driven", SWEPT_MS, named, known)
    return changes.Plan(coverage, {"acme": org}, record=True, started=changes.from_ms(SWEPT_MS),
                        loaded=lambda table, column, tenant: set(loaded)), coverage


def test_a_change_driven_fan_out_reads_the_named_items_and_holds_the_rest():
    named = changes.Named()
    named.add("projects", "10002")
    plan, coverage = plan_for(named, {changes.key("jira_role_actors", JIRA.label)})
    projects = [("10001", "ABC"), ("10002", "DEF"), ("10003", "GHI")]
    with coverage.track("jira_role_actors", JIRA) as stats:
        read = plan.only("projects", JIRA, projects, stats, ids=lambda p: p, hold=lambda p: {"project_id": p[0]})
    assert read == [("10002", "DEF")]
    assert [hold for _, hold in coverage.item_holds("jira_role_actors")] == [{"project_id": "10001"},
                                                                             {"project_id": "10003"}]
    (row,) = coverage.rows("run")
    assert row["status"] == "ok" and row["snapshot_as_of"] == changes.from_ms(SWEPT_MS)
    assert "re-read 1 of 3 projects" in row["reason"] and "kept as of the full sweep" in row["reason"]


def test_a_resource_never_read_in_full_and_a_kind_read_whole_read_every_item():
    named = changes.Named()
    named.unmapped(("groups",), "a record names nothing")
    plan, coverage = plan_for(named, {changes.key("jira_group_members", JIRA.label)})
    with coverage.track("jira_group_members", JIRA) as stats:
        assert plan.only("groups", JIRA, ["g1", "g2"], stats, ids=lambda g: (g,), hold=lambda g: {}) == ["g1", "g2"]
    with coverage.track("jira_role_actors", JIRA) as stats:  # a new site or resource: no earlier full read
        assert plan.only("projects", JIRA, ["1", "2"], stats, ids=lambda p: (p,), hold=lambda p: {}) == ["1", "2"]
    assert not coverage.item_holds("jira_group_members") and not coverage.item_holds("jira_role_actors")
    assert all(row["snapshot_as_of"] is None for row in coverage.rows("run"))


def test_a_fan_out_with_nothing_named_still_reads_one_item_once_to_see_it_is_still_readable():
    named = changes.Named()
    named.add("groups", "deleted-group")  # named, but gone from the listing
    plan, coverage = plan_for(named, {changes.key("org_group_role_assignments", "acme/org/cloud")})
    scope = Scope("acme", "org", "cloud", None, "org-1")
    with coverage.track("org_group_role_assignments", scope) as stats:
        first = plan.only("groups", scope, ["g1", "g2"], stats, ids=lambda g: (g,), hold=lambda g: {"group_id": g})
        second = plan.only("groups", scope, ["g3"], stats, ids=lambda g: (g,), hold=lambda g: {"group_id": g})
    assert len(first) == 1 and first[0] in ("g1", "g2") and second == []
    held = {hold["group_id"] for _, hold in coverage.item_holds("org_group_role_assignments")}
    assert held == {"g1", "g2", "g3"} - set(first)


def test_an_item_the_last_listing_did_not_have_is_read_whatever_the_logs_say():
    plan, coverage = plan_for(changes.Named(), {changes.key("jira_role_actors", JIRA.label)}, loaded={"10001"})
    with coverage.track("jira_role_actors", JIRA) as stats:
        read = plan.only("projects", JIRA, ["10001", "10004"], stats, ids=lambda p: (p,),
                         hold=lambda p: {"project_id": p})
    assert read == ["10004"]  # a project created without a record this run could read


def test_the_state_moves_on_only_for_organizations_whose_run_did_not_fail():
    plan, _ = plan_for(changes.Named(), set())

    class Clock:
        tenants = [type("Org", (), {"key": "acme"})(), type("Org", (), {"key": "other"})()]

        def server_clock(self, key):
            return changes.from_ms(SWEPT_MS + 86_400_000)

    rows = [{"resource": "jira_role_actors", "tenant": "acme/acme/jira/cloud", "status": "ok", "snapshot_as_of": None},
            {"resource": "jira_users", "tenant": "other/o/jira/cloud", "status": "failed", "snapshot_as_of": None}]
    state = plan.state({"other": {"since_ms": 1, "swept_ms": 1, "known": []}}, Clock(), rows)
    assert state["other"] == {"since_ms": 1, "swept_ms": 1, "known": []}  # its changes are read again
    assert state["acme"]["since_ms"] <= SWEPT_MS + 86_400_000 and "swept_ms" not in state["acme"]
    assert state["acme"]["known"] == ["jira_role_actors|acme/acme/jira/cloud"]


def test_a_log_shape_the_mapping_does_not_know_plans_a_full_sweep_not_a_crash():
    pages = [[{"attributes": {"action": "user_added_to_group", "context": ["not an object"]}}]]
    with pytest.raises(changes.LogUnavailable, match="shape the change plan cannot map"):
        changes.read_log(changes.Named(), "the organization audit log", pages, changes.org_event)


def test_records_an_earlier_run_mapped_are_skipped_and_membership_records_name_pairs_not_groups():
    added = org_event("user_added_to_group", {"type": "groups", "id": "G1"}, {"type": "users", "id": "Acc-1"})
    renamed = {"id": "e2", "attributes": {"action": "group_renamed", "context": [{"type": "groups", "id": "G2"}]}}
    first = changes.Named()
    changes.read_log(first, "the organization audit log", [[added, renamed]], changes.org_event)
    assert first.account_ids == {"acc-1": "Acc-1"}  # as sent: the per-member read asks for it
    assert first.group_events == {"g2"}  # G1 changed one pair (read per member), G2 whole
    assert len(first.mapped) == 2
    # the next run meets both again in the overlap: the items were read then, so nothing is named now
    again = changes.Named(mapped_before=frozenset(first.mapped))
    changes.read_log(again, "the organization audit log", [[added, renamed]], changes.org_event)
    assert again.skipped == 2 and not any(again.items.values()) and not again.mapped
    # the same record in another log is another record
    other = changes.Named(mapped_before=frozenset(first.mapped))
    changes.read_log(other, "the Jira audit log of acme", [[added]], changes.org_event)
    assert other.skipped == 0 and other.items["accounts"] == {"acc-1"}


def test_the_state_remembers_the_records_mapped_within_the_overlap_only():
    named = changes.Named()
    named.mapped = {"new"}
    plan, _ = plan_for(named, set())

    plan.started = datetime.now(UTC)
    now_ms = changes.to_ms(plan.started)

    class Clock:
        tenants = [type("Org", (), {"key": "acme"})()]

        def server_clock(self, key):
            return changes.from_ms(now_ms)

    old = {"since_ms": 1, "swept_ms": 1, "known": [],  # mapped two days ago (out of the overlap), and an hour ago
           "mapped": {"stale": now_ms - 2 * 86_400_000, "recent": now_ms - 3_600_000}}
    state = plan.state({"acme": old}, Clock(), [])
    assert set(state["acme"]["mapped"]) == {"recent", "new"}


def test_group_members_of_a_change_driven_run_are_read_per_named_account():
    named = changes.Named()
    changes.read_log(named, "the organization audit log", [[
        org_event("user_added_to_group", {"type": "groups", "id": "g1"}, {"type": "users", "id": "A1"}),
        {"id": "e2", "attributes": {"action": "group_deleted", "context": [{"type": "groups", "id": "g9"}]}}]],
        changes.org_event)
    plan, coverage = plan_for(named, {changes.key("jira_group_members", JIRA.label)})
    refs = [("g1", "big"), ("g2", "team"), ("g3", "other"), ("g4", "created today")]
    with coverage.track("jira_group_members", JIRA) as stats:
        members = plan.members(JIRA, refs, stats, ids=lambda ref: ref, hold=lambda ref: {"group_id": ref[0]})
    # g1 is not read whole (one pair changed: A1's groups are read), g4 is new; the deleted g9 retires its rows
    assert members.groups == [("g4", "created today")] and members.accounts == ["A1"]
    assert not coverage.item_holds("jira_group_members")
    assert [read for _, read in coverage.item_reads("jira_group_members")] == [{"group_id": "g4"},
                                                                               {"group_id": "g9"}]
    (row,) = coverage.rows("run")
    assert row["snapshot_as_of"] == changes.from_ms(SWEPT_MS) and "1 of 1 member accounts" in row["reason"]
    # too many accounts, or a kind to read whole: the groups the logs name, read whole
    many = changes.Named()
    for n in range(changes.MEMBER_READS_MAX + 1):
        many.add("accounts", id=f"a{n}")
    plan, coverage = plan_for(many, {changes.key("jira_group_members", JIRA.label)})
    with coverage.track("jira_group_members", JIRA) as stats:
        assert plan.members(JIRA, refs, stats, ids=lambda ref: ref, hold=lambda ref: {"group_id": ref[0]}) is None


def test_a_site_group_listing_asks_for_the_groups_the_logs_name_alone_when_members_go_per_account():
    named = changes.Named()
    changes.read_log(named, "the organization audit log", [[
        {"id": "e1", "attributes": {"action": "group_renamed", "context": [
            {"type": "groups", "id": "0b5e-ID", "attributes": {"name": "Team-Red"}}]}},
        org_event("user_added_to_group", {"type": "groups", "id": "g1"}, {"type": "users", "id": "A1"})]],
        changes.org_event)
    resources = ("jira_groups", "jira_group_members")
    plan, _ = plan_for(named, {changes.key(r, JIRA.label) for r in resources})
    assert plan.named_groups(JIRA, resources) == ["0b5e-ID", "Team-Red"]  # as sent; g1 only changed a pair
    plan, _ = plan_for(named, {changes.key("jira_groups", JIRA.label)})  # members never read in full: every group
    assert plan.named_groups(JIRA, resources) is None


def test_a_shared_listing_keeps_the_list_its_reader_made():
    class Partial(list):
        pass

    listings = Listings()
    first = listings.get("groups", JIRA, lambda stats: Partial(["g1"]), changes.RequestStats())
    assert isinstance(first, Partial)  # the partial listing's marker survives the cache (its readers check it)
