"""Every Atlassian pagination style, walked against the simulator: all rows, no duplicates, caps survived."""

import httpx
import pytest
from atlassian_posture.connector.http import AtlassianClient, AtlassianError, RequestStats
from atlassian_posture.connector.paging import (
    AdminV1,
    AdminV2,
    AuditOffset,
    BareArray,
    ConfluenceV1,
    ConfluenceV2,
    DcAudit,
    DcStream,
    PageBean,
    paginate,
)


def _client(sim, base, which="site", label="site-admin-token"):
    urls = sim.urls(base)
    url = {"site": urls["sites"][0], "gateway": urls["gateway"], "jira-dc": urls["dc"]["jira"],
           "confluence-dc": urls["dc"]["confluence"]}[which]
    return AtlassianClient(url, sim.auth(label), label, sleep=lambda s: None, seed=1)


def _walk(client, path, paginator, **kw):
    stats = RequestStats()
    rows = [row for page in paginate(client, path, paginator, stats=stats, **kw) for row in page]
    return rows, stats


def test_jira_bare_array_survives_the_cap_and_stops_on_an_empty_page(served):
    sim, base = served
    with _client(sim, base) as client:
        rows, stats = _walk(client, "/rest/api/3/users/search", BareArray(5000))  # server caps at 1000
    ids = [r["accountId"] for r in rows]
    assert len(ids) == len(set(ids)) > 0
    assert stats.pages >= 2  # the last page is the empty one


def test_jira_page_bean_advances_by_rows_returned_not_rows_asked(served):
    sim, base = served
    org = sim.orgs[0]
    group = max(org.groups, key=lambda g: len(org.memberships[g.group_id]))
    with _client(sim, base) as client:
        rows, stats = _walk(client, "/rest/api/3/group/member", PageBean(100),  # capped to 50 by Jira
                            params={"groupId": group.group_id, "includeInactiveUsers": "true"})
    assert sorted(r["accountId"] for r in rows) == sorted(org.memberships[group.group_id])
    assert stats.pages == -(-len(rows) // 50)


def test_jira_audit_offset_returns_every_record_once(served):
    sim, base = served
    org = sim.orgs[0]
    log = org.sites[0].jira.audit
    with _client(sim, base) as client:
        rows, _ = _walk(client, "/rest/api/3/auditing/record", AuditOffset(1000))
    assert len(rows) == len(log.window(org.clock)) == len({r["id"] for r in rows})


def test_confluence_v1_and_v2_styles(served):
    sim, base = served
    org = sim.orgs[0]
    with _client(sim, base) as client:
        groups, _ = _walk(client, "/wiki/rest/api/group", ConfluenceV1(7))
        spaces, stats = _walk(client, "/wiki/api/v2/spaces", ConfluenceV2(5))
    assert len(groups) == len(org.groups)
    assert sorted(s["key"] for s in spaces) == sorted(s.key for s in org.sites[0].confluence.spaces)
    assert stats.pages == -(-len(spaces) // 5)


def test_admin_v1_links_and_v2_cursor_styles(served):
    sim, base = served
    org = sim.orgs[0]
    with _client(sim, base, "gateway", "org-admin-key") as client:
        managed, _ = _walk(client, f"/admin/v1/orgs/{org.org_id}/users", AdminV1(None))
        users, _ = _walk(client, f"/admin/v2/orgs/{org.org_id}/directories/-/users/search", AdminV2(30, post=True),
                         json={"expand": ["platformRoles"]})
    assert len(managed) == sum(a.claim_status == "managed" for a in org.accounts)
    assert {u["accountId"] for u in users} == {a.account_id for a in org.accounts if a.account_type == "atlassian"}


def test_data_center_stream_and_audit_cursor(served):
    sim, base = served
    org = sim.orgs[0]
    jira_dc = next(d for d in org.dc if d.product == "jira")
    with _client(sim, base, "jira-dc", "dc-admin-pat") as client:
        users, _ = _walk(client, "/rest/api/2/user/list", DcStream(7))
        events, _ = _walk(client, "/rest/auditing/1.0/events", DcAudit(100))
    assert sorted(u["name"] for u in users) == sorted(u.username for u in jira_dc.users)
    assert len(events) == len(jira_dc.audit.window(org.clock)) == len({e["id"] for e in events})


def test_a_server_that_repeats_its_cursor_is_stopped_not_followed_forever():
    def handler(request):
        return httpx.Response(200, json={"values": [{"id": 1}], "isLast": False, "startAt": 0})

    client = AtlassianClient("https://example.atlassian.net", None, "test", transport=httpx.MockTransport(handler))
    with pytest.raises(AtlassianError, match="repeated a page"):
        list(paginate(client, "/rest/api/3/group/bulk", PageBean(50)))


# A server that answers every request with the same items, but with a fresh cursor or offset each time:
# the requests all differ, the pages do not (issue 14 #4: 22,703 requests in 240 s).
def _same_items(style: str, n: int) -> dict | list:
    items = [{"id": 1}, {"id": 2}]
    return {
        "page_bean": {"values": items, "isLast": False, "startAt": 0},
        "bare_array": items,
        "audit_offset": {"records": items, "offset": 0, "total": 10**9},
        "confluence_v1": {"results": items, "start": 0, "_links": {"next": f"/rest/api/space?start={n}"}},
        "confluence_v2": {"results": items, "_links": {"next": f"/wiki/api/v2/spaces?cursor=c{n}"}},
        "admin_v1": {"data": items, "links": {"next": f"c{n}"}},
        "admin_v2": {"data": items, "links": {"next": f"c{n}"}},
        "admin_v2_post": {"data": items, "links": {"next": f"c{n}"}},
        "dc_stream": {"values": items, "isLast": False, "nextCursor": f"c{n}"},
        "dc_audit": {"entities": items, "pagingInfo": {"lastPage": False, "nextPageCursor": f"c{n}"}},
    }[style]


PAGINATORS = {
    "page_bean": lambda: PageBean(2), "bare_array": lambda: BareArray(2), "audit_offset": lambda: AuditOffset(2),
    "confluence_v1": lambda: ConfluenceV1(2), "confluence_v2": lambda: ConfluenceV2(2),
    "admin_v1": lambda: AdminV1(2), "admin_v2": lambda: AdminV2(2), "admin_v2_post": lambda: AdminV2(2, post=True),
    "dc_stream": lambda: DcStream(2), "dc_audit": lambda: DcAudit(2),
}


@pytest.mark.parametrize("style", sorted(PAGINATORS))
def test_a_server_that_sends_its_first_page_for_every_request_is_stopped_at_the_second(style):
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(200, json=_same_items(style, len(calls)))

    path = "/admin/v2/orgs/o/directories/-/users/search" if style == "admin_v2_post" else "/rest/api/3/things"
    client = AtlassianClient("https://example.atlassian.net", None, "test", transport=httpx.MockTransport(handler))
    with pytest.raises(AtlassianError) as raised:
        list(paginate(client, path, PAGINATORS[style](), json={} if style == "admin_v2_post" else None))
    assert len(calls) == 2  # the repeat is recognised on the first repeated page
    message = str(raised.value)
    assert "\n" not in message and path in message and "repeated a page" in message
