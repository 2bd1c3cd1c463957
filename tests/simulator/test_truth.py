"""The ground-truth oracle against the generator's planting, and its own contract.

Every planted positive must fail and no planted negative may, for every check, size, seed and profile.
"""

from __future__ import annotations

import copy
import json
import random
import re
import time
from datetime import timedelta
from functools import cache

import pytest
from atlassian_simulator.core import Simulator
from atlassian_simulator.lazy import AuditEvent
from atlassian_simulator.model import Organization
from atlassian_simulator.truth import (
    CHECK_IDS,
    IDENT_WEIGHTS,
    PLUGIN_WEIGHTS,
    attestation_for,
    event_matchers,
    ground_truth,
    identity_scores,
    manifest,
    plugin_scores,
    risk_level,
    write_manifest,
)

SIZES = ("tiny", "small")
SEEDS = (7, 11)
PROFILES = ("exposed", "hardened", "unguarded")


@cache
def sim(size: str, seed: int) -> Simulator:
    return Simulator.generate(size, seed=seed, orgs=3)


@cache
def attested_truth(size: str, seed: int, index: int) -> dict:
    org = sim(size, seed).orgs[index]
    return ground_truth(org, attestation_for(org))


# --- planting defects in files owned by other engineers (detected, not assumed) -----------------


def _planted_cases():
    for size in SIZES:
        for seed in SEEDS:
            for index, profile in enumerate(PROFILES):
                org = sim(size, seed).orgs[index]
                for check_id in sorted(org.planted):
                    yield pytest.param(size, seed, index, check_id, id=f"{size}-{seed}-{profile}-{check_id}")


@pytest.mark.parametrize(("size", "seed", "index", "check_id"), list(_planted_cases()))
def test_planted_positives_fail_and_negatives_pass(size, seed, index, check_id):
    org = sim(size, seed).orgs[index]
    check = attested_truth(size, seed, index)["checks"][check_id]
    planted = org.planted[check_id]
    fails = set(check["fails"])
    assert check["status"] == "evaluated", check
    missing = [p for p in planted["positives"] if p["resource"] not in fails]
    wrongly = [p for p in planted["negatives"] if p["resource"] in fails]
    assert not missing, f"planted positives not failing: {missing}"
    assert not wrongly, f"planted negatives failing: {wrongly}"


# --- the manifest's contract -------------------------------------------------------------------


def test_every_catalog_id_is_in_the_manifest():
    truth = attested_truth("tiny", 7, 0)
    assert list(truth["checks"]) == CHECK_IDS
    for check in truth["checks"].values():
        assert check["status"] in ("evaluated", "manual", "not_evaluable", "not_computable")
        assert check["fails"] == sorted(set(check["fails"]))
        assert check["status"] == "evaluated" or not check["fails"]


def test_manifest_is_deterministic_and_seed_dependent(tmp_path):
    first = manifest(Simulator.generate("tiny", seed=7, orgs=3))
    again = manifest(Simulator.generate("tiny", seed=7, orgs=3))
    other = manifest(Simulator.generate("tiny", seed=11, orgs=3))
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert first != other
    path = write_manifest(sim("tiny", 7), tmp_path / "truth.json")
    assert json.loads(path.read_text()) == json.loads(json.dumps(first))
    assert path.read_text() == json.dumps(json.loads(path.read_text()), sort_keys=True, indent=2) + "\n"


def test_resource_keys_use_the_generator_formats():
    truth = attested_truth("tiny", 7, 0)
    org = sim("tiny", 7).orgs[0]
    pattern = re.compile(
        r"^(org:[0-9a-f-]+|account:[^:\s]+(:[0-9a-f-]+)?|domain:\S+|(project|space):(dc:)?[\w-]+:~?\w+"
        r"|(filter|dashboard):(dc:)?[\w-]+:\d+|site:(dc:)?[\w-]+|app:(dc:)?[\w-]+:(jira|confluence):\S+"
        r"|event:org:\S+|event:jira:[\w-]+:\d+|event:dc:[\w-]+:\d+|event:confluence:[\w-]+:\d+:.+)$")
    for check_id, check in truth["checks"].items():
        for key in check["fails"]:
            assert pattern.match(key), (check_id, key)
    assert f"org:{org.org_id}" in truth["checks"]["POSTURE-011"]["fails"]


# --- plan and attestation ----------------------------------------------------------------------

GUARD_ONLY = ("POSTURE-004", "POSTURE-007", "POSTURE-008", "POSTURE-009", "POSTURE-010", "POSTURE-040",
              "IDENT-016", "IDENT-018", "IDENT-019", "PLUGIN-017", "PLUGIN-018",
              *(f"AUDIT-{n:03d}" for n in range(1, 16)))
MANUAL = ("POSTURE-012", "POSTURE-013", "POSTURE-028", "POSTURE-030", "POSTURE-035")
MANUAL_WITH_GUARD = ("POSTURE-003", "POSTURE-004", "POSTURE-007", "IDENT-003")


@pytest.mark.parametrize("size", SIZES)
def test_unguarded_org_plan_and_attestation(size):
    org = sim(size, 7).orgs[2]
    assert not org.guard
    bare, attested = ground_truth(org), ground_truth(org, attestation_for(org))
    for check_id in GUARD_ONLY:
        assert bare["checks"][check_id]["status"] == "not_evaluable", check_id
        assert attested["checks"][check_id]["status"] == "not_evaluable", check_id
    for check_id in MANUAL:
        assert bare["checks"][check_id]["status"] == "manual", check_id
        assert attested["checks"][check_id]["status"] == "evaluated", check_id
    # the catalog counts a 403 from the org log as a failure, and without policies nobody is SSO-enforced
    assert bare["checks"]["POSTURE-014"] == {**bare["checks"]["POSTURE-014"], "status": "evaluated",
                                             "fails": [f"org:{org.org_id}"]}
    assert bare["checks"]["POSTURE-003"]["status"] == "evaluated"
    assert bare["checks"]["IDENT-003"]["status"] == "evaluated"


@pytest.mark.parametrize("index", [0, 1])
def test_guarded_org_needs_attestation_for_policy_settings(index):
    org = sim("tiny", 7).orgs[index]
    bare, attested = ground_truth(org), ground_truth(org, attestation_for(org))
    for check_id in MANUAL + MANUAL_WITH_GUARD:
        assert bare["checks"][check_id]["status"] == "manual", check_id
        assert attested["checks"][check_id]["status"] == "evaluated", check_id
    for check_id in set(GUARD_ONLY) - set(MANUAL_WITH_GUARD):
        assert bare["checks"][check_id]["status"] == "evaluated", check_id
    att = attestation_for(org)
    assert json.loads(json.dumps(att)) == att
    assert set(att["auth_policies"]) == {p.policy_id for p in org.auth_policies}
    assert att["break_glass_policy_ids"] == org.config["break_glass_policy_ids"]
    # a partial attestation evaluates what it covers and leaves the rest manual
    partial = ground_truth(org, {"user_invites_open": False, "invite_links_active": False})
    assert partial["checks"]["POSTURE-013"] == {"status": "evaluated", "fails": [], "reason": ""}
    assert partial["checks"]["POSTURE-012"]["status"] == "manual"


# --- audit logs --------------------------------------------------------------------------------


def _assert_base_matches_nothing(org: Organization, sample: int = 2_000) -> int:
    rng = random.Random(f"{org.org_id}:base-sample")
    checked = 0
    for label, log, checks_of in event_matchers(org):
        indices = rng.sample(range(log.count), min(sample, log.count))
        for index in indices:
            event = log.base_event(index)
            assert not checks_of(event), (label, index, event.action, event.fields, checks_of(event))
        # not vacuous: the planted extras of the same log do match
        assert any(checks_of(e) for e in log.extras), label
        checked += len(indices)
    return checked


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("seed", SEEDS)
def test_base_audit_events_never_match_a_rule(size, seed):
    for org in sim(size, seed).orgs:
        assert _assert_base_matches_nothing(org) > 0


def test_only_visible_events_count():
    fresh = Simulator.generate("tiny", seed=7, orgs=1).orgs[0]
    org = copy.deepcopy(fresh)
    actor = next(a for a in org.accounts if "org-admin" in a.platform_roles)
    target = org.accounts[-1]
    late_time = org.clock - timedelta(hours=1)
    context = [{"id": target.account_id, "type": "users", "attributes": {"name": target.name}}]
    org.events.add(AuditEvent("late-1", late_time, org.clock + timedelta(minutes=5), "user_logged_in_as_user",
                              actor.account_id, {"actor": {"id": actor.account_id}, "context": context}))
    org.events.add(AuditEvent("seen-1", late_time, org.clock - timedelta(minutes=5), "user_logged_in_as_user",
                              actor.account_id, {"actor": {"id": actor.account_id}, "context": context}))
    fails = ground_truth(org)["checks"]["AUDIT-001"]["fails"]
    assert "event:org:seen-1" in fails and "event:org:late-1" not in fails
    assert f"account:{target.account_id}" in ground_truth(org)["checks"]["IDENT-016"]["fails"]


# --- scores ------------------------------------------------------------------------------------


def test_risk_tiers():
    assert [risk_level(s, False) for s in (0, 1, 3, 4, 7, 8, 11, 12, 30)] == [
        "none", "low", "low", "medium", "medium", "high", "high", "critical", "critical"]
    assert risk_level(3, True) == "high" and risk_level(12, True) == "critical"


@pytest.mark.parametrize("index", [0, 2])
def test_scores_agree_with_the_signals(index):
    org = sim("small", 11).orgs[index]
    att = attestation_for(org)
    truth = ground_truth(org, att)
    identity = identity_scores(org, att)
    plugins = plugin_scores(org, att)
    assert {a.account_id for a in org.accounts} <= set(identity)
    for weights, rows, prefix in ((IDENT_WEIGHTS, identity, "account:"), (PLUGIN_WEIGHTS, plugins, "")):
        for key, row in rows.items():
            assert row["score"] == sum(weights[s][0] for s in row["signals"])
            critical = any(weights[s][1] == "critical" for s in row["signals"])
            assert row["level"] == risk_level(row["score"], critical)
            for signal in row["signals"]:
                assert prefix + key in truth["checks"][signal]["fails"]
    for signal in IDENT_WEIGHTS:
        for key in truth["checks"][signal]["fails"]:
            assert signal in identity[key.removeprefix("account:")]["signals"]
    user_installed = {f"app:{s.name}:{p}:{a.key}" for s in org.sites for p in ("jira", "confluence")
                      for a in getattr(s, f"{p}_apps") if a.user_installed}
    assert user_installed <= set(plugins)
    assert not any(k.startswith(f"app:{org.sites[0].name}:jira:com.atlassian") for k in plugins)


# --- a large organization ----------------------------------------------------------------------


@pytest.mark.slow
def test_large_org_is_fast():
    started = time.perf_counter()
    large = Simulator.generate("large", seed=7, orgs=1)
    generated = time.perf_counter() - started
    org = large.orgs[0]
    started = time.perf_counter()
    truth = ground_truth(org, attestation_for(org))
    elapsed = time.perf_counter() - started
    print(f"\nlarge org: generated in {generated:.1f} s, {len(org.accounts)} accounts, "
          f"{org.events.count + len(org.events.extras)} org events; oracle in {elapsed:.2f} s")
    assert elapsed < 30
    assert truth["checks"]["IDENT-001"]["fails"]
    assert _assert_base_matches_nothing(org, sample=500) > 0


def test_truth_follows_time_travel():
    travelling = Simulator.generate("tiny", seed=7, orgs=1)
    org = travelling.orgs[0]
    before = ground_truth(org, attestation_for(org))
    changes = travelling.advance(1)["orgs"][0]
    after = ground_truth(org, attestation_for(org))
    assert after["clock"] > before["clock"] and after != before
    for installed in changes["apps_installed"]:
        assert installed in after["checks"]["PLUGIN-017"]["fails"]
    for added in changes["memberships_added"]:
        assert f"account:{added['account']}" in after["checks"]["IDENT-017"]["fails"]
    assert travelling.truth()["orgs"][0]["checks"] == after["checks"]
