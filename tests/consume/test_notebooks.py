"""The notebooks run headless (`marimo export html`) against a published warehouse, without an
error in any cell, and show what the marts hold."""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path

import pytest
from atlassian_posture.consume import queries

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def export(notebook: str, warehouse: Path, out: Path) -> tuple[str, list[dict]]:
    """Run one notebook to HTML; return the text of its outputs and the outputs themselves."""
    done = subprocess.run([sys.executable, "-m", "marimo", "export", "html", str(NOTEBOOKS / f"{notebook}.py"),
                           "-o", str(out), "-f", "--", "--warehouse", str(warehouse)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    page = out.read_text()
    start = page.index('"session": ') + len('"session": ')
    session, _ = json.JSONDecoder().raw_decode(page[start:])
    outputs = [o for cell in session["cells"] for o in cell["outputs"]]
    text = html.unescape(" ".join(json.dumps(o["data"]) for o in outputs if o.get("data")))
    return text, outputs


def assert_no_errors(outputs: list[dict]) -> None:
    bad = [o for o in outputs if o["type"] != "data" or any("error" in mime for mime in o.get("data", {}))]
    assert bad == [], json.dumps(bad)[:2000]


@pytest.fixture(scope="module")
def published(scheduled):
    return scheduled.published


def test_posture_overview(published, tmp_path):
    text, outputs = export("posture_overview", published, tmp_path / "o.html")
    assert_no_errors(outputs)
    orgs = queries.organizations(published)
    worst = queries.failing_checks(published, limit=3)
    assert "Posture score over time" in text and "Failing findings by product and severity" in text
    for row in orgs.itertuples():
        assert f"Posture score: {row.org_key}" in text and f"{row.posture_score:.0f}/100" in text
    for row in worst.itertuples():
        assert row.check_id in text and row.title in text


def test_identity_risks(published, tmp_path):
    text, outputs = export("identity_risks", published, tmp_path / "i.html")
    assert_no_errors(outputs)
    assert "Admin sprawl" in text and "Dormant and external access" in text and "Accounts by risk level" in text
    top = queries.riskiest_accounts(published, limit=3)
    for row in top.itertuples():
        assert row.display_name in text
    assert "IDENT-0" in text


def test_app_review(published, tmp_path):
    text, outputs = export("app_review", published, tmp_path / "a.html")
    assert_no_errors(outputs)
    assert "Scopes granted to installed apps" in text and "Apps by risk level" in text
    for row in queries.riskiest_apps(published, limit=3).itertuples():
        assert row.app_name in text


def test_audit_activity(published, tmp_path):
    text, outputs = export("audit_activity", published, tmp_path / "d.html")
    assert_no_errors(outputs)
    assert "Audit activity per day" in text and "Security detections" in text
    detections = queries.detection_counts(published)
    assert len(detections) and detections.iloc[0]["detection_id"] in text
