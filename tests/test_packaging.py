"""The product as a user installs it: the wheel, in a fresh virtual environment outside the repository.

`atlassian-posture demo` and `atlassian-posture run` must work there to the end (the dbt project ships
inside the package), with nothing from the checkout on the path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from atlassian_simulator.core import Simulator

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("uv") is None, reason="building and installing the wheel needs uv")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin directory of a fresh venv holding the freshly built wheel with the simulator extra."""
    where = tmp_path_factory.mktemp("installed")
    subprocess.run(["uv", "build", "--wheel", "--out-dir", str(where / "dist"), str(ROOT)], check=True,
                   capture_output=True)
    wheel = next((where / "dist").glob("atlassian_posture-*.whl"))
    subprocess.run(["uv", "venv", "--quiet", "--python", sys.executable, str(where / "venv")], check=True)
    subprocess.run(["uv", "pip", "install", "--quiet", "--python", str(where / "venv" / "bin" / "python"),
                    f"{wheel}[simulator]"], check=True)
    return where / "venv" / "bin"


def _clean_env(bin_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "DLT_DATA_DIR")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_the_wheel_carries_the_dbt_project_and_no_build_leftovers(installed):
    site = subprocess.run([str(installed / "python"), "-c", "import atlassian_posture, pathlib;"
                           "print(pathlib.Path(atlassian_posture.__file__).parent)"],
                          capture_output=True, text=True, check=True).stdout.strip()
    project = Path(site) / "dbt_project"
    assert (project / "dbt_project.yml").exists()
    assert (project / "seeds" / "check_catalog.csv").exists()
    assert not (project / "target").exists() and not (project / "logs").exists()


def test_demo_runs_to_the_end_from_the_installed_wheel(installed, tmp_path):
    done = subprocess.run([str(installed / "atlassian-posture"), "demo", "--size", "tiny"], cwd=tmp_path,
                          env=_clean_env(installed), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (tmp_path / "warehouse" / "demo-report.html").stat().st_size > 10_000
    with duckdb.connect(str(tmp_path / "warehouse" / "published" / "demo.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.posture_findings where status = 'fail'").fetchone()[0] > 0


def test_run_builds_the_marts_from_the_installed_wheel(installed, tmp_path):
    sim = Simulator.generate("tiny", seed=11)
    with sim.serve() as base:
        config = tmp_path / "tenant.toml"
        config.write_text(sim.secrets_toml(base))
        done = subprocess.run([str(installed / "python"), "-m", "atlassian_posture", "run", "--config-file",
                               str(config), "--warehouse", str(tmp_path / "w" / "posture.duckdb")],
                              cwd=tmp_path, env=_clean_env(installed), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with duckdb.connect(str(tmp_path / "w" / "published" / "posture.duckdb"), read_only=True) as con:
        orgs = con.execute("select count(distinct org_key) from marts.check_status").fetchone()[0]
        findings = con.execute("select count(*) from marts.posture_findings").fetchone()[0]
    assert orgs == 1 and findings > 0
