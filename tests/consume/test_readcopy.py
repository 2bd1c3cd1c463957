"""Readers and the writer never block each other: the published copy is swapped atomically."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import duckdb
import pytest
from atlassian_posture.consume.readcopy import WarehouseUnavailable, published_path, read_sql, readable_path
from atlassian_posture.warehouse import Warehouse


def _warehouse(path, value: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.t as select ? as v", [value])


def test_an_open_reader_neither_blocks_publishing_nor_breaks(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse, 1)
    Warehouse(warehouse).publish()
    # a notebook in another process keeps a read-only connection open on the published copy
    reader = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect({str(published_path(warehouse))!r}, read_only=True)\n"
        "print(con.execute('select v from marts.t').fetchone()[0], flush=True)\n"
        "sys.stdin.readline()\n"
        "print(con.execute('select v from marts.t').fetchone()[0], flush=True)\n")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "1"
        _warehouse(warehouse, 2)  # the writer still opens its own file for writing
        Warehouse(warehouse).publish()  # and publishes while the reader holds the old copy open
        assert read_sql("select v from marts.t", warehouse)["v"].tolist() == [2]  # a new reader sees the new copy
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "1"  # the open reader still reads its snapshot, unbroken
    finally:
        reader.kill()
        reader.wait()
    assert not list(published_path(warehouse).parent.glob(".*partial"))


def test_reading_while_a_writer_holds_the_warehouse(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse, 1)
    Warehouse(warehouse).publish()
    writer = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys\n"
        f"con = duckdb.connect({str(warehouse)!r})\n"
        "con.execute('create or replace table marts.t as select 3 as v')\n"
        "print('writing', flush=True)\n"
        "sys.stdin.readline()\n")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        started = time.monotonic()
        assert read_sql("select v from marts.t", warehouse)["v"].tolist() == [1]
        assert time.monotonic() - started < 30  # answered from the copy, not after the writer
    finally:
        writer.stdin.write("\n")
        writer.stdin.flush()
        writer.wait(30)


def test_nothing_published_says_what_to_run(tmp_path):
    with pytest.raises(WarehouseUnavailable, match="atlassian-posture demo"):
        readable_path(tmp_path / "never.duckdb")


@pytest.mark.skipif(shutil.which("uv") is None, reason="an isolated DuckDB 1.x reader is installed with uv")
def test_the_published_copy_opens_in_duckdb_1(tmp_path):
    """BI tools and the DuckDB CLI often bundle DuckDB 1.x, which cannot read a file DuckDB 2 wrote in its own
    format: the published copy is written in the 1.0 storage format, views included."""
    warehouse = tmp_path / "posture.duckdb"
    _warehouse(warehouse, 7)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema staging")
        con.execute('create view staging.v as select v * 2 as doubled from "posture".marts.t')
    published = Warehouse(warehouse).publish()
    reader = tmp_path / "duckdb1"
    subprocess.run(["uv", "venv", "--quiet", str(reader)], check=True)
    subprocess.run(["uv", "pip", "install", "--quiet", "--python", str(reader / "bin" / "python"), "duckdb>=1.1,<2"],
                   check=True)
    done = subprocess.run([str(reader / "bin" / "python"), "-c", (
        "import duckdb\n"
        f"con = duckdb.connect({str(published)!r}, read_only=True)\n"
        "print(duckdb.__version__.split('.')[0], con.execute('select doubled from staging.v').fetchone()[0])\n")],
        capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "14"]
