"""Topologies (pipelines/atlassian_simulator/topology.py): the tenant each one serves, the exact
credentials `connector_config` gives the connector, and the oracle's not_evaluable wherever
those credentials cannot reach a check's inputs. Fast: no connector, no dbt (the end-to-end
matrix is tests/transform/test_topologies.py)."""

from __future__ import annotations

import asyncio
import functools

import pytest
from atlassian_simulator.core import Simulator
from atlassian_simulator.topology import PRESETS, parse
from atlassian_simulator.truth import manifest

NAMES = ["full", "cloud", "site-only", "scoped-only", "org-only", "jira-only", "confluence-only", "split-products",
         "dc-only", "dc-jira", "dc-confluence", "cloud+free+noguard", "site-only+standard"]


@functools.cache
def estate() -> Simulator:
    return Simulator.generate("tiny", seed=7, topologies=NAMES)


@functools.cache
def checks() -> dict[str, dict]:
    sim = estate()
    return {name: org["checks"] for name, org in zip(NAMES, manifest(sim)["orgs"], strict=True)}


def config(name: str) -> tuple[dict, dict]:
    sim = estate()
    orgs, credentials = sim.connector_config("http://sim")
    key = sim.orgs[NAMES.index(name)].config["tenant_key"]
    return orgs[key], credentials[key]


def test_parse_presets_and_modifiers():
    assert parse("site-only+free+noguard").plan == "free"
    assert parse("site-only+free+noguard").guard is False
    assert parse("cloud").dc == () and parse("cloud").org_key
    assert set(PRESETS) >= {"full", "cloud", "site-only", "scoped-only", "org-only", "jira-only", "confluence-only",
                            "dc-only", "dc-jira", "dc-confluence"}
    for bad in ("nonsense", "cloud+gold", "dc-only+guard"):
        with pytest.raises(ValueError):
            parse(bad)


@pytest.mark.parametrize("name, admin_key, sites, dc", [
    ("full", True, {"wayne": ("classic", ["jira", "confluence"])}, {"jira", "confluence"}),
    ("cloud", True, {"tyrell": ("classic", ["jira", "confluence"])}, set()),
    ("site-only", False, {"cyberdyne": ("classic", ["jira", "confluence"])}, set()),
    ("scoped-only", False, {"acme": ("scoped", ["jira", "confluence"])}, set()),
    ("org-only", True, {}, set()),
    ("jira-only", True, {"initech": ("classic", ["jira"])}, set()),
    ("confluence-only", True, {"umbrella": ("classic", ["confluence"])}, set()),
    ("split-products", True, {"hooli": ("classic", ["jira"]), "hooli-atlas": ("classic", ["confluence"])}, set()),
    ("dc-only", False, {}, {"jira", "confluence"}),
    ("dc-jira", False, {}, {"jira"}),
    ("dc-confluence", False, {}, {"confluence"}),
])
def test_connector_config_gives_exactly_the_topology(name, admin_key, sites, dc):
    org, secret = config(name)
    assert ("admin_api_key" in secret) is admin_key
    assert {n: (s["auth"], s["products"]) for n, s in org["sites"].items()} == sites
    assert set(secret["sites"]) == set(sites)
    assert {d["product"] for d in org["data_center"].values()} == dc
    assert set(secret["data_center"]) == set(org["data_center"])


def test_the_tenant_follows_its_topology():
    sim = estate()
    by = dict(zip(NAMES, sim.orgs, strict=True))
    assert by["dc-only"].sites == [] and by["dc-only"].events is None and not by["dc-only"].guard
    assert by["dc-only"].accounts == [] and {c.kind for c in by["dc-only"].credentials} == {"pat"}
    assert [d.product for d in by["dc-jira"].dc] == ["jira"]
    jira_only = by["jira-only"].sites[0]
    assert jira_only.confluence.spaces == [] and jira_only.confluence_apps == []
    assert not any(p.product_key == "confluence" for a in by["jira-only"].accounts for p in a.product_access)
    assert {w.type_key for w in by["jira-only"].workspaces} == {"jira-software"}
    free = by["cloud+free+noguard"]
    assert free.sites[0].plan == "free" and not free.guard
    assert not any(g.holder_type == "anyone" for s in free.sites[0].jira.schemes for g in s.grants)
    assert not free.sites[0].confluence.anonymous_access
    assert not any(p.policy_type == "ip-allowlist" for p in by["site-only+standard"].policies)


def test_sites_answer_404_for_a_product_they_do_not_run():
    sim = estate()

    async def go():
        async with sim.client() as client:
            out = {}
            for name, path in (("jira-only", "/wiki/api/v2/spaces"), ("confluence-only", "/rest/api/3/project/search"),
                               ("jira-only", "/rest/api/3/project/search"), ("jira-only", "/_edge/tenant_info")):
                i = NAMES.index(name)
                org = sim.orgs[i]
                r = await client.get(sim.urls(org=i)["sites"][0] + path, auth=sim.auth(org=i))
                out[(name, path)] = r.status_code
                scoped = sim.urls(org=i)["scoped"][org.sites[0].name]["confluence"] + "/wiki/api/v2/spaces"
                out[(name, "scoped confluence")] = (await client.get(scoped, auth=sim.auth("scoped-admin-token", i))
                                                    ).status_code
            return out

    got = asyncio.run(go())
    assert got[("jira-only", "/wiki/api/v2/spaces")] == 404
    assert got[("confluence-only", "/rest/api/3/project/search")] == 404
    assert got[("jira-only", "/rest/api/3/project/search")] == 200
    assert got[("jira-only", "/_edge/tenant_info")] == 200
    assert got[("jira-only", "scoped confluence")] == 404
    assert got[("confluence-only", "scoped confluence")] == 200


@pytest.mark.parametrize("name, check_id, status, reason", [
    ("site-only", "IDENT-003", "not_evaluable", "organization API key"),
    ("site-only", "POSTURE-003", "not_evaluable", "organization API key"),
    ("site-only", "POSTURE-016", "evaluated", ""),
    ("site-only", "IDENT-020", "evaluated", ""),
    ("org-only", "POSTURE-016", "not_evaluable", "Jira"),
    ("org-only", "IDENT-001", "evaluated", ""),
    ("org-only", "PLUGIN-001", "not_evaluable", "app inventory"),
    ("scoped-only", "PLUGIN-001", "not_evaluable", "scoped token"),
    ("scoped-only", "POSTURE-031", "evaluated", ""),
    ("cloud", "POSTURE-039", "not_evaluable", "Data Center"),
    ("cloud", "POSTURE-038", "not_evaluable", "Data Center"),
    ("jira-only", "POSTURE-031", "not_evaluable", "Confluence"),
    ("confluence-only", "POSTURE-016", "not_evaluable", "Jira"),
    ("confluence-only", "POSTURE-031", "evaluated", ""),
    ("dc-only", "POSTURE-001", "not_evaluable", "organization API key"),
    ("dc-only", "POSTURE-012", "not_evaluable", "Data Center only"),
    ("dc-only", "POSTURE-031", "evaluated", ""),
    ("dc-only", "POSTURE-039", "evaluated", ""),
    ("dc-jira", "POSTURE-038", "not_evaluable", "Confluence Data Center"),
    ("dc-confluence", "POSTURE-029", "not_evaluable", "Jira Data Center"),
    ("cloud+free+noguard", "AUDIT-J01", "not_evaluable", "Free plan"),
    ("cloud+free+noguard", "POSTURE-008", "not_evaluable", "Guard"),
    ("cloud+free+noguard", "POSTURE-014", "evaluated", ""),
])
def test_the_oracle_gates_what_the_credentials_cannot_reach(name, check_id, status, reason):
    entry = checks()[name][check_id]
    assert entry["status"] == status, entry
    assert reason in entry["reason"]


def test_a_gated_check_never_passes_or_fails():
    for name, org_checks in checks().items():
        for check_id, entry in org_checks.items():
            if entry["status"] != "evaluated":
                assert entry["fails"] == [] and entry["reason"], (name, check_id)


def test_what_stays_visible_still_fails():
    """Gating is not blanket: the exposed site-only and DC-only tenants still fail their exposures."""
    assert checks()["site-only"]["POSTURE-016"]["fails"]  # exposed profile: public projects
    dc = checks()["dc-only"]
    assert any(k.startswith("site:dc:") for k in dc["POSTURE-039"]["fails"])


def test_the_cli_rejects_an_unknown_topology_in_one_line():
    from atlassian_posture.cli import main
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["simulate", "--size", "tiny", "--topology", "cloud+gold"])
    assert result.exit_code == 2
    assert "unknown topology modifier 'gold'" in result.output


def test_time_travel_keeps_each_topology():
    """Advancing adds no product a site does not run, no Cloud to a Data Center only tenant, no Anyone on Free."""
    sim = Simulator.generate("tiny", seed=7, topologies=["jira-only", "confluence-only", "dc-only", "cloud+free"])
    sim.advance(1)
    jira_only, confluence_only, dc_only, free = sim.orgs
    assert not any(p.product_key == "confluence" for a in jira_only.accounts for p in a.product_access)
    assert confluence_only.sites[0].jira_apps == [] and confluence_only.sites[0].jira.audit is None
    assert dc_only.sites == [] and all(d.audit.extras for d in dc_only.dc)
    assert not any(g.holder_type == "anyone" for s in free.sites[0].jira.schemes for g in s.grants)
    assert all(org["checks"] for org in sim.truth()["orgs"])
