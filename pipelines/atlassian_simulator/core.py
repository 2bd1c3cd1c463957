"""`Simulator`: one or more simulated organizations behind one ASGI app.

    sim = Simulator.generate(size="tiny", seed=7)
    async with sim.client() as client:              # in-process, no socket
        r = await client.get(sim.urls()["sites"][0] + "/rest/api/3/users/search", auth=sim.basic_auth())
    with sim.serve() as base_url:                    # a real uvicorn server on 127.0.0.1
        ...
    sim.advance(days=1)                              # time travel: new events and changes
    sim.truth()                                      # the ground truth of every check
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from atlassian_simulator.generator import DEFAULT_CLOCK, generate_org
from atlassian_simulator.model import Credential, Organization
from atlassian_simulator.server.app import build_app
from atlassian_simulator.server.faults import FaultConfig
from atlassian_simulator.server.log import RequestLog
from atlassian_simulator.sizes import Size, resolve_size
from atlassian_simulator.topology import Topology
from atlassian_simulator.topology import parse as parse_topology

SIM_BASE = "http://sim.local"
# The organization's own policy inputs the connector accepts (pipelines/atlassian_posture/connector/posture_settings.py)
POLICY_INPUTS = ("sensitive_projects", "sensitive_spaces", "allowed_countries", "data_residency_realm")


class Simulator:
    def __init__(self, orgs: list[Organization], faults: FaultConfig | None = None, log_path=None):
        self.orgs = orgs
        self.faults = faults or FaultConfig()
        self.request_log = RequestLog(path=log_path)
        self.app = build_app(self)

    @classmethod
    def generate(cls, size: str | Size = "tiny", seed: int = 7, orgs: int = 1, profiles: list[str] | None = None,
                 with_dc: bool = True, clock=DEFAULT_CLOCK, topologies: list[str | Topology] | None = None,
                 **overrides) -> Simulator:
        """`topologies` (topology.py names or values) give one organization each (then `orgs` is their
        number) and mix in one simulator; profiles then alternate exposed / hardened."""
        resolved = size if isinstance(size, Size) else resolve_size(size, **overrides)
        shapes = [parse_topology(t) for t in topologies] if topologies else None
        if shapes:
            orgs = len(shapes)
            profiles = profiles or [("exposed", "hardened")[i % 2] for i in range(orgs)]
        return cls([
            generate_org(seed, resolved, index=i, profile=(profiles[i] if profiles else None), clock=clock,
                         with_dc=with_dc, topology=shapes[i] if shapes else None)
            for i in range(orgs)
        ])

    # --- addresses and credentials -------------------------------------------------------------

    def urls(self, base: str = SIM_BASE, org: int = 0) -> dict:
        """Base URLs standing for https://<site>.atlassian.net, api.atlassian.com and the DC hosts."""
        o = self.orgs[org]
        return {
            "sites": [f"{base}/site/{s.name}" for s in o.sites],
            "gateway": f"{base}/gateway",
            "scoped": {s.name: {"jira": f"{base}/gateway/ex/jira/{s.cloud_id}",
                                "confluence": f"{base}/gateway/ex/confluence/{s.cloud_id}"} for s in o.sites},
            "dc": {d.product: f"{base}/dc/{d.name}{d.base_path}" for d in o.dc},
            "marketplace": f"{base}/marketplace",
        }

    def credential(self, label: str, org: int = 0) -> Credential:
        return next(c for c in self.orgs[org].credentials if c.label == label)

    def auth(self, label: str = "site-admin-token", org: int = 0) -> httpx.Auth | dict:
        """An httpx auth for a credential label (Basic for tokens, Bearer header dict otherwise)."""
        c = self.credential(label, org)
        if c.kind in ("basic", "scoped"):
            return httpx.BasicAuth(c.email, c.secret)
        return BearerAuth(c.secret)

    def restrict(self, label: str = "site-admin-token", org: int = 0, every: int = 3) -> dict[str, list[str]]:
        """Give a credential partial rights, as a Jira/Confluence user who administers some projects and
        spaces but not all: every `every`-th project (role actors, its permission scheme), space (permissions,
        role assignments) and group (members, Jira and Confluence) of the organization's sites answers 403 to
        it; the listings themselves still answer. Returns the refused ids by kind ({"projects": [...], ...});
        `every=0` gives the full rights back. Live: takes effect on the next request."""
        credential = self.credential(label, org)
        sites = self.orgs[org].sites
        pick = (lambda items: items[every - 1::every]) if every else (lambda items: [])
        projects = [p.project_id for s in sites for p in pick(s.jira.projects)]
        spaces = [sp.space_id for s in sites for sp in pick(s.confluence.spaces)]
        groups = [g.group_id for g in pick(self.orgs[org].groups)]
        credential.refused = [
            *(f"*/rest/api/3/project/{p}/{what}*" for p in projects for what in ("role", "permissionscheme")),
            *(f"*/wiki/api/v2/spaces/{sp}/{what}*" for sp in spaces for what in ("permissions", "role-assignments")),
            *(f"*/rest/api/3/group/member?*groupId={g}*" for g in groups),
            *(f"*/wiki/rest/api/group/{g}/membersByGroupId*" for g in groups),
        ]
        return {"projects": projects, "spaces": spaces, "groups": groups}

    # --- time travel, truth, summary -------------------------------------------------------------

    def advance(self, days: float = 1.0) -> dict:
        """Move every organization's clock forward and apply one step of changes."""
        from atlassian_simulator.timetravel import advance

        return {"orgs": [advance(org, days) for org in self.orgs]}

    def truth(self) -> dict:
        """The ground truth of every check, for every organization (see truth.py)."""
        from atlassian_simulator.truth import manifest

        return manifest(self)

    def summary(self) -> dict:
        """What the simulator serves, in numbers (for the demo and the CLI)."""
        out = []
        for org in self.orgs:
            out.append({
                "org": org.name, "org_id": org.org_id, "profile": org.config.get("profile"), "size": org.size,
                "clock": org.clock.isoformat(), "guard": org.guard,
                "accounts": len(org.accounts),
                "managed_accounts": sum(a.claim_status == "managed" for a in org.accounts),
                "app_accounts": sum(a.account_type == "app" for a in org.accounts),
                "groups": len(org.groups), "api_tokens": len(org.api_tokens), "policies": len(org.policies),
                "sites": [{"name": s.name, "projects": len(s.jira.projects), "schemes": len(s.jira.schemes),
                           "filters": len(s.jira.filters), "dashboards": len(s.jira.dashboards),
                           "spaces": len(s.confluence.spaces), "jira_apps": len(s.jira_apps),
                           "confluence_apps": len(s.confluence_apps)} for s in org.sites],
                "data_center": [{"name": d.name, "product": d.product, "version": d.version, "users": len(d.users)}
                                for d in org.dc],
                "audit_events": (org.events.count + len(org.events.extras) if org.events else 0)
                + sum(s.jira.audit.count + s.confluence.audit.count for s in org.sites)
                + sum(d.audit.count for d in org.dc),
                "planted_checks": len(org.planted),
            })
        return {"orgs": out}

    def topology(self, org: int = 0) -> Topology | None:
        """The organization's topology (topology.py), None for one generated without."""
        value = self.orgs[org].config.get("topology")
        return Topology.from_dict(value) if value else None

    def connector_config(self, base: str, auth: str = "classic", admin: bool = True,
                         data_center: bool = True, attestation_dir=None) -> tuple[dict, dict]:
        """(orgs, credentials) in the connector's configuration shape (pipelines/atlassian_posture/connector/config.py).

        An organization with a topology gets exactly its credentials: the org API key only if the
        topology has one, its sites (with their products and the topology's token kind) only if it
        gives a site token, its Data Center instances. `auth`, `admin=False` and
        `data_center=False` narrow that further (or, without a topology, the full tenant).
        Each org's policy inputs (sensitive projects and spaces, allowed countries, residency realm)
        are included; with `attestation_dir`, the attestation a truthful admin would write
        (`truth.attestation_for`) is written there as `<org key>.attestation.json` and referenced."""
        from atlassian_simulator.truth import attestation_for

        orgs, credentials = {}, {}
        for i, org in enumerate(self.orgs):
            key = org.config.get("tenant_key") or org.sites[0].name
            urls = self.urls(base, org=i)
            topology = self.topology(i) or Topology()
            site_auth = "scoped" if auth == "scoped" else topology.site_auth
            sites = list(zip(org.sites, urls["sites"], strict=True)) if site_auth else []
            dcs = org.dc if data_center else []
            site_token = self.credential("scoped-admin-token" if site_auth == "scoped" else "site-admin-token", i) \
                if sites else None
            orgs[key] = {
                "admin_url": urls["gateway"],  # stands for https://api.atlassian.com
                "marketplace_url": urls["marketplace"],
                "sites": {s.name: {"url": url, "email": site_token.email, "auth": site_auth,
                                   "products": list(s.products)} for s, url in sites},
                "data_center": {d.name: {"product": d.product, "url": urls["dc"][d.product]} for d in dcs},
                **{name: org.config[name] for name in POLICY_INPUTS if org.config.get(name) is not None},
            }
            if attestation_dir is not None:
                path = Path(attestation_dir) / f"{key}.attestation.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(attestation_for(org), indent=2, sort_keys=True) + "\n")
                orgs[key]["attestation_file"] = str(path)
            credentials[key] = {
                "sites": {s.name: site_token.secret for s, _ in sites},
                "data_center": {d.name: self.credential("dc-admin-pat", i).secret for d in dcs},
            }
            if admin and topology.org_key:
                credentials[key]["admin_api_key"] = self.credential("org-admin-key", i).secret
        return orgs, credentials

    def secrets_toml(self, base: str, **config) -> str:
        """The connector's configuration for this simulator as dlt TOML (config and secrets in one file);
        `config` goes to `connector_config` (e.g. `attestation_dir`)."""
        return config_toml(*self.connector_config(base, **config))

    # --- clients and serving -------------------------------------------------------------------

    def client(self, **kwargs) -> httpx.AsyncClient:
        """An async client talking to the app in-process (no socket)."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=SIM_BASE, **kwargs)

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Run uvicorn on loopback in a thread; yields the base URL; stops on exit."""
        import uvicorn

        if port == 0:
            with socket.socket() as s:
                s.bind((host, 0))
                port = s.getsockname()[1]
        config = uvicorn.Config(self.app, host=host, port=port, log_level="warning", access_log=False, date_header=False,
                                lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"simulator did not start on {host}:{port}")
            time.sleep(0.02)
        try:
            yield f"http://{host}:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)


class BearerAuth(httpx.Auth):
    def __init__(self, token: str):
        self._token = token

    def auth_flow(self, request):
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def config_toml(orgs: dict, credentials: dict) -> str:
    """(orgs, credentials) in the connector's configuration shape as dlt TOML, config and secrets in one file."""
    lines = ["# Simulated Atlassian credentials: fake, but treat the file like real secrets.", ""]

    def table(prefix: str, value: dict) -> None:
        scalars = {k: v for k, v in value.items() if not isinstance(v, dict)}
        lines.append(f"[{prefix}]")
        lines.extend(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in scalars.items())
        lines.append("")
        for k, v in value.items():
            if isinstance(v, dict):
                table(f"{prefix}.{json.dumps(k)}", v)

    for key, org in orgs.items():
        table(f"sources.atlassian.orgs.{json.dumps(key)}", org)
    for key, secret in credentials.items():
        table(f"sources.atlassian.credentials.{json.dumps(key)}", secret)
    return "\n".join(lines)
