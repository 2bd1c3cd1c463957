"""History (first_seen_at / last_seen_at, the daily score) follows time travel; missing inputs
say not_evaluable or manual, never pass."""

from __future__ import annotations

import duckdb

from tests.transform.compare import compare, observable_truth
from tests.transform.conftest import build_warehouse


def _failing(con) -> dict[tuple[str, str, str], tuple]:
    return {(org, check, key): (first, last) for org, check, key, first, last in con.execute(
        "select org_id, check_id, resource_key, first_seen_at, last_seen_at from marts.posture_findings "
        "where status = 'fail'").fetchall()}


def test_findings_and_the_daily_score_follow_time_travel(tmp_path):
    built, _ = build_warehouse(tmp_path, "small", 7)
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        before = _failing(con)
        (first_clock,) = con.execute("select max(as_of) from intermediate.int_orgs").fetchone()
    # what a run killed mid-load leaves: its own facts (a runs row with a later clock, coverage that says
    # a resource failed) under a load id dlt never committed; the marts must not read them
    with duckdb.connect(str(built.warehouse)) as con:
        con.execute("insert into raw.runs (run_id, org_key, org_id, started_at, finished_at, server_time, "
                    "_dlt_load_id, _dlt_id) select 'killed', org_key, org_id, started_at, finished_at, "
                    "server_time + interval 400 day, 'never-committed', 'stray-' || org_key from raw.runs")
        con.execute("insert into raw.coverage (run_id, resource, tenant, status, reason, started_at, _dlt_load_id, "
                    "_dlt_id) select 'killed', resource, tenant, 'failed', 'killed', started_at + interval 400 day, "
                    "'never-committed', 'stray-' || _dlt_id from raw.coverage")
    built.sim.advance(3)
    truth = built.refresh()
    assert compare(built.warehouse, observable_truth(truth, built.sim), source="marts") == []
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        after = _failing(con)
        (second_clock,) = con.execute("select max(as_of) from intermediate.int_orgs").fetchone()
        assert con.execute("select count(*) from staging.stg_connector__runs where run_id = 'killed'").fetchone() == (0,)
        resolved = {(org, check, key): (status, last) for org, check, key, status, last in con.execute(
            "select org_id, check_id, resource_key, status, last_seen_at from marts.posture_findings").fetchall()
            if (org, check, key) in set(before) - set(after)}
        daily = con.execute("select org_id, score_date, posture_score, checks_failing from marts.posture_score_daily "
                            "order by org_id, score_date").fetchall()
    assert second_clock > first_clock
    new = set(after) - set(before)
    kept = set(after) & set(before)
    assert new, "time travel plants new failures (scheme grants, admin grants)"
    assert all(after[k] == (second_clock, second_clock) for k in new)
    assert all(after[k] == (first_clock, second_clock) for k in kept)
    # a finding that stopped failing keeps when it was last seen failing
    assert all(last == first_clock for status, last in resolved.values())
    assert all(status != "fail" for status, _ in resolved.values())
    days = {}
    for org, day, score, failing in daily:
        days.setdefault(org, []).append((day, score, failing))
    assert all(len(v) == 2 for v in days.values()), days
    assert all(0 <= score <= 100 for v in days.values() for _, score, _ in v)


def test_without_an_attestation_the_attested_checks_are_manual(tmp_path):
    built, truth = build_warehouse(tmp_path, "tiny", 7, orgs=1, attest=False)  # tiny: attestation is not about size
    assert compare(built.warehouse, observable_truth(truth, built.sim), source="marts") == []
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        manual = {c for (c,) in con.execute(
            "select distinct check_id from marts.posture_findings where status = 'manual'").fetchall()}
    assert {"POSTURE-007", "POSTURE-012", "POSTURE-013"} <= manual


def test_a_forbidden_input_makes_its_checks_not_evaluable_never_pass(tmp_path):
    built, _ = build_warehouse(tmp_path, "tiny", 7, orgs=1)
    built.sim.faults.forbidden = ["*/rest/api/*/permissionscheme*", "*/wiki/api/v2/spaces/*/permissions*"]
    built.refresh()
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        statuses = dict(con.execute(
            "select check_id, status from marts.check_status "
            "where check_id in ('POSTURE-016', 'POSTURE-017', 'POSTURE-036')").fetchall())
        passes = con.execute("select count(*) from marts.posture_findings where status = 'pass' "
                             "and check_id in ('POSTURE-016', 'POSTURE-017', 'POSTURE-036')").fetchone()[0]
    assert statuses == {"POSTURE-016": "not_evaluable", "POSTURE-017": "not_evaluable",
                        "POSTURE-036": "not_evaluable"}
    assert passes == 0
