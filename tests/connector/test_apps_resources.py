"""Installed apps (UPM on Cloud and DC) and their Marketplace listings against the simulated state."""

from __future__ import annotations

import duckdb
import pytest
from atlassian_posture.connector.helpers import Connections, Coverage
from atlassian_posture.connector.resources import apps
from atlassian_posture.connector.runner import extract
from atlassian_simulator.core import Simulator

RESOURCES = [r.name for r in apps.build(Connections([]), Coverage())]


def run(sim, base, tmp_path, auth="classic", public_marketplace=False):
    orgs, credentials = sim.connector_config(base, auth=auth)
    if public_marketplace:  # as configured for a real tenant: the default Marketplace URL
        for org in orgs.values():
            org.pop("marketplace_url")
    return extract(orgs, credentials, tmp_path / "w.duckdb", pipelines_dir=tmp_path / "pipelines",
                   resources=RESOURCES)


def current(tmp_path, table: str, columns: str, where: str = "true") -> list[tuple]:
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as db:
        return db.execute(f"select {columns} from raw.{table} where _dlt_valid_to is null and ({where})").fetchall()


def retired(tmp_path, table: str, columns: str) -> list[tuple]:
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as db:
        return db.execute(f"select {columns} from raw.{table} where _dlt_valid_to is not null").fetchall()


def upm_visible(apps_) -> list:
    """What Cloud UPM lists: system and Connect apps; Forge apps are not listed."""
    return [a for a in apps_ if a.framework != "forge"]


def check_org(sim, i: int, tmp_path) -> None:
    org = sim.orgs[i]
    site = org.sites[0]
    root = org.sites[0].name
    for product, installed in (("jira", site.jira_apps), ("confluence", site.confluence_apps)):
        rows = current(tmp_path, "apps_installed", "key, version, enabled, user_installed",
                       f"_tenant = '{root}/{site.name}/{product}/cloud'")
        assert sorted(rows) == sorted((a.key, a.version, a.enabled, a.user_installed) for a in upm_visible(installed))
    for dc in org.dc:
        rows = current(tmp_path, "apps_installed", "key, user_installed, update_available",
                       f"_tenant = '{root}/{dc.name}/{dc.product}/dc'")
        assert sorted(rows, key=repr) == sorted(((a.key, a.user_installed, a.update_available if a.user_installed
                                                  else None) for a in dc.apps), key=repr)
        assert any(update for _, _, update in rows)  # PLUGIN-016 has its positive
    keys = {a.key: a for a in upm_visible(site.jira_apps + site.confluence_apps) if a.user_installed}
    listings = current(tmp_path, "apps_marketplace", "key, listed, programs__cloud_fortified__status",
                       f"_tenant = '{root}/marketplace/cloud'")
    assert sorted((k, listed) for k, listed, _ in listings) == sorted((k, a.listing is not None)
                                                                       for k, a in keys.items())
    for key, listed, fortified in listings:
        listing = keys[key].listing
        if listed:
            assert fortified == ("approved" if listing.cloud_fortified else "notApproved")
    if org.config["profile"] == "exposed":
        assert any(not listed for _, listed, _ in listings)  # PLUGIN-007's unlisted app
    # Connect scopes come from the latest Marketplace version
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as db:
        read = db.execute("select p.key, s.value from raw.apps_marketplace p join "
                          "raw.apps_marketplace__latest_version__deployment__scopes s on s._dlt_parent_id = p._dlt_id "
                          "where p._dlt_valid_to is null and p._tenant = ?", [f"{root}/marketplace/cloud"]).fetchall()
    assert sorted(read) == sorted((k, s) for k, a in keys.items() if a.listing is not None for s in a.scopes)


@pytest.mark.parametrize("seed", [7, 11])
def test_installed_apps_and_marketplace_equal_the_model(tmp_path, seed):
    sim = Simulator.generate("small", seed=seed, orgs=2)  # an exposed and a hardened organization
    with sim.serve() as base:
        result = run(sim, base, tmp_path)
    assert {c["status"] for c in result.coverage} == {"ok"}, result.problems
    for i in range(len(sim.orgs)):
        check_org(sim, i, tmp_path)
    upm = [e for e in sim.request_log.entries() if e["path"].endswith("/installed-marketplace")]
    assert upm and all("updates=true" in e["query"] for e in upm)
    # each app key was asked of the Marketplace once, whichever organizations installed it
    asked = [e["path"] for e in sim.request_log.entries() if e["path"].startswith("/marketplace/rest/2/addons/")
             and not e["path"].endswith("/versions/latest")]
    assert len(asked) == len(set(asked))
    assert not sim.request_log.writes()


def test_scoped_sites_skip_upm_with_a_reason_and_dc_apps_still_load(tmp_path):
    sim = Simulator.generate("tiny", seed=7, orgs=1)
    with sim.serve() as base:
        result = run(sim, base, tmp_path, auth="scoped")
    cloud = [c for c in result.coverage if c["tenant"].endswith("/cloud")]
    assert {(c["resource"], c["status"]) for c in cloud} == {("apps_installed", "skipped"),
                                                             ("apps_marketplace", "skipped")}
    assert all("scoped" in c["reason"] or "classic" in c["reason"] for c in cloud)
    assert all(c["status"] == "ok" for c in result.coverage if c["tenant"].endswith("/dc"))
    assert not any("/rest/plugins/" in e["path"] for e in sim.request_log.entries() if "/site/" in e["path"])
    dc_keys = {a.key for d in sim.orgs[0].dc for a in d.apps}
    assert {k for (k,) in current(tmp_path, "apps_installed", "key")} == dc_keys
    assert not sim.request_log.writes()


def test_a_simulated_site_never_calls_the_public_marketplace(tmp_path):
    sim = Simulator.generate("tiny", seed=7, orgs=1)
    with sim.serve() as base:
        result = run(sim, base, tmp_path, public_marketplace=True)
    (entry,) = [c for c in result.coverage if c["resource"] == "apps_marketplace"]
    assert entry["status"] == "skipped" and "marketplace_url" in entry["reason"]


def test_second_run_adds_no_version_and_time_travel_installs_and_retires(tmp_path):
    sim = Simulator.generate("small", seed=7, orgs=1)
    site = sim.orgs[0].sites[0]
    with sim.serve() as base:
        run(sim, base, tmp_path)
        with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as db:
            before = {t: db.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in RESOURCES}
        run(sim, base, tmp_path)
        with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as db:
            assert before == {t: db.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in RESOURCES}
        changes = sim.advance(days=1)["orgs"][0]
        run(sim, base, tmp_path)
    (installed,) = [ref.rsplit(":", 1)[1] for ref in changes["apps_installed"]]
    (removed,) = [ref.rsplit(":", 1)[1] for ref in changes["apps_removed"]]
    jira = f"{site.name}/{site.name}/jira/cloud"
    keys = {k for (k,) in current(tmp_path, "apps_installed", "key", f"_tenant = '{jira}'")}
    assert installed in keys and removed not in keys
    assert keys == {a.key for a in upm_visible(site.jira_apps)}
    assert (removed, jira) in retired(tmp_path, "apps_installed", "key, _tenant")
    # the new app has no public listing (a custom app): it shows as not listed
    assert current(tmp_path, "apps_marketplace", "listed", f"key = '{installed}'") == [(False,)]
    check_org(sim, 0, tmp_path)
    assert not sim.request_log.writes()
