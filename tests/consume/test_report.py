"""`atlassian-posture report`: one self-contained HTML file with the findings, charts included."""

from __future__ import annotations

import html
import re
import subprocess
import sys

from atlassian_posture.consume import queries


def report(scheduled, out, *extra) -> str:
    done = subprocess.run([sys.executable, "-m", "atlassian_posture.cli", "report", "--warehouse", str(scheduled.warehouse),
                           "--out", str(out), *extra], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"Report written to {out}" in done.stdout
    return out.read_text()


def test_the_report_is_self_contained_and_says_what_fails(scheduled, tmp_path):
    page = report(scheduled, tmp_path / "report.html")
    # nothing to fetch: no script, stylesheet, image or font from anywhere
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    assert page.count("<svg") >= 8
    published = scheduled.published
    for row in queries.organizations(published).itertuples():
        assert f"{row.posture_score:.0f}<span" in page and row.org_key in page
    for row in queries.failing_checks(published, limit=5).itertuples():
        assert row.check_id in page and row.remediation in html.unescape(page)
    for row in queries.riskiest_accounts(published, limit=3).itertuples():
        assert row.display_name in page
    for row in queries.riskiest_apps(published, limit=3).itertuples():
        assert row.app_name in page


def test_the_report_for_one_organization(scheduled, tmp_path):
    orgs = queries.organizations(scheduled.published)["org_key"].tolist()
    assert len(orgs) == 2
    page = report(scheduled, tmp_path / "one.html", "--org", orgs[0])
    assert orgs[0] in page and orgs[1] not in page


def test_no_warehouse_is_a_one_line_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "atlassian_posture.cli", "report", "--warehouse", str(tmp_path / "no.duckdb"),
                           "--out", str(tmp_path / "r.html")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "atlassian-posture demo" in done.stderr
