"""Named organization sizes. Each number is a target; planted risks add a few rows on top."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True, slots=True)
class Size:
    name: str
    accounts: int
    groups: int
    projects: int  # per site
    spaces: int  # per site
    filters: int  # per site
    dashboards: int  # per site
    third_party_apps: int  # per site and product
    org_events: int
    jira_audit: int  # per site
    confluence_audit: int  # per site
    dc_users: int
    dc_audit: int  # per DC instance
    sites: int = 1
    audit_days: int = 180  # the audit logs cover this many days before the clock

    def to_dict(self) -> dict:
        return asdict(self)


SIZES: dict[str, Size] = {
    "tiny": Size("tiny", 40, 12, 8, 6, 8, 5, 8, 150, 100, 80, 25, 60),
    "small": Size("small", 200, 30, 20, 14, 30, 12, 12, 2_000, 1_000, 600, 150, 500),
    "medium": Size("medium", 5_000, 400, 150, 75, 250, 80, 20, 60_000, 12_500, 7_500, 2_000, 5_000, sites=2),
    "large": Size(
        "large", 100_000, 5_000, 2_500, 1_000, 2_500, 500, 30, 600_000, 125_000, 75_000, 20_000, 50_000, sites=2
    ),
}


def resolve_size(name: str, **overrides: int) -> Size:
    """A named size, optionally with some numbers replaced (`custom`)."""
    base = SIZES["small" if name == "custom" else name]
    size = replace(base, **{k: v for k, v in overrides.items() if v is not None})
    return replace(size, name=name if not overrides or name == "custom" else f"{name}+custom")
