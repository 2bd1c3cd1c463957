"""Jira Cloud response shapes: one render function per object, shared by every endpoint returning it.

`CloudView` is built once per request: it resolves the caller, the site's data and the
URLs `self` links need (the site URL, or the api.atlassian.com gateway URL for scoped
tokens: links follow the host that was called), then renders model objects.

Shapes follow the Jira Cloud platform OpenAPI document (`J3`); fields whose value is null
are omitted, as Jira does. Emails follow Atlassian's profile-visibility rule as a site
admin sees it: shown for accounts the organization manages and for JSM customers, hidden
for unmanaged (external) accounts and for app bots.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import quote

from starlette.requests import Request

from atlassian_simulator.model import (
    Account,
    ApplicationRole,
    Dashboard,
    Filter,
    Grant,
    Group,
    PermissionScheme,
    Project,
    ProjectRole,
    SharePermission,
)
from atlassian_simulator.server.context import Denied, ctx
from atlassian_simulator.server.routes.jira_common import (
    Caller,
    Permissions,
    actor_id,
    api_version,
    archived_date,
    base_url,
    initials,
    issue_insight,
    jira_time,
    project_category_id,
)
from atlassian_simulator.server.routes.jira_index import is_active, org_index

AVATAR_HOST = "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net"
FILTER_EXPANDS = ("description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,sharePermissions,"
                  "editPermissions,isWritable,approximateLastUsed,subscriptions")
DASHBOARD_EXPANDS = ("description", "owner", "viewUrl", "favourite", "favouritedCount", "sharePermissions",
                     "editPermissions", "isWritable")
SCHEME_EXPANDS = "permissions,user,group,projectRole,field,all"
HOLDER_EXPANDS = {"group": "group", "user": "user", "projectRole": "projectRole", "userCustomField": "field",
                  "groupCustomField": "field"}
PROJECT_EXPANDS = "description,lead,issueTypes,url,projectKeys,permissions,insight"


def _digest(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=4).digest(), "big")


class CloudView:
    def __init__(self, request: Request):
        context = ctx(request)
        if context.site is None:
            raise Denied(404, "Not found.")
        self.request = request
        self.context = context
        self.org = context.org
        self.site = context.site
        self.jira = context.site.jira
        self.index = org_index(context.org)
        self.base = base_url(request)
        self.v = api_version(request)
        self.api = f"{self.base}/rest/api/{self.v}"
        self.site_url = f"{request.url.scheme}://{request.url.netloc}/site/{self.site.name}"
        credential = context.credential
        user_id = credential.account_id if credential else None
        self.caller = Caller(user_id, self.index.groups_of(user_id), bool(credential and credential.admin))
        self.perms = Permissions(self.jira, self.caller, anonymous_access=self.site.plan != "free")

    # --- permission gates (Denied carries Jira's error body) -------------------------------------

    def require_global(self, key: str, what: str) -> None:
        if self.perms.has_global(key):
            return
        if self.caller.anonymous and key in ("ADMINISTER", "SYSTEM_ADMIN"):
            raise Denied(401, "Client must be authenticated to access this resource.")
        raise Denied(403, f"You do not have permission to {what}.")

    def require_browse_users(self) -> None:
        """Browse users and groups (USER_PICKER); admins always may."""
        if self.perms.has_global("USER_PICKER") or self.perms.jira_admin:
            return
        raise Denied(403, "You don't have the permission to browse users and groups.")

    # --- users and groups -----------------------------------------------------------------------

    def avatar_urls(self, account: Account) -> dict:
        tag = f"{AVATAR_HOST}/initials/{initials(account.name)}-{_digest(account.account_id) % 6}.png"
        return {size: f"{tag}?size={n}&s={n}" for size, n in (("48x48", 48), ("24x24", 24), ("16x16", 16),
                                                                ("32x32", 32))}

    def email_visible(self, account: Account) -> bool:
        return bool(account.email) and (account.claim_status == "managed" or account.account_type == "customer")

    def user(self, account: Account, *, locale: bool = True) -> dict:
        """`User` (users/search, user, project lead, filter owner)."""
        body: dict = {"self": f"{self.api}/user?accountId={account.account_id}", "accountId": account.account_id,
                      "accountType": account.account_type}
        if self.email_visible(account):
            body["emailAddress"] = account.email
        body.update(avatarUrls=self.avatar_urls(account), displayName=account.name, active=is_active(account),
                    timeZone=account.timezone)
        if locale:
            body["locale"] = account.locale
        return body

    def user_details(self, account: Account) -> dict:
        """`UserDetails` (group/member)."""
        body: dict = {"self": f"{self.api}/user?accountId={account.account_id}", "accountId": account.account_id,
                      "accountType": account.account_type}
        if self.email_visible(account):
            body["emailAddress"] = account.email
        body.update(avatarUrls=self.avatar_urls(account), displayName=account.name, active=is_active(account),
                    timeZone=account.timezone)
        return body

    def user_bean(self, account_id: str) -> dict:
        """`UserBean` (dashboard owner, share permission user)."""
        account = self.index.accounts.get(account_id)
        if account is None:
            return {"accountId": account_id, "active": False}
        return {"self": f"{self.api}/user?accountId={account.account_id}", "accountId": account.account_id,
                "displayName": account.name, "active": is_active(account), "avatarUrls": self.avatar_urls(account)}

    def account(self, account_id: str) -> Account | None:
        return self.index.accounts.get(account_id)

    def group_name(self, group: Group) -> dict:
        """`GroupName`: name, groupId, self."""
        return {"name": group.name, "groupId": group.group_id, "self": f"{self.api}/group?groupId={group.group_id}"}

    def group_ref(self, group_id: str) -> dict:
        group = self.index.groups.get(group_id)
        if group is None:
            return {"name": group_id, "groupId": group_id}
        return self.group_name(group)

    # --- application roles ------------------------------------------------------------------------

    def application_role(self, role: ApplicationRole) -> dict:
        groups = [self.index.groups[g] for g in role.group_ids if g in self.index.groups]
        defaults = [self.index.groups[g] for g in role.default_group_ids if g in self.index.groups]
        members: set[str] = set()
        for group in groups:
            members.update(self.org.memberships.get(group.group_id, ()))
        users = sum(1 for a in members if (acc := self.index.accounts.get(a)) is not None
                    and is_active(acc) and acc.account_type == "atlassian")
        return {
            "key": role.key,
            "groups": sorted(g.name for g in groups),
            "groupDetails": [self.group_name(g) for g in sorted(groups, key=lambda g: g.name)],
            "name": role.name,
            "defaultGroups": sorted(g.name for g in defaults),
            "defaultGroupsDetails": [self.group_name(g) for g in sorted(defaults, key=lambda g: g.name)],
            "selectedByDefault": False,
            "defined": True,
            "numberOfSeats": role.number_of_seats,
            "remainingSeats": max(role.number_of_seats - users, 0),
            "userCount": users,
            "userCountDescription": "users",
            "hasUnlimitedSeats": False,
            "platform": False,
        }

    # --- projects and roles ---------------------------------------------------------------------

    def project_avatars(self, project: Project) -> dict:
        return {size: f"{self.site_url}/rest/api/{self.v}/universal_avatar/view/type/project/avatar/"
                      f"{10_400 + int(project.project_id) % 25}?size={name}"
                for size, name in (("48x48", "large"), ("24x24", "small"), ("16x16", "xsmall"), ("32x32", "medium"))}

    def category(self, project: Project) -> dict | None:
        if not project.category:
            return None
        ident = project_category_id(project.category)
        return {"self": f"{self.api}/projectCategory/{ident}", "id": ident, "name": project.category,
                "description": f"{project.category} projects"}

    def project(self, project: Project, expand: set[str], *, full: bool = False) -> dict:
        """`Project` as project/search (full=False) or project/{key} (full=True) renders it."""
        body: dict = {"expand": PROJECT_EXPANDS, "self": f"{self.api}/project/{project.project_id}",
                      "id": project.project_id, "key": project.key}
        if full or "description" in expand:
            body["description"] = f"{project.name} project"
        if full or "lead" in expand:
            lead = self.index.accounts.get(project.lead_account_id)
            if lead is not None:
                body["lead"] = self.user(lead, locale=False)
        if full:
            body.update(components=[], issueTypes=[], assigneeType="UNASSIGNED", versions=[])
        body["name"] = project.name
        if full:
            body["roles"] = self.project_roles(project)
        body["avatarUrls"] = self.project_avatars(project)
        category = self.category(project)
        if category:
            body["projectCategory"] = category
        body.update(projectTypeKey=project.project_type, simplified=project.simplified,
                    style="next-gen" if project.simplified else "classic", isPrivate=project.is_private,
                    properties={})
        if "url" in expand:
            body["url"] = ""
        if "insight" in expand:
            count, last = issue_insight(project, self.org.clock)
            body["insight"] = {"totalIssueCount": count, "lastIssueUpdateTime": jira_time(last)}
        if project.archived:
            body["archived"] = True
            body["archivedDate"] = jira_time(archived_date(project))
            lead = self.index.accounts.get(project.lead_account_id)
            if lead is not None:
                body["archivedBy"] = self.user(lead, locale=False)
        return body

    def project_details(self, project: Project) -> dict:
        """`ProjectDetails` (role scopes)."""
        body = {"self": f"{self.api}/project/{project.project_id}", "id": project.project_id, "key": project.key,
                "name": project.name, "avatarUrls": self.project_avatars(project),
                "projectTypeKey": project.project_type, "simplified": project.simplified}
        return body

    def project_roles(self, project: Project) -> dict:
        return {role.name: f"{self.api}/project/{project.project_id}/role/{role.role_id}"
                for role in self.jira.roles}

    def role(self, role: ProjectRole) -> dict:
        """A global `ProjectRole` (role, role/{id}): no project actors."""
        return {"self": f"{self.api}/role/{role.role_id}", "name": role.name, "id": role.role_id,
                "description": role.description, "actors": []}

    def role_details(self, project: Project, role: ProjectRole) -> dict:
        return {"self": f"{self.api}/project/{project.project_id}/role/{role.role_id}", "name": role.name,
                "id": role.role_id, "description": role.description, "admin": role.name == "Administrators",
                "default": role.name == "Member", "roleConfigurable": role.name != "atlassian-addons-project-access",
                "translatedName": role.name, "type": "DEFAULT"}

    def role_actors(self, project: Project, role: ProjectRole, exclude_inactive: bool) -> dict:
        actors = []
        for position, actor in enumerate(project.actors.get(role.role_id, [])):
            ident = actor_id(project, role.role_id, position)
            if actor.actor_type == "group":
                group = self.index.groups.get(actor.actor_id)
                name = group.name if group else actor.actor_id
                actors.append({"id": ident, "displayName": name, "type": "atlassian-group-role-actor", "name": name,
                               "actorGroup": {"name": name, "displayName": name, "groupId": actor.actor_id}})
            else:
                account = self.index.accounts.get(actor.actor_id)
                if exclude_inactive and (account is None or not is_active(account)):
                    continue
                actors.append({"id": ident, "displayName": account.name if account else actor.actor_id,
                               "type": "atlassian-user-role-actor", "actorUser": {"accountId": actor.actor_id}})
        return {"self": f"{self.api}/project/{project.project_id}/role/{role.role_id}", "name": role.name,
                "id": role.role_id, "description": role.description, "actors": actors,
                "scope": {"type": "PROJECT", "project": {"id": project.project_id, "key": project.key,
                                                          "name": project.name}}}

    # --- permission schemes -----------------------------------------------------------------------

    def scheme(self, scheme: PermissionScheme, expand: set[str]) -> dict:
        body: dict = {"expand": SCHEME_EXPANDS, "id": scheme.scheme_id,
                      "self": f"{self.api}/permissionscheme/{scheme.scheme_id}", "name": scheme.name,
                      "description": scheme.description}
        if expand:  # any expand value includes the grants
            body["permissions"] = [self.grant(scheme, g, expand) for g in scheme.grants]
        return body

    def grant(self, scheme: PermissionScheme, grant: Grant, expand: set[str]) -> dict:
        holder: dict = {"type": grant.holder_type}
        if grant.parameter is not None:
            holder["parameter"] = grant.parameter
        if grant.value is not None:
            holder["value"] = grant.value
        expandable = HOLDER_EXPANDS.get(grant.holder_type)
        if expandable:
            holder["expand"] = expandable
            if expandable in expand or "all" in expand:
                expanded = self.holder_object(grant)
                if expanded is not None:
                    holder[grant.holder_type if grant.holder_type in ("group", "user", "projectRole")
                           else "field"] = expanded
        return {"id": grant.grant_id, "self": f"{self.api}/permissionscheme/{scheme.scheme_id}/permission/"
                                              f"{grant.grant_id}",
                "holder": holder, "permission": grant.permission}

    def holder_object(self, grant: Grant) -> dict | None:
        if grant.holder_type == "group":
            return self.group_ref(grant.value or "")
        if grant.holder_type == "user":
            account = self.index.accounts.get(grant.value or "")
            return self.user(account, locale=False) if account else None
        if grant.holder_type == "projectRole":
            role = next((r for r in self.jira.roles if str(r.role_id) == grant.value), None)
            return ({"self": f"{self.api}/role/{role.role_id}", "name": role.name, "id": role.role_id,
                     "description": role.description} if role else None)
        return {"id": grant.value, "key": grant.value, "name": grant.value, "custom": True}

    # --- audit ----------------------------------------------------------------------------------

    @staticmethod
    def audit_record(event) -> dict:
        fields = event.fields
        record: dict = {"id": int(event.event_id) if event.event_id.isdigit() else _digest(event.event_id),
                        "summary": event.action, "remoteAddress": fields.get("remoteAddress", "")}
        if event.actor_id:
            record["authorAccountId"] = event.actor_id
        record.update(created=jira_time(event.time), category=fields.get("category", ""),
                      eventSource=fields.get("eventSource", ""))
        if fields.get("objectItem"):
            record["objectItem"] = _no_nulls(fields["objectItem"])
        record["changedValues"] = [_no_nulls(c) for c in fields.get("changedValues", [])]
        record["associatedItems"] = [_no_nulls(a) for a in fields.get("associatedItems", [])]
        return record

    # --- filters and dashboards -------------------------------------------------------------------

    def share(self, share: SharePermission) -> dict:
        body: dict = {"id": share.share_id, "type": share.share_type}
        if share.share_type == "group" and share.target:
            body["group"] = self.group_ref(share.target)
        elif share.share_type in ("project", "projectRole") and share.target:
            project = self.perms.project_by_id(share.target)
            if project is not None:
                body["project"] = {"self": f"{self.api}/project/{project.project_id}", "id": project.project_id,
                                   "key": project.key, "name": project.name,
                                   "avatarUrls": self.project_avatars(project),
                                   "projectTypeKey": project.project_type, "simplified": project.simplified,
                                   "style": "next-gen" if project.simplified else "classic",
                                   "isPrivate": project.is_private, "properties": {}}
        elif share.share_type == "user" and share.target:
            body["user"] = self.user_bean(share.target)
        return body

    def filter_urls(self, item: Filter) -> tuple[str, str]:
        return (f"{self.site_url}/issues/?filter={item.filter_id}",
                f"{self.api}/search/jql?jql={quote(item.jql, safe='')}")

    def _filter_facts(self, item: Filter) -> tuple[int, str]:
        h = _digest(self.site.name, "filter", item.filter_id)
        return h % 7, jira_time((self.org.clock - timedelta(hours=h % 2000 + 1)).replace(microsecond=0))

    def filter_details(self, item: Filter, expand: set[str]) -> dict:
        """`FilterDetails` (filter/search): only the requested expansions."""
        body: dict = {"expand": FILTER_EXPANDS, "self": f"{self.api}/filter/{item.filter_id}",
                      "id": item.filter_id, "name": item.name}
        view, search = self.filter_urls(item)
        favourites, last_used = self._filter_facts(item)
        owner = self.index.accounts.get(item.owner_account_id)
        mine = not self.caller.anonymous and item.owner_account_id == self.caller.user_id
        if "description" in expand:
            body["description"] = ""
        if "owner" in expand and owner is not None:
            body["owner"] = self.user(owner, locale=False)
        if "jql" in expand:
            body["jql"] = item.jql
        if "viewUrl" in expand:
            body["viewUrl"] = view
        if "searchUrl" in expand:
            body["searchUrl"] = search
        if "favourite" in expand:
            body["favourite"] = mine
        if "favouritedCount" in expand:
            body["favouritedCount"] = favourites + (1 if item.owner_account_id else 0)
        if "sharePermissions" in expand:
            body["sharePermissions"] = [self.share(s) for s in item.share_permissions]
        if "editPermissions" in expand:
            body["editPermissions"] = [self.share(s) for s in item.edit_permissions]
        if "approximateLastUsed" in expand:
            body["approximateLastUsed"] = last_used
        if "subscriptions" in expand:
            body["subscriptions"] = []
        return body

    def filter_full(self, item: Filter) -> dict:
        """`Filter` (filter/{id})."""
        view, search = self.filter_urls(item)
        favourites, last_used = self._filter_facts(item)
        owner = self.index.accounts.get(item.owner_account_id)
        body: dict = {"self": f"{self.api}/filter/{item.filter_id}", "id": item.filter_id, "name": item.name,
                      "description": ""}
        if owner is not None:
            body["owner"] = self.user(owner, locale=False)
        body.update(jql=item.jql, viewUrl=view, searchUrl=search,
                    favourite=not self.caller.anonymous and item.owner_account_id == self.caller.user_id,
                    favouritedCount=favourites + 1,
                    sharePermissions=[self.share(s) for s in item.share_permissions],
                    editPermissions=[self.share(s) for s in item.edit_permissions],
                    approximateLastUsed=last_used,
                    subscriptions={"size": 0, "items": [], "max-results": 0, "start-index": 0, "end-index": 0})
        return body

    def dashboard(self, item: Dashboard, expand: set[str], *, full: bool = False) -> dict:
        """`Dashboard` (dashboard/search with expand, dashboard/{id} with everything)."""
        mine = not self.caller.anonymous and item.owner_account_id == self.caller.user_id
        body: dict = {"id": item.dashboard_id, "isFavourite": mine, "name": item.name}
        if (full or "description" in expand):
            body["description"] = f"{item.name} for the team"
        if (full or "owner" in expand) and item.owner_account_id:
            body["owner"] = self.user_bean(item.owner_account_id)
        body.update(popularity=_digest(self.site.name, "dashboard", item.dashboard_id) % 9 + (1 if mine else 0),
                    self=f"{self.api}/dashboard/{item.dashboard_id}")
        if full or "sharePermissions" in expand:
            body["sharePermissions"] = [self.share(s) for s in item.share_permissions]
        if full or "editPermissions" in expand:
            body["editPermissions"] = []
        if full or "isWritable" in expand:
            body["isWritable"] = mine or (item.system and self.perms.jira_admin)
        body.update(systemDashboard=item.system,
                    view=f"{self.site_url}/secure/Dashboard.jspa?selectPageId={item.dashboard_id}")
        return body


def _no_nulls(item: dict) -> dict:
    return {k: v for k, v in item.items() if v is not None}
