"""The README's first command, end to end: `atlassian-posture demo` in a fresh directory."""

from __future__ import annotations

import re
import subprocess
import sys

import duckdb
import pandas as pd
from atlassian_posture.consume import queries

from tests.consume.test_findings_in_words import bare_signal_ids

DAYS = 2


def test_the_demo_summarizes_and_says_what_to_open_next(tmp_path):
    # two simulated days (the default is 3): enough for a trend, one extract and dbt build less on CI
    done = subprocess.run([sys.executable, "-m", "atlassian_posture.cli", "demo", "--size", "tiny", "--days", str(DAYS)],
                          cwd=tmp_path,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    # progress while it works, then the summary
    assert "Extracting every resource" in out and "dbt nodes done" in out
    score = int(re.search(r"posture score (\d+)/100", out).group(1))
    published = tmp_path / "warehouse" / "published" / "demo.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        expected = con.execute("select posture_score from marts.posture_score_daily order by score_date desc"
                               ).fetchone()[0]
        top_app = con.execute("select app_name from marts.plugin_risks order by risk_score desc limit 1").fetchone()[0]
    assert score == round(expected)
    worst = queries.failing_checks(published, limit=1).iloc[0]
    assert worst.check_id in out and "fix: " + worst.remediation[:60] in out
    assert "Riskiest accounts:" in out and top_app in out
    assert "Open next:" in out and "atlassian-posture dashboard" in out and "demo-report.html" in out
    assert (tmp_path / "warehouse" / "demo-report.html").stat().st_size > 10_000
    # findings in words: no signal id without its title, nothing cut mid-word
    assert "IDENT-0" in out and "PLUGIN-0" in out and not bare_signal_ids(out)
    # the integration's own account is said, not ranked
    reader = queries.integration_accounts(published).iloc[0]
    assert f"(not ranked: {reader.display_name} <{reader.email}> is the account this product reads as" in out
    ranked = out.split("Riskiest accounts")[1].split("(not ranked")[0]
    assert reader.email not in ranked
    # a few simulated days: a trend, findings first seen on an earlier day than the last run
    history = queries.score_history(published)
    assert len(history) == DAYS and f"over {DAYS} days: " in out
    first_seen = queries.failing_checks(published)["first_seen_at"]
    assert first_seen.min() < pd.Timestamp(history["score_date"].max())
