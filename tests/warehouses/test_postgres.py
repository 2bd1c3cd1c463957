"""Beyond one file: the same pipeline and the same dbt models on a real PostgreSQL server give the
same marts as DuckDB for the same organization. The server is Debian's `postgresql`, started on
127.0.0.1 for this module and stopped after (`.ci/run` installs the package)."""

from __future__ import annotations

import datetime as dt
import decimal
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from atlassian_simulator.core import Simulator

from tests.consume.conftest import free_port

PASSWORD = "pg-Secret-4-tests"
BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


def _as(user: str | None, command: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *command] if user else command


@pytest.fixture(scope="module")
def postgres():
    if not BINARIES:
        pytest.skip("PostgreSQL server binaries not found (Debian package `postgresql`; .ci/run installs it)")
    psycopg2 = pytest.importorskip("psycopg2", reason="the postgres extra is not installed: uv sync --extra postgres")
    bindir = Path(BINARIES[-1]).parent
    user = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
    root = Path(tempfile.mkdtemp(prefix="posture-pg-"))
    if user:
        shutil.chown(root, user)
    port = free_port()
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD)
    if user:
        shutil.chown(pwfile, user)
    subprocess.run(_as(user, [str(bindir / "initdb"), "-D", str(root / "data"), "-U", "posture", "-A", "scram-sha-256",
                              f"--pwfile={pwfile}"]), check=True, capture_output=True)
    subprocess.run(_as(user, [str(bindir / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "log"), "-w",
                              "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start"]),
                   check=True, capture_output=True)
    try:
        con = psycopg2.connect(host="127.0.0.1", port=port, user="posture", password=PASSWORD, dbname="postgres")
        con.autocommit = True
        con.cursor().execute("create database warehouse")
        con.close()
        yield f"postgresql://posture@127.0.0.1:{port}/warehouse"
    finally:
        subprocess.run(_as(user, [str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "fast", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _run(warehouse, config: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ATLASSIAN_POSTURE_PG_PASSWORD": PASSWORD}
    return subprocess.run([sys.executable, "-m", "atlassian_posture.cli", "run", "--warehouse", str(warehouse),
                           "--config-file", str(config), "--log-format", "json"],
                          capture_output=True, text=True, timeout=900, cwd=cwd, env=env)


def _value(v) -> str:
    """One spelling per value whatever the engine: nulls, dates and timestamps (UTC), numbers."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        return "∅"
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        v = pd.Timestamp(v)
        v = v.tz_convert("UTC").tz_localize(None) if v.tzinfo else v
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, dt.date):
        return f"{v:%Y-%m-%d} 00:00:00.000000"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float, decimal.Decimal)):
        return f"{float(v):.6g}"  # DuckDB's FLOAT is 32-bit, PostgreSQL's double
    return str(v)


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.drop(columns=[c for c in ("loaded_at",) if c in frame.columns])  # when dlt loaded: per run
    frame = frame.astype(object).apply(lambda column: column.map(_value))
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_postgres_marts_equal_duckdb_marts(postgres, tmp_path):
    import psycopg2

    sim = Simulator.generate("tiny", seed=7, orgs=2)
    with sim.serve() as base:
        config = tmp_path / "atlassian.toml"
        config.write_text(sim.secrets_toml(base))
        on_server = _run(postgres, config, tmp_path)
        on_file = _run(tmp_path / "posture.duckdb", config, tmp_path)
    assert on_server.returncode == 0, on_server.stderr[-3000:]
    assert on_file.returncode == 0, on_file.stderr[-3000:]
    assert PASSWORD not in on_server.stdout + on_server.stderr  # the password never reaches a log line
    with duckdb.connect(str(tmp_path / "published" / "posture.duckdb"), read_only=True) as con:
        names = [n for (n,) in con.execute("select table_name from information_schema.tables "
                                           "where table_schema = 'marts' order by 1").fetchall()]
        files = {n: con.execute(f"select * from marts.{n}").df() for n in names}
    with psycopg2.connect(postgres.replace("posture@", f"posture:{PASSWORD}@")) as pg:
        cursor = pg.cursor()
        cursor.execute("select table_name from information_schema.tables where table_schema = 'marts' order by 1")
        assert [n for (n,) in cursor.fetchall()] == names
        for name in names:
            cursor.execute(f"select * from marts.{name}")
            server = pd.DataFrame(cursor.fetchall(), columns=[d.name for d in cursor.description])
            assert list(server.columns) == list(files[name].columns), name
            assert len(server) == len(files[name]) > 0, name
            pd.testing.assert_frame_equal(_canonical(server), _canonical(files[name]), obj=f"marts.{name}")
        cursor.execute("select count(distinct org_id) from marts.check_status")
        assert cursor.fetchone()[0] == 2
