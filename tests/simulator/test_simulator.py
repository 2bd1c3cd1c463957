"""The simulator as a whole: determinism, time travel, serving on a socket, sizes, the control API."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import httpx
import pytest
from atlassian_simulator.core import Simulator


def _urls(sim: Simulator) -> list[tuple[str, str]]:
    """A spread of endpoints across every surface: (credential label, url)."""
    u = sim.urls()
    org_id = sim.orgs[0].org_id
    site = u["sites"][0]
    return [
        ("site-admin-token", f"{site}/rest/api/3/users/search?maxResults=100"),
        ("site-admin-token", f"{site}/rest/api/3/permissionscheme?expand=all"),
        ("site-admin-token", f"{site}/rest/api/3/auditing/record?limit=50"),
        ("site-admin-token", f"{site}/wiki/api/v2/spaces?limit=10"),
        ("site-admin-token", f"{site}/wiki/rest/api/audit?limit=20"),
        ("site-admin-token", f"{site}/rest/plugins/1.0/"),
        ("org-admin-key", f"{u['gateway']}/admin/v1/orgs/{org_id}/users"),
        ("org-admin-key", f"{u['gateway']}/admin/v1/orgs/{org_id}/events?limit=50"),
        ("dc-admin-pat", f"{u['dc']['jira']}/rest/api/2/user/list?maxResults=50"),
    ]


async def _fetch_all(sim: Simulator) -> dict[str, tuple[int, bytes]]:
    out = {}
    async with sim.client() as client:
        for label, url in _urls(sim):
            r = await client.get(url, auth=sim.auth(label))
            out[url] = (r.status_code, r.content)
    return out


def test_same_seed_and_size_give_byte_identical_responses():
    first = asyncio.run(_fetch_all(Simulator.generate("small", seed=7)))
    second = asyncio.run(_fetch_all(Simulator.generate("small", seed=7)))
    assert first == second
    assert all(status == 200 for status, _ in first.values()), {u: s for u, (s, _) in first.items()}


def test_another_seed_gives_another_organization():
    a = asyncio.run(_fetch_all(Simulator.generate("small", seed=7)))
    b = asyncio.run(_fetch_all(Simulator.generate("small", seed=8)))
    assert [body for _, body in a.values()] != [body for _, body in b.values()]


def test_several_organizations_and_sites_are_served_at_once():
    sim = Simulator.generate("tiny", seed=3, orgs=3, sites=2)
    names = {s.name for org in sim.orgs for s in org.sites}
    assert len(names) == 6

    async def check():
        async with sim.client() as client:
            for i, org in enumerate(sim.orgs):
                got = (await client.get(f"{sim.urls(org=i)['gateway']}/admin/v1/orgs",
                                        auth=sim.auth("org-admin-key", org=i))).json()
                assert [o["id"] for o in got["data"]] == [org.org_id]  # a key sees only its own org
                for site_url in sim.urls(org=i)["sites"]:
                    r = await client.get(f"{site_url}/rest/api/3/serverInfo", auth=sim.auth(org=i))
                    assert r.status_code == 200
            # one org's token is refused on another org's site
            r = await client.get(f"{sim.urls(org=1)['sites'][0]}/rest/api/3/users/search", auth=sim.auth(org=0))
            assert r.status_code == 401

    asyncio.run(check())


def test_time_travel_changes_responses_and_state():
    sim = Simulator.generate("tiny", seed=7)
    org = sim.orgs[0]
    before_clock = org.clock
    before = asyncio.run(_fetch_all(sim))
    changes = sim.advance(days=1)["orgs"][0]
    assert org.clock > before_clock
    assert changes["accounts_created"] and changes["accounts_deactivated"] and changes["apps_installed"]
    assert any(changes["late_events"].values())
    after = asyncio.run(_fetch_all(sim))
    changed = [url for url in before if before[url] != after[url]]
    assert any("users/search" in u for u in changed)
    assert any("auditing/record" in u for u in changed)
    assert any("/events?" in u for u in changed)
    # the newcomer is in the Jira user list, the leaver is inactive
    users = json.loads(after[_urls(sim)[0][1]][1])
    created = changes["accounts_created"][0]
    assert created in {u["accountId"] for u in users} or len(users) == 100


def test_late_events_become_visible_only_after_time_travel():
    sim = Simulator.generate("tiny", seed=7)
    org = sim.orgs[0]
    log = org.sites[0].jira.audit
    old_clock = org.clock
    before_ids = {e.event_id for e in log.window(org.clock)[:]}
    changes = sim.advance(days=1)["orgs"][0]
    late_id = changes["late_events"][f"jira:{org.sites[0].name}"][0]
    late = next(e for e in log.extras if e.event_id == late_id)
    assert late.time < old_clock < late.processed_at
    assert late_id not in before_ids
    assert late_id in {e.event_id for e in log.window(org.clock)[:]}


def test_served_on_a_real_socket_and_controlled_over_http():
    sim = Simulator.generate("tiny", seed=7)
    with sim.serve() as base:
        urls = sim.urls(base)
        r = httpx.get(f"{urls['sites'][0]}/rest/api/3/serverInfo", auth=sim.auth(), timeout=10)
        assert r.status_code == 200
        assert r.headers["date"] == "Sun, 01 Nov 2026 09:00:00 GMT"  # the simulation clock, not the wall clock
        summary = httpx.get(f"{base}/_sim/summary", timeout=10).json()
        assert summary["orgs"][0]["org_id"] == sim.orgs[0].org_id
        moved = httpx.post(f"{base}/_sim/advance", params={"days": 2}, timeout=10).json()
        assert moved["orgs"][0]["to"].startswith("2026-11-03")
    # control calls are not part of what a client did to "Atlassian"
    assert not any(e["path"].startswith("/_sim") for e in sim.request_log.entries())


def test_request_log_records_method_path_status_and_credential_label_never_the_secret():
    sim = Simulator.generate("tiny", seed=7)
    asyncio.run(_fetch_all(sim))
    entries = sim.request_log.entries()
    assert {e["credential"] for e in entries} >= {"site-admin-token", "org-admin-key", "dc-admin-pat"}
    secrets = {c.secret for c in sim.orgs[0].credentials}
    assert not any(s in json.dumps(entries) for s in secrets)
    assert sim.request_log.writes() == []


@pytest.mark.slow
def test_large_organization_starts_and_serves_in_a_fresh_process():
    """Runs the startup benchmark on the large size; the figures are printed, the test checks it works."""
    result = subprocess.run([sys.executable, "benchmarks/simulator_startup.py", "--size", "large"],
                            capture_output=True, text=True, timeout=600)
    print(result.stdout)
    assert result.returncode == 0, result.stderr
    assert "100,000 accounts" in result.stdout or "accounts" in result.stdout
    assert "(200)" in result.stdout


def test_documented_rate_limit_answers_429_with_atlassian_headers_then_recovers():
    from atlassian_simulator.settings import DOCUMENTED_RATE_LIMITS

    sim = Simulator.generate("tiny", seed=7)
    sim.faults.rate_limits = {"/site/*/rest/api/*": (3, 1.0)}
    assert "/site/*/rest/api/*" in DOCUMENTED_RATE_LIMITS
    url = f"{sim.urls()['sites'][0]}/rest/api/3/serverInfo"

    async def burst():
        async with sim.client() as client:
            return [await client.get(url, auth=sim.auth()) for _ in range(5)]

    responses = asyncio.run(burst())
    assert [r.status_code for r in responses[:3]] == [200, 200, 200]
    limited = responses[3]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.headers["ratelimit-reason"] == "jira-burst-based"
    assert "x-ratelimit-reset" in limited.headers
    assert limited.json()["errorMessages"]


def test_injected_server_errors_and_forbidden_resources_on_the_real_app():
    sim = Simulator.generate("tiny", seed=7)
    site = sim.urls()["sites"][0]
    sim.faults.forbidden = ["*/rest/api/3/auditing/record"]

    async def calls():
        async with sim.client() as client:
            audit = await client.get(f"{site}/rest/api/3/auditing/record", auth=sim.auth())
            users = await client.get(f"{site}/rest/api/3/users/search", auth=sim.auth())
            sim.faults.error_rate = 1.0
            broken = await client.get(f"{site}/rest/api/3/users/search", auth=sim.auth())
            return audit, users, broken

    audit, users, broken = asyncio.run(calls())
    assert audit.status_code == 403 and users.status_code == 200
    assert broken.status_code in (500, 502, 503)
    assert {e["fault"] for e in sim.request_log.entries()} - {None}


def test_time_travel_moves_the_ground_truth_with_the_state():
    sim = Simulator.generate("small", seed=7)
    before = sim.truth()["orgs"][0]["checks"]
    changes = sim.advance(days=1)["orgs"][0]
    after = sim.truth()["orgs"][0]["checks"]

    def added(check):
        return set(after[check]["fails"]) - set(before[check]["fails"])

    def removed(check):
        return set(before[check]["fails"]) - set(after[check]["fails"])

    promoted = changes["memberships_added"][0]["account"]
    assert f"account:{promoted}" in added("IDENT-017")  # newly granted admin
    assert f"account:{promoted}" in added("IDENT-005")
    assert added("AUDIT-J01")  # the admin-group audit record that came with it
    # Browse to Anyone was added to the internal scheme: its projects are now public
    internal = next(s for s in sim.orgs[0].sites[0].jira.schemes if s.name == "Internal projects")
    site = sim.orgs[0].sites[0]
    on_internal = {f"project:{site.name}:{p.key}" for p in site.jira.projects
                   if p.scheme_id == internal.scheme_id and not p.archived}
    assert on_internal and on_internal <= added("POSTURE-016")
    # anonymous comments were removed from the open-source scheme
    assert {f"project:{site.name}:OSS", f"project:{site.name}:DOCS"} <= removed("POSTURE-017")
    installed = changes["apps_installed"][0]
    assert installed in added("PLUGIN-017") and installed not in after["PLUGIN-015"]["fails"]
    gone = changes["apps_removed"][0]
    assert all(gone not in after[c]["fails"] for c in after if c.startswith("PLUGIN-"))
    assert after["IDENT-001"]["status"] == "evaluated"


def test_resets_and_truncations_reach_a_socket_client_as_transport_errors():
    sim = Simulator.generate("tiny", seed=7)
    with sim.serve() as base:
        url = f"{sim.urls(base)['sites'][0]}/rest/api/3/users/search"
        for fault in ("reset_rate", "truncate_rate"):
            setattr(sim.faults, fault, 1.0)
            with pytest.raises(httpx.TransportError):
                httpx.get(url, auth=sim.auth(), timeout=10)
            setattr(sim.faults, fault, 0.0)
        assert httpx.get(url, auth=sim.auth(), timeout=10).status_code == 200
    statuses = {e["fault"]: e["status"] for e in sim.request_log.entries()}
    assert statuses["reset"] is None
