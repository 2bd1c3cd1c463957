"""A dbt user works in dbt_project/ directly: the committed profiles.yml reads the environment, the manifest
has the exposures (dashboard, report, notebooks) and the run facts' freshness."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from atlassian_posture.transform import PROJECT_DIR


def test_dbt_parses_in_the_project_directory_with_the_committed_profile(tmp_path):
    env = {**os.environ, "ATLASSIAN_POSTURE_DUCKDB": str(tmp_path / "w.duckdb")}
    env.pop("DBT_PROFILES_DIR", None)
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run([str(dbt), "parse", "--target-path", str(tmp_path / "target"), "--log-path",
                           str(tmp_path / "logs"), "--quiet"], cwd=PROJECT_DIR, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert {e["name"] for e in manifest["exposures"].values()} == {"posture_dashboard", "posture_report",
                                                                    "posture_notebooks"}
    runs = next(s for s in manifest["sources"].values() if s["name"] == "runs")
    assert runs["loaded_at_field"] == "finished_at" and runs["freshness"]["error_after"]["count"] == 72
