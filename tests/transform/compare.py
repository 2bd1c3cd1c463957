"""Compare what the dbt project found with the simulator's ground truth (pipelines/atlassian_simulator/truth.py).

    uv run python -m tests.transform.compare --warehouse W.duckdb --truth truth.json [--only IDENT-]

`--source intermediate` (the default while models are being written) reads every
`intermediate.int_results__*` table; `--source marts` reads the marts people query.
Prints one line per check: ok, or what is missing / extra / a status that differs.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import duckdb

STATUS_OF_MART = {"pass": "evaluated", "fail": "evaluated"}
SCOPE_SIGNALS = ("PLUGIN-001", "PLUGIN-002", "PLUGIN-003", "PLUGIN-004", "PLUGIN-005")
TOKEN_SIGNALS = ("IDENT-010", "IDENT-011", "IDENT-012", "IDENT-013")


def blind_spots(sim) -> dict[str, dict]:
    """What the simulated organization holds but no API the connector may call serves, per org id.

    Both are documented gaps (pipelines/atlassian_simulator/README.md, truth.py "Scopes source"): Cloud UPM
    does not list Forge apps, so they are absent from plugin_risks; an app without a Marketplace
    listing has no served source of its scopes, so its scope signals (PLUGIN-001..005) cannot fire;
    the organization's token listing covers managed accounts only, so tokens of unmanaged accounts
    (IDENT-010..013) are unseen. Without Guard there is no audit log to date when a Cloud app was
    disabled: the marts count an undated disabled app as disabled long ago (PLUGIN-015 fires, the
    evidence says the time is unknown), where the truth knows the simulated date.
    The tests compare the marts with the truth minus exactly these, and check they are absent."""
    out = {}
    for org in sim.orgs:
        apps, signals, undated = set(), set(), set()
        for site in org.sites:
            for product in ("jira", "confluence"):
                for app in getattr(site, f"{product}_apps"):
                    key = f"app:{site.name}:{product}:{app.key}"
                    if not app.user_installed:
                        continue
                    if app.framework == "forge":
                        apps.add(key)
                    elif app.listing is None and app.scopes:
                        signals.add(key)
                    if app.framework != "forge" and not app.enabled and org.events is None:
                        undated.add(key)
        listed = {a.account_id for a in org.accounts if a.claim_status == "managed" and a.account_type == "atlassian"}
        unseen = {f"account:{t.account_id}" for t in org.api_tokens if t.account_id not in listed}
        out[org.org_id] = {"apps": apps, "scopeless_apps": signals, "unseen_token_owners": unseen,
                           "undated_disabled_apps": undated}
    return out


def observable_truth(truth: dict, sim) -> dict:
    """The truth without the connector's blind spots (see `blind_spots`); scores recomputed."""
    from atlassian_simulator.truth import IDENT_WEIGHTS, PLUGIN_WEIGHTS, risk_level

    spots = blind_spots(sim)
    out = {"orgs": []}
    for org in truth["orgs"]:
        spot = spots[org["org_id"]]

        def visible(check_id: str, key: str) -> bool:
            if key in spot["apps"]:
                return False
            if check_id in TOKEN_SIGNALS and key in spot["unseen_token_owners"]:
                return False
            return not (check_id in SCOPE_SIGNALS and key in spot["scopeless_apps"])

        checks = {}
        for check_id, entry in org["checks"].items():
            entry = dict(entry)
            if check_id.startswith(("PLUGIN-", "IDENT-")):
                entry["fails"] = [k for k in entry["fails"] if visible(check_id, k)]
            if check_id == "PLUGIN-015" and entry["status"] == "evaluated":
                entry["fails"] = sorted(set(entry["fails"]) | spot["undated_disabled_apps"])
            checks[check_id] = entry
        plugins = {}
        for key, row in org["plugin_risks"].items():
            if key in spot["apps"]:
                continue
            signals = [c for c in row["signals"] if visible(c, key)]
            if key in spot["undated_disabled_apps"] and "PLUGIN-015" not in signals:
                signals = sorted(signals + ["PLUGIN-015"])
            score = sum(PLUGIN_WEIGHTS[c][0] for c in signals)
            critical = any(PLUGIN_WEIGHTS[c][1] == "critical" for c in signals)
            plugins[key] = {"score": score, "level": risk_level(score, critical), "signals": signals}
        identities = {}
        for account, row in org["identity_risks"].items():
            signals = [c for c in row["signals"] if visible(c, f"account:{account}")]
            score = sum(IDENT_WEIGHTS[c][0] for c in signals)
            critical = any(IDENT_WEIGHTS[c][1] == "critical" for c in signals)
            if score:
                identities[account] = {"score": score, "level": risk_level(score, critical), "signals": signals}
        out["orgs"].append({**org, "checks": checks, "plugin_risks": plugins, "identity_risks": identities})
    return out


def results_from_intermediate(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict]:
    tables = [t for (t,) in con.execute(
        "select table_name from information_schema.tables where table_schema = 'intermediate' "
        "and table_name like 'int\\_results\\_\\_%' escape '\\'").fetchall()]
    out: dict[tuple[str, str], dict] = defaultdict(lambda: {"status": set(), "fails": set()})
    for table in tables:
        for org_id, check_id, status, key, failing in con.execute(
                f'select org_id, check_id, status, resource_key, is_failing from intermediate."{table}"').fetchall():
            entry = out[(org_id, check_id)]
            entry["status"].add(status)
            if failing:
                entry["fails"].add(key)
    return out


def results_from_marts(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict]:
    out: dict[tuple[str, str], dict] = defaultdict(lambda: {"status": set(), "fails": set()})
    for org_id, check_id, status in con.execute("select org_id, check_id, status from marts.check_status").fetchall():
        out[(org_id, check_id)]["status"].add(status)
    for org_id, check_id, key in con.execute(
            "select org_id, check_id, resource_key from marts.posture_findings where status = 'fail' "
            "union all select org_id, signal_id, account_key from marts.identity_signals "
            "union all select org_id, signal_id, app_key from marts.plugin_signals "
            "union all select org_id, detection_id, event_key from marts.security_detections").fetchall():
        out[(org_id, check_id)]["fails"].add(key)
    return out


def compare(warehouse: Path, truth: dict, source: str = "intermediate", only: str = "") -> list[str]:
    """Differences as lines; empty when the warehouse matches the truth for every org and check."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = results_from_marts(con) if source == "marts" else results_from_intermediate(con)
    finally:
        con.close()
    problems = []
    for org in truth["orgs"]:
        for check_id, expected in sorted(org["checks"].items()):
            if not check_id.startswith(only):
                continue
            got = found.get((org["org_id"], check_id))
            if got is None:
                problems.append(f"{org['org_id'][:8]} {check_id}: no rows (truth {expected['status']}, "
                                f"{len(expected['fails'])} fails)")
                continue
            statuses = {STATUS_OF_MART.get(s, s) for s in got["status"]}
            if statuses != {expected["status"]}:
                problems.append(f"{org['org_id'][:8]} {check_id}: status {sorted(statuses)} != {expected['status']}")
                continue
            missing = set(expected["fails"]) - got["fails"]
            extra = got["fails"] - set(expected["fails"])
            if missing or extra:
                problems.append(f"{org['org_id'][:8]} {check_id}: {len(expected['fails'])} expected, "
                                f"missing {len(missing)} {sorted(missing)[:3]}, extra {len(extra)} {sorted(extra)[:3]}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warehouse", required=True, type=Path)
    parser.add_argument("--truth", required=True, type=Path)
    parser.add_argument("--source", choices=("intermediate", "marts"), default="intermediate")
    parser.add_argument("--only", default="", help="check id prefix, e.g. IDENT- or POSTURE-01")
    args = parser.parse_args()
    truth = json.loads(args.truth.read_text())
    problems = compare(args.warehouse, truth, args.source, args.only)
    checked = sum(1 for org in truth["orgs"] for c in org["checks"] if c.startswith(args.only))
    print("\n".join(problems) if problems else f"all {checked} (org, check) pairs match")
    print(f"{len(problems)} of {checked} (org, check) pairs differ")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
