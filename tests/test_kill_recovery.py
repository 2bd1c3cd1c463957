"""Kill safety: SIGKILLs at random moments of extract, normalize and load, with time travel between
runs; after each recovery run the warehouse's current rows equal a clean extract of the same
simulated day (0 lost, 0 duplicated, audit logs exact), and the run facts count only committed loads.

The oracle is a fresh warehouse loaded by one uninterrupted extract on the same day: the connector's
own reading of the simulator's model, so the comparison isolates what kills do to loads. Rows are
compared by dlt's row hash (`_dlt_id`, a hash of the row's content for snapshot tables and of the
parent and position for their nested tables) and by primary key for the incremental audit logs
(which may also hold the first run's events that a fresh extract's look-back window no longer reaches).

The kills are seeded (ATLASSIAN_POSTURE_KILL_SEED, default 20261205) and the test prints what it did.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
from atlassian_posture.connector.runner import extract
from atlassian_posture.warehouse import Warehouse
from atlassian_simulator.core import Simulator

SEED = int(os.environ.get("ATLASSIAN_POSTURE_KILL_SEED", "20261205"))
DAYS = 2  # each simulated day: three killed runs (one per phase, in random order), a recovery run, the oracle's extract
AUDIT_TABLES = ("org_events", "jira_audit_records", "confluence_audit_records", "dc_audit_events")
KEPT = {"org_managed_accounts"}  # change-driven runs keep it unread until the weekly sweep (changes.keep)


def _extract_process(warehouse: Path, config: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "atlassian_posture", "extract", "--warehouse", str(warehouse),
                             "--config-file", str(config), "--log-format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _phase(work: Path) -> str:
    """Where dlt is, from its working folder: a package waiting to normalize, or to load."""
    if any((work / "load" / "normalized").glob("*/")):
        return "load"
    if any((work / "normalize" / "extracted").glob("*/")):
        return "normalize"
    return "extract"


def _kill_during(phase: str, warehouse: Path, config: Path, rng: random.Random) -> str:
    """Start an extract, SIGKILL it once `phase` has begun (after a random delay); the phase it was in."""
    work = Warehouse(warehouse).state_dir / "atlassian_posture"
    delay = {"extract": rng.uniform(0.3, 2.5), "normalize": rng.uniform(0.0, 0.2), "load": rng.uniform(0.0, 0.8)}
    process = _extract_process(warehouse, config)
    began = time.monotonic()
    while process.poll() is None:
        if phase == "extract" or _phase(work) == phase:
            time.sleep(delay[phase])
            break
        if time.monotonic() - began > 120:
            break
        time.sleep(0.005)
    seen = _phase(work) if process.poll() is None else "finished"
    process.kill()
    process.communicate()
    return seen


def _parents(warehouse: Path) -> dict[str, str]:
    """Nested table -> its parent table, from dlt's schema of the warehouse."""
    import json

    schema = json.loads((Warehouse(warehouse).state_dir / "atlassian_posture" / "schemas" / "atlassian.schema.json")
                        .read_text())
    return {name: table["parent"] for name, table in schema["tables"].items() if table.get("parent")}


def _current_nested(table: str, parents: dict[str, str]) -> str:
    """SQL: the `_dlt_id`s of `table`'s rows whose root row is current (joined up the parent chain)."""
    chain, joins = [table], []
    while chain[-1] in parents:
        chain.append(parents[chain[-1]])
    for i, parent in enumerate(chain[1:]):
        joins.append(f'join raw."{parent}" t{i + 1} on t{i}._dlt_parent_id = t{i + 1}._dlt_id')
    return f'select t0._dlt_id from raw."{table}" t0 {" ".join(joins)} where t{len(chain) - 1}._dlt_valid_to is null'


def _current(con: duckdb.DuckDBPyConnection, parents: dict[str, str]) -> dict[str, Counter]:
    """Per raw table, the multiset of what is current: row hashes of snapshots and their nested rows,
    (tenant, id) of the audit logs."""
    tables = {t for (t,) in con.execute("select table_name from information_schema.tables "
                                        "where table_schema = 'raw' and table_name not like '\\_dlt%' escape '\\'")
              .fetchall()}
    columns = {(t, c) for t, c in con.execute("select table_name, column_name from information_schema.columns "
                                              "where table_schema = 'raw'").fetchall()}
    out: dict[str, Counter] = {}
    for table in sorted(tables):
        root = table.split("__")[0]
        if (root, "_dlt_valid_to") in columns:
            if table == root:
                sql = f'select _dlt_id from raw."{table}" where _dlt_valid_to is null and "_hold" is null' \
                    if (table, "_hold") in columns else f'select _dlt_id from raw."{table}" where _dlt_valid_to is null'
            else:
                sql = _current_nested(table, parents)
        elif root in AUDIT_TABLES and table == root:
            key = "record_id" if (table, "record_id") in columns else "id"
            sql = f'select _tenant || \'|\' || "{key}" from raw."{table}"'
        else:
            continue  # run facts (appended per run) and nested audit rows: compared through their parents
        out[table] = Counter(value for (value,) in con.execute(sql).fetchall())
    return out


def _differences(got: dict[str, Counter], want: dict[str, Counter]) -> dict[str, tuple[int, int]]:
    """Per table (lost, duplicated or extra) against the oracle; empty when equal."""
    diff = {}
    for table in sorted(set(got) | set(want)):
        g, w = got.get(table, Counter()), want.get(table, Counter())
        lost, extra = sum((w - g).values()), sum((g - w).values())
        if lost or extra:
            diff[table] = (lost, extra)
    return diff


def test_randomized_kills_across_extract_normalize_and_load_lose_and_duplicate_nothing(tmp_path):
    rng = random.Random(SEED)
    sim = Simulator.generate("tiny", seed=7, orgs=1)
    warehouse, config = tmp_path / "posture.duckdb", tmp_path / "atlassian.toml"
    kills: list[str] = []
    figures = []
    with sim.serve() as base:
        config.write_text(sim.secrets_toml(base))
        orgs, credentials = sim.connector_config(base)
        first = _extract_process(warehouse, config)
        assert first.wait(300) == 0, first.communicate()[1][-2000:]
        with duckdb.connect(str(warehouse), read_only=True) as con:
            first_rows = _current(con, _parents(warehouse))
            history = {t: c for t, c in first_rows.items() if t in AUDIT_TABLES}
            kept = {t: c for t, c in first_rows.items() if t.split("__")[0] in KEPT}
        for day in range(1, DAYS + 1):
            for phase in rng.sample(["extract", "normalize", "load"], 3):
                kills.append(_kill_during(phase, warehouse, config, rng))
            # time travel between the killed runs and the recovery: accounts, memberships, apps and audit
            # events change, so a recovery that loads what a killed run had read holds yesterday's data
            sim.advance(1)
            recovery = _extract_process(warehouse, config)
            out, err = recovery.communicate(timeout=300)
            assert recovery.returncode == 0, err[-2000:]
            oracle = tmp_path / f"oracle-{day}" / "posture.duckdb"  # its own folder: its own dlt state
            oracle.parent.mkdir()
            extract(orgs, credentials, oracle)
            with duckdb.connect(str(warehouse), read_only=True) as con:
                got = _current(con, _parents(warehouse))
                uncommitted_runs = con.execute(
                    "select count(*) from raw.runs where _dlt_load_id not in "
                    "(select load_id from raw._dlt_loads where status = 0)").fetchone()[0]
            with duckdb.connect(str(oracle), read_only=True) as con:
                want = _current(con, _parents(oracle))
            duplicated = {t: n for t, c in got.items() if (n := sum(v - 1 for v in c.values() if v > 1))}
            assert duplicated == {}, f"day {day} after kills {kills}"
            # a listing change-driven runs keep unread is as the first run loaded it (the oracle, a fresh full
            # extract, has today's): nothing lost, nothing duplicated
            assert {t: c for t, c in got.items() if t.split("__")[0] in KEPT} == kept, f"day {day} after {kills}"
            got = {t: c for t, c in got.items() if t.split("__")[0] not in KEPT}
            want = {t: c for t, c in want.items() if t.split("__")[0] not in KEPT}
            lost = {t: n for t, (n, _) in _differences(got, want).items() if n}
            assert lost == {}, f"day {day} after kills {kills}"
            # the warehouse keeps audit history a fresh extract's look-back window no longer reaches
            extra = {t: sorted(got[t] - want.get(t, Counter()) - history.get(t, Counter())) for t in got}
            assert {t: e for t, e in extra.items() if e} == {}, f"day {day} after kills {kills}"
            figures.append((day, sum(sum(c.values()) for c in got.values()), uncommitted_runs))
    # the staging views never read a killed run's facts (the dbt filter on committed loads)
    print(f"\nkill seed {SEED}: {len(kills)} SIGKILLs in phases {Counter(kills)}; per day (rows compared, stray "
          f"runs rows of killed loads): {figures}")
    assert len(kills) == 3 * DAYS
    work = Warehouse(warehouse).state_dir / "atlassian_posture"
    assert not list((work / "load" / "loaded").glob("*/")), "loaded packages are removed after a run"
    assert _phase(work) == "extract", "nothing is left pending after the recovery run"


_PUBLISH = """
import sys
from atlassian_posture.warehouse import Warehouse
Warehouse(sys.argv[1]).publish()
"""


def test_a_publish_killed_at_any_moment_leaves_the_last_copy_readable_and_no_partial_file(tmp_path):
    warehouse = Warehouse(tmp_path / "posture.duckdb")
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute("create schema marts; create table marts.check_status as select 1 as version")
    warehouse.publish()
    with duckdb.connect(str(warehouse.path)) as con:  # the next version is big enough to take a while to copy
        con.execute("create or replace table marts.check_status as select 2 as version")
        con.execute("create table marts.filler as select range as n, md5(range::text) as h from range(2000000)")
    rng = random.Random(SEED)
    outcomes = []
    for _ in range(4):
        process = subprocess.Popen([sys.executable, "-c", _PUBLISH, str(warehouse.path)])
        time.sleep(rng.uniform(0.05, 1.5))
        process.kill()
        outcomes.append(process.wait())
        with duckdb.connect(str(warehouse.published_path), read_only=True) as con:  # always a whole copy
            assert con.execute("select version from marts.check_status").fetchone()[0] in (1, 2)
    warehouse.publish()
    leftovers = [p.name for p in warehouse.published_path.parent.iterdir() if p.name != warehouse.path.name]
    assert leftovers == []
    with duckdb.connect(str(warehouse.published_path), read_only=True) as con:
        assert con.execute("select version from marts.check_status").fetchone()[0] == 2
    print(f"\npublish kills: exit codes {outcomes} (-9 killed, 0 finished first)")


def test_a_run_killed_while_dbt_builds_keeps_the_published_copy_and_the_next_run_recovers(tmp_path):
    rng = random.Random(SEED)
    sim = Simulator.generate("tiny", seed=7, orgs=1)
    warehouse, config = tmp_path / "posture.duckdb", tmp_path / "atlassian.toml"
    published = Warehouse(warehouse).published_path
    command = [sys.executable, "-m", "atlassian_posture", "run", "--warehouse", str(warehouse), "--config-file",
               str(config), "--log-format", "json"]
    with sim.serve() as base:
        config.write_text(sim.secrets_toml(base))
        assert _extract_process(warehouse, config).wait(300) == 0
        Warehouse(warehouse).publish()  # what readers had before the run that gets killed (raw tables only)
        sim.advance(1)
        killed = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in killed.stderr:  # JSON events as they happen: kill once dbt has started
            if '"event": "transform"' in line:
                time.sleep(rng.uniform(0.5, 8.0))
                break
        finished_first = killed.poll() is not None
        killed.kill()
        killed.wait()
        with duckdb.connect(str(published), read_only=True) as con:  # readers keep the last copy, whole
            schemas = {s for (s,) in con.execute("select schema_name from information_schema.schemata").fetchall()}
            assert "raw" in schemas and (finished_first or "marts" not in schemas)
        recovery = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert recovery.returncode == 0, recovery.stderr[-2000:]
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from marts.check_status").fetchone()[0] > 0
        latest = con.execute("select max(run_id) from staging.stg_connector__runs").fetchone()[0]
    assert latest == next(json.loads(line)["run_id"] for line in recovery.stderr.splitlines()
                          if '"event": "published"' in line)
    print(f"\ndbt kill: {'after the run ended' if finished_first else 'during dbt build'}; recovery exit 0")
