"""Tests of tests/contract/spec_index.py on hand-written bodies (no simulator)."""

from __future__ import annotations

import copy
import json
import time

import pytest

from tests.contract import spec_index as si

ACCOUNT_ID = "5b10ac8d82e05b22cc7d4ef5"

JIRA_USER = {
    "self": f"https://acme.atlassian.net/rest/api/3/user?accountId={ACCOUNT_ID}",
    "accountId": ACCOUNT_ID,
    "accountType": "atlassian",
    "emailAddress": "mia@acme.example",
    "avatarUrls": {
        "16x16": "https://avatar-management.example/initials/MK-5.png?size=16",
        "24x24": "https://avatar-management.example/initials/MK-5.png?size=24",
        "32x32": "https://avatar-management.example/initials/MK-5.png?size=32",
        "48x48": "https://avatar-management.example/initials/MK-5.png?size=48",
    },
    "displayName": "Mia Krystof",
    "active": True,
    "timeZone": "Europe/Berlin",
    "locale": "en_US",
}

USERS_SEARCH = "/rest/api/3/users/search"


# --------------------------------------------------------------------------- loading


def test_every_spec_loads_once_and_is_openapi_3_0():
    for name in si.SPEC_FILES:
        doc = si.load_spec(name)
        assert doc["openapi"].startswith("3.0."), name
        assert doc["paths"], name
        assert si.load_spec(name) is doc  # cached: same object


def test_unknown_spec_name_is_a_lookup_error():
    with pytest.raises(si.SpecLookupError):
        si.load_spec("bitbucket-cloud")


def test_specs_are_read_from_the_documented_setting(monkeypatch, tmp_path):
    import importlib

    import tests.shared_paths as paths

    monkeypatch.setenv("ATLASSIAN_API_SPECS", str(tmp_path))
    assert importlib.reload(paths).SPECS == tmp_path and si.specs_dir() == tmp_path
    monkeypatch.delenv("ATLASSIAN_API_SPECS")
    monkeypatch.delenv("ATLASSIAN_POSTURE_SHARED", raising=False)
    assert importlib.reload(paths).SPECS == paths.ROOT.parent / "shared" / "atlassian-api" / "specs"


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("jira-cloud-v3", ""),  # https://your-domain.atlassian.net
        ("confluence-cloud-v1", ""),  # //your-domain.atlassian.net (paths carry /wiki/rest/api)
        ("confluence-cloud-v2", "/wiki/api/v2"),  # https://{your-domain}/wiki/api/v2
        ("admin-organization", "/admin"),  # https://api.atlassian.com/admin
        ("admin-user-management", ""),  # https://api.atlassian.com
        ("jira-dc", "/rest"),  # http://{baseurl}/rest
        ("confluence-dc", "/confluence"),  # http://{baseurl}/confluence
    ],
)
def test_server_base_path_derived_from_servers_url(name, base):
    assert si.server_base_path(name) == base


def test_jira_load_and_first_validation_are_fast():
    si.clear_caches()
    started = time.perf_counter()
    si.load_spec("jira-cloud-v3")
    loaded = time.perf_counter()
    assert si.validate("jira-cloud-v3", USERS_SEARCH, "GET", 200, [JIRA_USER]) == []
    done = time.perf_counter()
    print(
        f"\njira-cloud-v3: load {loaded - started:.3f}s, "
        f"first validation {done - loaded:.3f}s, total {done - started:.3f}s"
    )
    assert done - started < 5.0
    # a second, different body on the cached validator is much cheaper still
    again = time.perf_counter()
    si.validate("jira-cloud-v3", USERS_SEARCH, "GET", 200, [JIRA_USER] * 200)
    assert time.perf_counter() - again < 1.0


# --------------------------------------------------------------------------- Jira users


def test_valid_jira_users_search_body():
    assert si.validate("jira-cloud-v3", USERS_SEARCH, "GET", 200, [JIRA_USER]) == []
    assert si.validate("jira-cloud-v3", USERS_SEARCH, "get", "200", []) == []


def test_atlassians_own_example_validates():
    media = si.load_spec("jira-cloud-v3")["paths"][USERS_SEARCH]["get"]["responses"]["200"]["content"]
    example = json.loads(media["application/json"]["example"])
    assert example and si.validate("jira-cloud-v3", USERS_SEARCH, "GET", 200, example) == []


def test_wrong_type_is_reported_with_body_path_and_schema_location():
    errors = si.validate("jira-cloud-v3", USERS_SEARCH, "GET", 200, [JIRA_USER, dict(JIRA_USER, active="yes")])
    assert errors == [
        "$[1].active: 'yes' is not of type 'boolean'  [schema #/components/schemas/User/properties/active/type]"
    ]


def test_other_user_errors_are_readable():
    bad = dict(JIRA_USER, emailAddress=None, accountType="robot", surprise=1)
    errors = si.validate("jira-cloud-v3", USERS_SEARCH, "GET", 200, [bad])
    text = "\n".join(errors)
    assert "$[0]: Additional properties are not allowed ('surprise' was unexpected)" in text
    assert "$[0].emailAddress: null is not allowed" in text
    assert "$[0].accountType: 'robot' is not one of" in text
    assert len(errors) == 3  # the two type errors for null collapse into one
    assert si.validate("jira-cloud-v3", USERS_SEARCH, "GET", 200, {"values": []})[0].startswith(
        "$: {\"values\": []} is not of type 'array'"
    )


def test_errors_are_capped():
    errors = si.validate("jira-cloud-v3", USERS_SEARCH, "GET", 200, [dict(JIRA_USER, active="no")] * 50)
    assert len(errors) == si.MAX_ERRORS + 1
    assert errors[-1] == "… and 30 more errors"


def test_jira_date_times_use_the_basic_offset_form():
    body = {"baseUrl": "https://acme.atlassian.net", "serverTime": "2024-05-01T10:00:00.000+0000"}
    assert si.validate("jira-cloud-v3", "/rest/api/3/serverInfo", "GET", 200, body) == []
    body["serverTime"] = "yesterday"
    assert "is not a valid 'date-time'" in si.validate("jira-cloud-v3", "/rest/api/3/serverInfo", "GET", 200, body)[0]


def test_undeclared_operation_or_status_is_an_error():
    assert si.validate("jira-cloud-v3", USERS_SEARCH, "GET", 418, []) == [
        "jira-cloud-v3: GET /rest/api/3/users/search declares no response 418 (declares ['200', '400', '403', '409'])"
    ]
    assert "declares no DELETE" in si.validate("jira-cloud-v3", USERS_SEARCH, "DELETE", 200, [])[0]
    assert "no path template" in si.validate("jira-cloud-v3", "/rest/api/3/nope", "GET", 200, [])[0]


# --------------------------------------------------------------------------- admin / confluence


ORG = {
    "id": "0a1b2c3d-aaaa-bbbb-cccc-0123456789ab",
    "type": "orgs",
    "attributes": {"name": "Acme"},
    "relationships": {
        "domains": {"links": {"related": "https://api.atlassian.com/admin/v1/orgs/0a1b/domains"}},
        "users": {"links": {"related": "https://api.atlassian.com/admin/v1/orgs/0a1b/users"}},
    },
    "links": {"self": "https://api.atlassian.com/admin/v1/orgs/0a1b"},
}


def test_admin_orgs_valid():
    body = {"data": [ORG], "links": {"self": "https://api.atlassian.com/admin/v1/orgs"}}
    assert si.validate("admin-organization", "/v1/orgs", "GET", 200, body) == []


def test_admin_orgs_invalid():
    org = copy.deepcopy(ORG)
    org["type"] = "org"
    del org["links"]
    org["relationships"]["users"]["links"] = {}
    errors = si.validate("admin-organization", "/v1/orgs", "GET", 200, {"data": [org], "links": {"next": 2}})
    assert sorted(errors) == sorted(
        [
            "$.data[0]: 'links' is a required property  [schema #/components/schemas/OrgModel/required]",
            "$.data[0].type: 'org' is not one of [\"orgs\"]  [schema #/components/schemas/OrgModel/properties/type/enum]",
            "$.data[0].relationships.users.links: 'related' is a required property  "
            "[schema #/components/schemas/LinkRelatedModel/required]",
            "$.links.next: 2 is not of type 'string'  [schema #/components/schemas/LinkPageModel/properties/next/type]",
        ]
    )


def test_admin_error_response_via_components_responses():
    schema = si.response_schema("admin-organization", "/v1/orgs", "GET", 400)
    assert schema == {"$ref": "#/components/schemas/Error.InvalidPageCursor.Model"}


SPACE = {
    "id": "98306",
    "key": "ENG",
    "name": "Engineering",
    "type": "global",
    "status": "current",
    "authorId": ACCOUNT_ID,
    "createdAt": "2024-05-01T10:00:00.000Z",
    "homepageId": "98310",
    "_links": {"webui": "/spaces/ENG"},
}


def test_confluence_v2_spaces_valid():
    body = {"results": [SPACE], "_links": {"next": "/wiki/api/v2/spaces?cursor=abc", "base": "https://acme.atlassian.net/wiki"}}
    assert si.validate("confluence-cloud-v2", "/spaces", "GET", 200, body) == []


def test_confluence_v2_spaces_invalid():
    bad = dict(SPACE, id=98306, type="team", createdAt="2024-05-01T10:00:00.000+0000")
    errors = si.validate("confluence-cloud-v2", "/spaces", "GET", 200, {"results": [bad]})
    assert len(errors) == 3
    assert errors[0].startswith("$.results[0].id: 98306 is not of type 'string'")
    assert any(e.startswith("$.results[0].type: 'team' is not one of") for e in errors)
    # Confluence Cloud v2 uses RFC 3339 ("...Z"); the Jira-style +0000 offset is not allowed here
    assert any(e.startswith("$.results[0].createdAt: '2024-05-01T10:00:00.000+0000' is not a valid 'date-time'") for e in errors)


def test_boolean_discriminator_of_user_management():
    """Manageability.Rule.Simple dispatches on a boolean ("true"/"false" mapping keys)."""
    template = "/users/{account_id}/manage"
    body = {
        "profile.read": {"allowed": True},
        "lifecycle.enablement": {"allowed": False, "reason": {"key": "managedAccount"}},
    }
    assert si.validate("admin-user-management", template, "GET", 200, body) == []
    errors = si.validate("admin-user-management", template, "GET", 200, {"email.set": {"allowed": False}})
    assert errors == [
        "$[\"email.set\"]: 'reason' is a required property  "
        "[schema #/components/schemas/Manageability.Unallowed/required]"
    ]
    errors = si.validate("admin-user-management", template, "GET", 200, {"email.set": {}})
    assert errors[0].startswith("$[\"email.set\"]: missing discriminator property 'allowed'")


# --------------------------------------------------------------------------- response_schema


def test_response_schema_picks_json_and_falls_back():
    schema = si.response_schema("jira-cloud-v3", USERS_SEARCH, "GET", 200)
    assert schema == {"items": {"$ref": "#/components/schemas/User"}, "type": "array"}
    # confluence-dc declares only "default" for some operations
    assert si.response_schema("confluence-dc", "/rest/api/content/{id}/property/{key}", "POST", 200) == {
        "$ref": "#/components/schemas/JsonContentProperty"
    }
    # ... and for GET /rest/api/audit a "default" with an application/json media type but no schema
    assert si.response_schema("confluence-dc", "/rest/api/audit", "GET", 200) is None
    # no body declared
    assert si.response_schema("jira-cloud-v3", "/rest/api/3/project/{projectIdOrKey}", "DELETE", 204) is None
    assert si.validate("jira-cloud-v3", "/rest/api/3/project/{projectIdOrKey}", "DELETE", 204, None) == []
    with pytest.raises(si.SpecLookupError):
        si.response_schema("jira-cloud-v3", USERS_SEARCH, "GET", 500)


# --------------------------------------------------------------------------- matcher


@pytest.mark.parametrize(
    ("name", "method", "path", "template"),
    [
        ("jira-cloud-v3", "GET", "/rest/api/3/group/member", "/rest/api/3/group/member"),
        ("jira-cloud-v3", "GET", "/rest/api/3/group/member?groupId=1&startAt=0", "/rest/api/3/group/member"),
        ("jira-cloud-v3", "GET", "/rest/api/3/users/search/", USERS_SEARCH),
        # literal beats parameter ...
        ("jira-cloud-v3", "GET", "/rest/api/3/project/search", "/rest/api/3/project/search"),
        ("jira-cloud-v3", "GET", "/rest/api/3/project/ENG", "/rest/api/3/project/{projectIdOrKey}"),
        # ... but only among templates declaring the method
        ("jira-cloud-v3", "DELETE", "/rest/api/3/project/search", "/rest/api/3/project/{projectIdOrKey}"),
        ("jira-cloud-v3", "GET", "/rest/api/3/project/ENG/role/10002", "/rest/api/3/project/{projectIdOrKey}/role/{id}"),
        ("confluence-cloud-v1", "GET", "/wiki/rest/api/audit", "/wiki/rest/api/audit"),
        ("confluence-cloud-v2", "GET", "/spaces/123/permissions", "/spaces/{id}/permissions"),
        ("confluence-cloud-v2", "GET", "/spaces", "/spaces"),
        ("admin-organization", "GET", "/v1/orgs/abc/events", "/v1/orgs/{orgId}/events"),
        # same hierarchy, different parameter names, told apart by method
        ("admin-organization", "GET", "/v2/orgs/o/directories/d/users/u", "/v2/orgs/{orgId}/directories/{directoryId}/users/{userId}"),
        ("admin-organization", "DELETE", "/v2/orgs/o/directories/d/users/u", "/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}"),
        ("admin-user-management", "GET", "/users/abc/manage/api-tokens", "/users/{account_id}/manage/api-tokens"),
        ("jira-dc", "GET", "/api/2/user/list", "/api/2/user/list"),
        ("jira-dc", "GET", "/api/2/user/search", "/api/2/user/search"),
        ("confluence-dc", "GET", "/rest/api/space", "/rest/api/space"),
        ("confluence-dc", "GET", "/rest/api/space/ENG/permissions", "/rest/api/space/{spaceKey}/permissions"),
    ],
)
def test_match_path(name, method, path, template):
    assert si.match_path(name, method, path) == template


@pytest.mark.parametrize(
    ("name", "method", "path"),
    [
        ("jira-cloud-v3", "GET", "/rest/api/3/no-such-thing"),
        ("jira-cloud-v3", "GET", "/rest/api/2/users/search"),  # v2 paths go through spec_for
        ("jira-cloud-v3", "PATCH", USERS_SEARCH),
        ("jira-cloud-v3", "GET", "/rest/api/3/project//role"),  # empty segment never fills a parameter
        ("confluence-cloud-v2", "GET", "/wiki/api/v2/spaces"),  # not relative to the server base
        ("jira-dc", "GET", "/rest/api/2/user/list"),
        ("admin-organization", "GET", "/admin/v1/orgs"),
    ],
)
def test_match_path_none(name, method, path):
    assert si.match_path(name, method, path) is None


@pytest.mark.parametrize(
    ("simulator_path", "expected"),
    [
        # Cloud site
        ("/site/acme/rest/api/3/users/search", ("jira-cloud-v3", "/rest/api/3/users/search")),
        ("/site/acme/rest/api/2/users/search?startAt=50", ("jira-cloud-v3", "/rest/api/3/users/search")),
        ("/site/acme/rest/api/2/group/member", ("jira-cloud-v3", "/rest/api/3/group/member")),
        ("/site/acme/wiki/rest/api/audit", ("confluence-cloud-v1", "/wiki/rest/api/audit")),
        ("/site/acme/wiki/api/v2/spaces/123/permissions", ("confluence-cloud-v2", "/spaces/123/permissions")),
        ("/site/acme/wiki/api/v2/spaces", ("confluence-cloud-v2", "/spaces")),
        # api.atlassian.com gateway
        ("/gateway/admin/v1/orgs", ("admin-organization", "/v1/orgs")),
        ("/gateway/admin/v1/orgs/abc/events", ("admin-organization", "/v1/orgs/abc/events")),
        ("/gateway/admin/v2/orgs/abc/directories/-/users", ("admin-organization", "/v2/orgs/abc/directories/-/users")),
        ("/gateway/users/557058:abc/manage/api-tokens", ("admin-user-management", "/users/557058:abc/manage/api-tokens")),
        ("/gateway/users/557058:abc/manage", ("admin-user-management", "/users/557058:abc/manage")),
        ("/gateway/ex/jira/1234-cloud-id/rest/api/3/users/search", ("jira-cloud-v3", "/rest/api/3/users/search")),
        ("/gateway/ex/jira/1234-cloud-id/rest/api/2/users/search", ("jira-cloud-v3", "/rest/api/3/users/search")),
        ("/gateway/ex/confluence/1234-cloud-id/wiki/api/v2/spaces", ("confluence-cloud-v2", "/spaces")),
        ("/gateway/ex/confluence/1234-cloud-id/wiki/rest/api/audit", ("confluence-cloud-v1", "/wiki/rest/api/audit")),
        # Data Center
        ("/dc/jira1/rest/api/2/user/list", ("jira-dc", "/api/2/user/list")),
        ("/dc/jira1/rest/agile/1.0/board", ("jira-dc", "/agile/1.0/board")),
        ("/dc/wiki1/confluence/rest/api/space", ("confluence-dc", "/rest/api/space")),
        # full URLs are accepted too
        ("http://testserver/dc/wiki1/confluence/rest/api/space?limit=25", ("confluence-dc", "/rest/api/space")),
    ],
)
def test_spec_for(simulator_path, expected):
    assert si.spec_for(simulator_path) == expected


@pytest.mark.parametrize(
    "simulator_path",
    [
        "/site/acme/rest/plugins/1.0/",
        "/site/acme/rest/plugins/1.0/available/features",
        "/site/acme/wiki/rest/plugins/1.0/",
        "/site/acme/_edge/tenant_info",
        "/dc/jira1/rest/plugins/1.0/",
        "/dc/jira1/rest/auditing/1.0/events",
        "/dc/wiki1/confluence/rest/auditing/1.0/events",
        "/dc/wiki1/confluence/rest/plugins/1.0/",
        "/gateway/admin/api-access/v1/orgs/abc/api-tokens",
        "/gateway/admin/control/v1/orgs/abc/policies",
        "/gateway/ex/jira/1234/rest/plugins/1.0/",
        "/gateway/ex/bitbucket/1234/rest/api/2.0/repositories",
        "/gateway/ex/jira/1234/wiki/api/v2/spaces",  # Confluence path behind the Jira gateway
        "/gateway/users/abc/profile",
        "/gateway/nothing",
        "/site/acme/",
        "/site/acme/secure/Dashboard.jspa",
        "/dc/jira1/secure/Dashboard.jspa",
        "/elsewhere/rest/api/3/users/search",
        "/",
    ],
)
def test_spec_for_uncovered(simulator_path):
    assert si.spec_for(simulator_path) is None


def test_locate():
    assert si.locate("GET", "/site/acme/rest/api/2/project/ENG/role/10002") == si.SpecMatch(
        "jira-cloud-v3", "/rest/api/3/project/{projectIdOrKey}/role/{id}", "/rest/api/3/project/ENG/role/10002"
    )
    assert si.locate("GET", "/gateway/ex/confluence/c1/wiki/api/v2/spaces/7/permissions") == si.SpecMatch(
        "confluence-cloud-v2", "/spaces/{id}/permissions", "/spaces/7/permissions"
    )
    assert si.locate("GET", "/dc/j/rest/api/2/user/list").template == "/api/2/user/list"
    assert si.locate("GET", "/site/acme/rest/api/3/nope") is None  # Jira family, but no template
    assert si.locate("GET", "/site/acme/rest/plugins/1.0/") is None


# --------------------------------------------------------------------------- known defects


def test_known_spec_defects_entries_are_well_formed():
    for (name, template, method), defect in si.KNOWN_SPEC_DEFECTS.items():
        assert method == method.upper()
        assert method.lower() in si.load_spec(name)["paths"][template], (name, template, method)
        assert defect.reason.strip() and defect.relax
        si._patched(si.load_spec(name), defect.relax)  # raises ValueError when stale


def test_relaxation_is_explicit_and_scoped(monkeypatch):
    """The user-management AccountId pattern ends in a literal newline, so real account IDs fail it."""
    name, profile = "admin-user-management", "/users/{account_id}/manage/profile"
    body = {
        "account": {
            "account_id": "557058:4f9acfd2-6155-419b-8de5-5b5cf27a59a0",
            "account_type": "atlassian",
            "account_status": "active",
            "name": "Mia Krystof",
            "nickname": "mia",
            "email": "mia@acme.example",
            "picture": "https://avatar.example/mia",
        }
    }
    errors = si.validate(name, profile, "GET", 200, body)
    assert len(errors) == 1 and "AccountId/pattern" in errors[0]

    monkeypatch.setitem(
        si.KNOWN_SPEC_DEFECTS,
        (name, profile, "GET"),
        si.SpecDefect(
            reason="AccountId.pattern ends with a newline; real account IDs never match it",
            relax=("#/components/schemas/AccountId/pattern",),
        ),
    )
    test_known_spec_defects_entries_are_well_formed()
    assert si.validate(name, profile, "GET", 200, body) == []
    # PATCH of the same path shares the schema but is not relaxed
    assert len(si.validate(name, profile, "PATCH", 200, body)) == 1
    # the shared document is untouched
    assert si.load_spec(name)["components"]["schemas"]["AccountId"]["pattern"].endswith("\n")


def test_relax_pointer_kinds(monkeypatch):
    key = ("jira-cloud-v3", USERS_SEARCH, "GET")
    bad = dict(JIRA_USER, active="yes", emailAddress=None, extra=1)
    monkeypatch.setitem(
        si.KNOWN_SPEC_DEFECTS,
        key,
        si.SpecDefect(
            reason="test",
            relax=(
                "/components/schemas/User/properties/active/type",
                "/components/schemas/User/properties/emailAddress/nullable",
                "/components/schemas/User/additionalProperties",
            ),
        ),
    )
    assert si.validate(*key, 200, [bad]) == []
    assert len(si.validate("jira-cloud-v3", "/rest/api/3/user", "GET", 200, bad)) == 3  # other operation: strict

    monkeypatch.setitem(si.KNOWN_SPEC_DEFECTS, key, si.SpecDefect("test", ("/components/schemas/User/required/accountId",)))
    with pytest.raises(ValueError, match="does not resolve"):
        si.validate(*key, 200, [JIRA_USER])
    monkeypatch.setitem(si.KNOWN_SPEC_DEFECTS, key, si.SpecDefect("test", ("/components/schemas/NoSuchSchema/type",)))
    with pytest.raises(ValueError, match="does not resolve"):
        si.validate(*key, 200, [JIRA_USER])


# --------------------------------------------------------------------------- coverage


def test_covered_operations():
    jira = si.covered_operations("jira-cloud-v3")
    assert ("GET", USERS_SEARCH) in jira
    assert ("GET", "/rest/api/3/group/member") in jira
    assert ("POST", "/rest/api/3/search/jql") in jira  # search
    assert ("POST", "/rest/api/3/search/approximate-count") in jira  # count
    assert ("POST", "/rest/api/3/issue/bulkfetch") in jira  # bulk fetch
    assert ("POST", "/rest/api/3/permissions/check") in jira  # "Get bulk permissions"
    assert ("POST", "/rest/api/3/issue/bulk") not in jira  # bulk *create*
    assert ("POST", "/rest/api/3/statuses") not in jira  # bulk create statuses
    assert ("PUT", "/rest/api/3/filter/{id}") not in jira
    assert jira == sorted(jira, key=lambda mt: (mt[1], mt[0]))

    admin = si.covered_operations("admin-organization")
    assert ("GET", "/v1/orgs") in admin
    assert ("POST", "/v2/orgs/{orgId}/directories/{directoryId}/users/search") in admin
    assert ("POST", "/v2/orgs/{orgId}/users/invite") not in admin
    assert ("POST", "/users/{account_id}/manage/lifecycle/delete") not in si.covered_operations("admin-user-management")

    for name in si.SPEC_FILES:
        ops = si.covered_operations(name)
        assert ops, name
        paths = si.load_spec(name)["paths"]
        for method, template in ops:
            assert method in ("GET", "POST") and method.lower() in paths[template]
