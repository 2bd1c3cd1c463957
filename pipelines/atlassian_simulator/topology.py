"""Topologies: what a simulated tenant is made of and which credentials its connector gets.

Real tenants differ: an organization API key and Cloud sites, with or without Data Center; a
site URL and an API token (classic or scoped) and no org key; an org key and no site token;
Jira-only or Confluence-only sites; Data Center only; Free to Enterprise plans; Atlassian Guard
on or off. A `Topology` is the small declarative value that says which, per organization:

    Simulator.generate("tiny", topologies=["cloud", "site-only", "dc-only+noguard"])
    atlassian-posture simulate --topology cloud --topology site-only

The generator builds (and prunes) the tenant's state from it, `Simulator.connector_config`
gives the connector exactly its credentials, sites and instances, and the oracle (`truth.py`)
reports `not_evaluable` for every check whose inputs those credentials cannot reach.

A name is a preset, optionally followed by modifiers: `+free`, `+standard`, `+premium`,
`+enterprise` (the Cloud plan of every site), `+guard` / `+noguard` (Atlassian Guard).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

PLANS = ("free", "standard", "premium", "enterprise")
PRODUCTS = ("jira", "confluence")


@dataclass(frozen=True, slots=True)
class Topology:
    name: str = "full"
    # Products of each Cloud site (one entry per site); () = no Cloud site at all
    sites: tuple[tuple[str, ...], ...] = (PRODUCTS,)
    dc: tuple[str, ...] = PRODUCTS  # Data Center instances, by product
    plan: str = "premium"  # Cloud plan of every site
    guard: bool = True  # Atlassian Guard subscription (policies, auth policies, org audit log)
    # What the connector is given
    org_key: bool = True  # an organization API key
    site_auth: str | None = "classic"  # classic | scoped API token per site; None: no site token

    def __post_init__(self):
        if self.plan not in PLANS:
            raise ValueError(f"unknown plan {self.plan!r}; use one of {', '.join(PLANS)}")
        if self.site_auth not in ("classic", "scoped", None):
            raise ValueError(f"site_auth must be classic, scoped or None, not {self.site_auth!r}")
        for products in (*self.sites, self.dc):
            if set(products) - set(PRODUCTS):
                raise ValueError(f"unknown products {sorted(set(products) - set(PRODUCTS))}")
        if not self.sites and self.org_key:
            raise ValueError("an organization API key needs a Cloud organization: give it at least one site")
        if not (self.org_key or (self.sites and self.site_auth) or self.dc):
            raise ValueError(f"topology {self.name} gives the connector nothing to read")

    @property
    def cloud(self) -> bool:
        """The tenant has a Cloud organization (and so an org, accounts, sites)."""
        return bool(self.sites)

    @property
    def reads_sites(self) -> bool:
        return self.cloud and self.site_auth is not None

    def to_dict(self) -> dict:
        out = asdict(self)
        out["sites"] = [list(s) for s in self.sites]
        out["dc"] = list(self.dc)
        return out

    @classmethod
    def from_dict(cls, value: dict) -> Topology:
        return cls(**{**value, "sites": tuple(tuple(s) for s in value.get("sites", ())),
                      "dc": tuple(value.get("dc", ()))})


BOTH = PRODUCTS
PRESETS: dict[str, Topology] = {t.name: t for t in (
    # Today's default: org key, one Cloud site with both products, Jira DC and Confluence DC
    Topology("full"),
    # The most common Cloud customer: org key and Cloud sites, no Data Center
    Topology("cloud", dc=()),
    # The onboarding most security tools ask for: a site URL, an e-mail and a classic API token
    Topology("site-only", dc=(), org_key=False),
    # A scoped API token only, read through api.atlassian.com/ex/{product}/{cloudId}
    Topology("scoped-only", dc=(), org_key=False, site_auth="scoped"),
    # The organization API key only: the Admin API, no product API
    Topology("org-only", dc=(), site_auth=None),
    # Single-product sites (org key + site token)
    Topology("jira-only", sites=(("jira",),), dc=()),
    Topology("confluence-only", sites=(("confluence",),), dc=()),
    Topology("split-products", sites=(("jira",), ("confluence",)), dc=()),
    # Data Center only: no Cloud organization at all, personal access tokens
    Topology("dc-only", sites=(), org_key=False, site_auth=None, guard=False),
    Topology("dc-jira", sites=(), dc=("jira",), org_key=False, site_auth=None, guard=False),
    Topology("dc-confluence", sites=(), dc=("confluence",), org_key=False, site_auth=None, guard=False),
)}
MODIFIERS = {**{plan: ("plan", plan) for plan in PLANS}, "guard": ("guard", True), "noguard": ("guard", False)}


def parse(spec: str | Topology) -> Topology:
    """A topology from `preset[+modifier...]`, e.g. `site-only+free+noguard`."""
    if isinstance(spec, Topology):
        return spec
    preset, *mods = spec.strip().split("+")
    if preset not in PRESETS:
        raise ValueError(f"unknown topology {preset!r}; presets: {', '.join(PRESETS)}")
    topology = PRESETS[preset]
    for mod in mods:
        if mod not in MODIFIERS:
            raise ValueError(f"unknown topology modifier {mod!r}; use {', '.join('+' + m for m in MODIFIERS)}")
        field_name, value = MODIFIERS[mod]
        topology = replace(topology, **{field_name: value})
    if topology.guard and not topology.cloud:
        raise ValueError(f"{spec}: Atlassian Guard needs a Cloud organization")
    return replace(topology, name=spec.strip())
