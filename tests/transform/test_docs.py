"""`dbt docs generate` works, and every model and every column it finds in the warehouse is documented."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from atlassian_posture.transform import PROFILE_NAME, PROJECT_DIR, profile_yaml

from tests.transform.conftest import build_warehouse


def test_docs_generate_and_every_model_and_column_is_documented(tmp_path):
    built, _ = build_warehouse(tmp_path, "tiny", 7, orgs=1)
    # the dbt unit tests (the rules' SQL against fixed inputs) run here, once, not in scheduled builds
    from atlassian_posture.warehouse import Warehouse

    scheduled = json.loads((Warehouse(built.warehouse).dbt_dir / "target" / "run_results.json").read_text())
    assert not [r for r in scheduled["results"] if r["unique_id"].startswith("unit_test.")]
    from atlassian_posture.transform import _release_duckdb
    from dbt.cli.main import dbtRunner

    with tempfile.TemporaryDirectory() as profiles:
        Path(profiles, "profiles.yml").write_text(profile_yaml(built.warehouse))
        try:
            units = dbtRunner().invoke(["test", "--select", "test_type:unit", "--project-dir", str(PROJECT_DIR),
                                        "--profiles-dir", profiles, "--profile", PROFILE_NAME, "--target-path",
                                        str(tmp_path / "u"), "--quiet"])
            result = dbtRunner().invoke(["docs", "generate", "--project-dir", str(PROJECT_DIR), "--profiles-dir",
                                         profiles, "--profile", PROFILE_NAME, "--target-path", str(tmp_path / "t"),
                                         "--quiet"])
        finally:
            _release_duckdb()
    assert units.success and len(units.result) >= 20, units.exception
    assert result.success, result.exception
    manifest = json.loads((tmp_path / "t" / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "t" / "catalog.json").read_text())
    undocumented = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] not in ("model", "seed"):
            continue
        if not node["description"].strip():
            undocumented.append(unique_id)
        documented = {name.lower() for name, column in node["columns"].items() if column["description"].strip()}
        actual = catalog["nodes"].get(unique_id, {}).get("columns", {})
        undocumented += [f"{unique_id}.{name}" for name in actual if name.lower() not in documented]
    assert undocumented == [], "\n".join(undocumented)
    marts = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"}
    assert {"posture_findings", "identity_risks", "plugin_risks", "effective_permissions", "audit_events",
            "security_detections", "posture_score_daily"} <= marts
