"""Confluence content of one site (Cloud) or instance (DC): spaces, permissions, role assignments."""

from __future__ import annotations

from collections.abc import Callable

from atlassian_simulator.generator.common import WORDS, Rng, days
from atlassian_simulator.generator.identity import plant
from atlassian_simulator.model import ConfluenceSite, Organization, RoleAssignment, Space, SpacePermission, SpaceRole

READ_ONLY = [("read", "space"), ("read", "page"), ("read", "blogpost"), ("read", "comment"), ("read", "attachment")]
WRITE = [("create", "page"), ("create", "blogpost"), ("create", "comment"), ("create", "attachment"),
         ("delete", "page"), ("delete", "comment")]
ADMIN = [("administer", "space"), ("export", "space"), ("restrict_content", "space"), ("archive", "page")]
SPACE_ROLES = [
    ("viewer", "Viewer", READ_ONLY),
    ("editor", "Editor", READ_ONLY + WRITE),
    ("admin", "Admin", READ_ONLY + WRITE + ADMIN),
]


ROLE_MODES = ["ROLES", "ROLES", "ROLES_TRANSITION", "PRE_ROLES", None]
LEGACY_CLASSES = {"anonymous-users", "authenticated-users"}  # what v1 can say: anonymousAccess, unlicensedAccess


def assign_shapes(site: ConfluenceSite, rng: Rng) -> None:
    """Per site, deterministic from the seed: the space-role mode (or no such endpoint) and, per space with
    access-class grants, the one read that discloses them (see the README: "Shapes of the same fact").
    A separate stream, so the rest of the organization is the same whatever shapes come out."""
    site.role_mode = rng.choice(ROLE_MODES)
    rbac = site.role_mode in ("ROLES", "ROLES_TRANSITION")
    for space in site.spaces:
        classes = {a.principal_id for a in space.role_assignments if a.principal_type == "ACCESS_CLASS"}
        if not classes:
            continue
        options = ["all", "v2"] + (["rbac", "rbac"] if rbac else []) + (["legacy"] if classes <= LEGACY_CLASSES else [])
        space.shape = rng.choice(options)
    # v1 space list: always where some space needs it, else on half the sites (it left the current v1 document)
    site.legacy_api = any(s.shape == "legacy" for s in site.spaces) or rng.chance(0.5)


def build_confluence(org: Organization, rng: Rng, count: int, group_id: Callable[[str], str],
                     users_group: str, admins_group: str, team_groups: list[str], authors: list[str],
                     personas: dict[str, str], site_ref: str, exposed: bool, dc: bool = False) -> ConfluenceSite:
    """`group_id` maps a group name to this deployment's principal id (Cloud: group id; DC: name)."""
    site = ConfluenceSite()
    site.space_roles = [SpaceRole(rid, name, f"{name} of a space", "SYSTEM", perms) for rid, name, perms in SPACE_ROLES]
    site.anonymous_access = exposed
    perm_ids = iter(range(100_000, 100_000_000))
    now = org.clock

    def grant(space: Space, principal_type: str, principal_id: str, role_id: str) -> None:
        """Give a role: the v2 permission list shows its operations, role-assignments shows the role."""
        space.role_assignments.append(RoleAssignment(principal_type.upper() if principal_type != "access_class"
                                                     else "ACCESS_CLASS", principal_id, role_id))
        ops = next(perms for rid, _, perms in SPACE_ROLES if rid == role_id)
        listed_type = {"access_class": "role"}.get(principal_type, principal_type)
        for operation, target in ops:
            space.permissions.append(SpacePermission(str(next(perm_ids)), listed_type, principal_id, operation, target))

    planned: list[tuple[str, str, str]] = [("KB", "Knowledge Base", "knowledge_base"), ("FIN", "Finance", "global")]
    if exposed:
        planned += [("PUB", "Public Handbook", "global"), ("WIKI", "Community Wiki", "global"),
                    ("ALLADM", "Shared Admin Space", "global"), ("TEAM", "Team Handbook", "global")]
    i = 0
    keys = {k for k, _, _ in planned}
    while len(planned) < count:
        word = WORDS[i % len(WORDS)]
        key = (word[:5] + (str(i // len(WORDS)) if i >= len(WORDS) else "")).upper()
        i += 1
        if key in keys:
            continue
        keys.add(key)
        personal = rng.chance(0.15)
        planned.append((f"~{key.lower()}" if personal else key, f"{word.title()} space", "personal" if personal else "global"))

    for n, (key, name, space_type) in enumerate(planned):
        author = rng.choice(authors)
        space = Space(
            space_id=str(65_536 + n * 7),
            key=key,
            name=name,
            space_type=space_type,
            status="archived" if rng.chance(0.04) and n >= 5 else "current",
            author_account_id=author,
            created_at=(now - days(rng.uniform(30, 2500))).replace(microsecond=0),
            homepage_id=str(1_000_000 + n * 13),
        )
        grant(space, "user", author, "admin")
        grant(space, "group", group_id(admins_group), "admin")
        if space_type == "personal":
            pass
        elif key == "FIN":
            grant(space, "group", group_id(rng.choice(team_groups) if team_groups else admins_group), "editor")
        else:
            grant(space, "group", group_id(users_group), "editor" if rng.chance(0.7) else "viewer")
            if team_groups and rng.chance(0.5):
                grant(space, "group", group_id(rng.choice(team_groups)), "editor")
        if key == "PUB":
            grant(space, "access_class", "anonymous-users", "viewer")
        if key == "WIKI":
            grant(space, "access_class", "anonymous-users", "editor")
        if key == "ALLADM":
            grant(space, "access_class", "all-licensed-users", "admin")
        if key in ("KB", "TEAM"):  # TEAM is internal: portal customers should not read it (POSTURE-034)
            grant(space, "access_class", "authenticated-users", "viewer")
            if "guest_reader" in personas:
                grant(space, "user", personas["guest_reader"], "viewer")
        if key == "KB" and exposed and "guest_writer" in personas:
            grant(space, "user", personas["guest_writer"], "editor")
        site.spaces.append(space)

    if not dc:
        assign_shapes(site, Rng(org.org_id, site_ref, "confluence-shapes"))

    if exposed:
        ref = f"space:{site_ref}"
        plant(org, "POSTURE-031", "positives", f"{ref}:PUB", "anonymous viewers")
        plant(org, "POSTURE-031", "positives", f"{ref}:WIKI", "anonymous editors")
        plant(org, "POSTURE-032", "positives", f"{ref}:WIKI", "anonymous users can create and delete pages")
        plant(org, "POSTURE-032", "negatives", f"{ref}:PUB", "anonymous read only")
        plant(org, "POSTURE-036", "positives", f"{ref}:ALLADM", "all licensed users administer")
        plant(org, "POSTURE-031", "negatives", f"{ref}:KB", "authenticated users only, not anonymous")
        plant(org, "POSTURE-033", "positives", f"site:{site_ref}", "site answers anonymous callers")
        if not dc:
            plant(org, "POSTURE-034", "positives", f"{ref}:TEAM", "internal space readable by portal customers")
            plant(org, "POSTURE-034", "negatives", f"{ref}:KB", "knowledge base meant for portal customers")
        if not dc and "guest_writer" in personas:
            plant(org, "POSTURE-037", "positives", f"{ref}:KB", "guest can edit")
            plant(org, "IDENT-022", "positives", f"account:{personas['guest_writer']}", "guest editor")
            plant(org, "IDENT-022", "negatives", f"account:{personas['guest_reader']}", "guest viewer")
    return site
