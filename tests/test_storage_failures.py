"""A warehouse that cannot be written gives one line with the cause and the documented exit code,
never a traceback (issue 14 #7): a read-only directory, a corrupt or truncated file, a full disk.

The read-only directory and the full disk are tmpfs mounts, so those two need root (CI containers
run as root); elsewhere they are skipped."""

import contextlib
import os
import subprocess

import duckdb
import pytest
from atlassian_posture.cli import main
from atlassian_posture.errors import EXIT_CONFIG, EXIT_FAILED
from atlassian_simulator.core import Simulator
from click.testing import CliRunner

CONFIG = """
[sources.atlassian.orgs.acme]
admin_url = "https://api.example.invalid"
[sources.atlassian.credentials.acme]
admin_api_key = "never-sent"
"""


def _extract(config, warehouse, *resources):
    args = ["extract", "--config-file", str(config), "--warehouse", str(warehouse)]
    for name in resources:
        args += ["--resource", name]
    return CliRunner().invoke(main, args)


def _one_line(result, exit_code, *words):
    assert result.exit_code == exit_code, result.output
    # besides the progress lines (a line per resource and tenant collected before the failure, indented)
    # and a library's warnings
    lines = [line for line in result.output.splitlines()
             if line.strip() and not line.startswith(("  ", "warning: ")) and "|dlt|" not in line]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output and all(w in lines[0] for w in words), lines


@contextlib.contextmanager
def _tmpfs(path, size, read_only=False):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)])


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(CONFIG)
    return path


def test_a_corrupt_warehouse_file_is_named_not_a_traceback(tmp_path, config):
    warehouse = tmp_path / "w.duckdb"
    warehouse.write_bytes(os.urandom(20_000))
    _one_line(_extract(config, warehouse), EXIT_CONFIG, str(warehouse), "not a DuckDB database")


def test_a_truncated_warehouse_file_is_named_not_a_traceback(tmp_path, config):
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as db:
        db.execute("create schema raw; create table raw.t as select range as id, repeat('x', 50) as v "
                   "from range(200000)")
    os.truncate(warehouse, warehouse.stat().st_size // 3)
    _one_line(_extract(config, warehouse), EXIT_CONFIG, str(warehouse), "damaged")


def test_a_read_only_warehouse_directory_says_so(tmp_path, config):
    with _tmpfs(tmp_path / "ro", "1m", read_only=True) as folder:
        _one_line(_extract(config, folder / "w.duckdb"), EXIT_CONFIG, str(folder), "cannot write")


def test_a_full_disk_says_so(tmp_path):
    sim = Simulator.generate("tiny", seed=7)
    with sim.serve() as base, _tmpfs(tmp_path / "full", "1200k") as folder:
        config = tmp_path / "sim.toml"
        config.write_text(sim.secrets_toml(base))
        _one_line(_extract(config, folder / "w.duckdb"), EXIT_FAILED, "no space left", str(folder))
