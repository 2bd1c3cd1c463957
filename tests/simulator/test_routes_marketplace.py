"""The public Marketplace stand-in: listings, Connect scopes, private apps answering 404."""

import asyncio

from atlassian_simulator.core import Simulator


def _get(sim, path):
    async def go():
        async with sim.client() as client:
            return await client.get(sim.urls()["marketplace"] + path)

    return asyncio.run(go())


def test_listed_app_has_trust_programmes_and_its_version_carries_connect_scopes():
    sim = Simulator.generate("tiny", seed=7)
    app = next(a for a in sim.orgs[0].sites[0].jira_apps if a.name == "Admin Sync Pro")
    listing = _get(sim, f"/rest/2/addons/{app.key}")
    assert listing.status_code == 200
    body = listing.json()
    assert body["key"] == app.key
    assert body["programs"]["cloudFortified"]["status"] == "notApproved"
    assert body["storesPersonalData"] is True
    version = _get(sim, f"/rest/2/addons/{app.key}/versions/latest").json()
    assert version["deployment"]["connect"] is True
    assert "ADMIN" in version["deployment"]["scopes"]


def test_private_app_and_unknown_key_answer_404():
    sim = Simulator.generate("tiny", seed=7)
    private = next(a for a in sim.orgs[0].sites[0].jira_apps if a.name == "Project Tuner")
    assert private.listing is None
    assert _get(sim, f"/rest/2/addons/{private.key}").status_code == 404
    assert _get(sim, "/rest/2/addons/com.example.nothing").status_code == 404


def test_a_key_has_the_same_listing_whichever_org_installed_it():
    sim = Simulator.generate("small", seed=7, orgs=2)
    keys = [{a.key: a for a in org.sites[0].jira_apps if a.listing} for org in sim.orgs]
    shared = set(keys[0]) & set(keys[1])
    assert shared
    for key in shared:
        assert keys[0][key].listing == keys[1][key].listing
        assert keys[0][key].vendor == keys[1][key].vendor
