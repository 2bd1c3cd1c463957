"""Every configured tenant has a stable, non-null organization identity, whichever credentials it has:
the Admin API's org id with an org key, else `cloud:<cloudId>` of its first site, else `dc:<host/path>`."""

import httpx
import pytest
from atlassian_posture.connector.config import load_tenants
from atlassian_posture.connector.evaluability import evaluability
from atlassian_posture.connector.helpers import Connections
from atlassian_posture.connector.http import AtlassianError

ORG_ID, CLOUD_ID = "9a1b2c3d-0000-4000-8000-00000000a001", "c0ffee00-0000-4000-8000-00000000a001"


def _transport(tenant_info: bool = True) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/admin/v1/orgs":
            return httpx.Response(200, json={"data": [{"id": ORG_ID, "type": "orgs"}], "links": {}})
        if request.url.path == "/_edge/tenant_info" and tenant_info:
            return httpx.Response(200, json={"cloudId": CLOUD_ID})
        return httpx.Response(404, json={"message": "no route"})

    return httpx.MockTransport(handle)


SITE = {"sites": {"acme": {"url": "https://acme.atlassian.net", "email": "a@acme.example"}}}
SITE_TOKEN = {"sites": {"acme": "t"}}
DC = {"data_center": {"jira-prod": {"product": "jira", "url": "https://Jira.Acme.example/jira/"}}}
DC_TOKEN = {"data_center": {"jira-prod": "pat"}}


def _identities(orgs: dict, credentials: dict, **transport) -> tuple[dict, dict]:
    connections = Connections(load_tenants(orgs, credentials), transport=_transport(**transport))
    try:
        connections.resolve_org_ids()
    finally:
        connections.close()
    return connections.org_ids, connections.org_id_sources


def test_an_org_key_gives_the_admin_api_org_id():
    ids, sources = _identities({"acme": {"admin_url": "https://api.example", **SITE}},
                               {"acme": {"admin_api_key": "k", **SITE_TOKEN}})
    assert ids == {"acme": ORG_ID} and sources == {"acme": "admin_api"}


def test_a_site_token_alone_gives_an_id_from_the_sites_cloud_id():
    ids, sources = _identities({"acme": SITE}, {"acme": SITE_TOKEN})
    assert ids == {"acme": f"cloud:{CLOUD_ID}"} and sources == {"acme": "cloud_id"}
    # a site whose tenant_info does not answer still has an identity: its host
    ids, sources = _identities({"acme": SITE}, {"acme": SITE_TOKEN}, tenant_info=False)
    assert ids == {"acme": "site:acme.atlassian.net"} and sources == {"acme": "site_url"}


def test_data_center_alone_gives_an_id_from_the_instance_url():
    ids, sources = _identities({"acme": DC}, {"acme": DC_TOKEN})
    assert ids == {"acme": "dc:jira.acme.example/jira"} and sources == {"acme": "dc_url"}


def test_two_tenants_configured_differently_never_collide_and_one_tenant_twice_is_refused():
    other = {"sites": {"beta": {"url": "https://beta.atlassian.net", "email": "a@beta.example"}}}
    ids, _ = _identities({"acme": DC, "beta": other}, {"acme": DC_TOKEN, "beta": {"sites": {"beta": "t"}}})
    assert len(set(ids.values())) == 2 and all(ids.values())
    with pytest.raises(AtlassianError, match="same tenant"):
        _identities({"acme": DC, "copy": DC}, {"acme": DC_TOKEN, "copy": DC_TOKEN})


def test_the_evaluable_checks_follow_the_credentials():
    site_only = evaluability(load_tenants({"acme": SITE}, {"acme": SITE_TOKEN})[0])
    with_key = evaluability(load_tenants({"acme": SITE}, {"acme": {"admin_api_key": "k", **SITE_TOKEN}})[0])
    dc_only = evaluability(load_tenants({"acme": DC}, {"acme": DC_TOKEN})[0])
    key_advice = "add an organization API key (admin_api_key)"
    assert site_only.unlock[key_advice] > 15 and key_advice not in with_key.unlock
    assert with_key.evaluable == site_only.evaluable + site_only.unlock[key_advice]
    assert dc_only.evaluable < site_only.evaluable and dc_only.unlock["add a Jira Cloud site"] > 0
    assert "add an organization API key" in site_only.line() and "checks need it" in site_only.line()
    # Guard known absent: its checks move from evaluable to "needs Guard"
    no_guard = evaluability(load_tenants({"acme": SITE}, {"acme": {"admin_api_key": "k", **SITE_TOKEN}})[0],
                            guard=False)
    assert no_guard.unlock["Atlassian Guard on the organization"] > 0
    assert no_guard.evaluable + no_guard.unlock["Atlassian Guard on the organization"] == with_key.evaluable
