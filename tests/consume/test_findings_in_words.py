"""Findings in words, on the shared scheduled warehouse (no new build): every signal id next to its
title, the integration's own account labelled and not ranked, lists grouped and their truncation said."""

from __future__ import annotations

import csv
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from atlassian_posture.consume import queries, report
from atlassian_posture.consume.readcopy import read_sql

CATALOG = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "check_catalog.csv"
SIGNAL_ID = re.compile(r"\b(?:IDENT|PLUGIN)-\d{3}\b")


def titles() -> dict[str, str]:
    with CATALOG.open() as handle:
        return {row["check_id"]: row["title"] for row in csv.DictReader(handle)}


def bare_signal_ids(text: str) -> list[str]:
    """Identity and plugin signal ids in `text` not followed by their catalog title."""
    known = titles()
    return [m.group(0) for m in SIGNAL_ID.finditer(text)
            if not text[m.end():].lstrip(" :·—-").startswith(known[m.group(0)])]


class Tables(HTMLParser):
    """The rows of every <table> of a page, as lists of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None:
            self._row.append("".join(self._cell or []).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def published(scheduled):
    return scheduled.published


@pytest.fixture(scope="module")
def page(published, tmp_path_factory, request):
    """The report with short lists (5 rows), so truncation shows on tiny organizations."""
    patch = pytest.MonkeyPatch()
    patch.setattr(report, "LIST_ROWS", 5)
    request.addfinalizer(patch.undo)
    out = tmp_path_factory.mktemp("report") / "report.html"
    report.write_report(out, published)
    return out.read_text()


def test_the_integration_account_is_labelled_and_not_ranked(published):
    integration = queries.integration_accounts(published)
    # each organization of the fixture reads its Cloud sites with its own posture-reader token (an admin holding
    # a token), and its Data Center instances with the PAT of the DC user `admin` (the instances say who that is)
    cloud = integration[integration["email"].str.startswith("posture-reader@")]
    assert len(cloud) == 2 and (cloud["risk_score"] > 0).all()  # its admin signals still fired: labelled, not hidden
    dc = integration[integration["display_name"] == "DC Administrator"]
    assert sorted(dc["org_key"]) == sorted(cloud["org_key"]) and len(integration) == 4
    assert not integration["is_ranked"].any() and integration["integration_concerns"].isna().all()
    ranked = queries.riskiest_accounts(published, limit=None)
    assert not set(integration["email"]) & set(ranked["email"].dropna())
    table = queries.identity_table(published)
    labelled = table[table["is_integration_account"]]
    assert sorted(labelled["email"]) == sorted(integration["email"])
    # the audit view names its actions as the integration's
    actors = queries.detections(published, limit=None)["actor_name"].dropna()
    names = set(integration["display_name"])
    assert actors.str.endswith("(this integration)").any()
    assert not actors.isin(names).any()


def test_signals_carry_their_titles(published):
    for frame in (queries.riskiest_accounts(published, limit=None), queries.riskiest_apps(published, limit=None)):
        fired = frame[frame["risk_score"] > 0]
        assert len(fired)
        for row in fired.itertuples():
            assert row.signal_titles and not bare_signal_ids(row.signal_titles), row.signal_titles
            assert row.signal_titles.count("; ") + 1 == row.signal_count == len(row.signals.split(", "))


def test_org_level_findings_name_the_organization(published):
    orgs = queries.organizations(published)
    assert str(orgs["checks_failing"].dtype) == "Int64"  # counts are integers, not 35.0
    failing = queries.failing_checks(published)
    org_level = failing[failing["check_id"].isin(read_sql(
        "select distinct check_id from marts.posture_findings where resource_type = 'org'", published)["check_id"])]
    assert len(org_level)
    for check in [*org_level["check_id"].unique()[:3], *failing["check_id"].unique()[:3]]:
        findings = queries.check_findings(check, published)
        assert findings["site_ref"].notna().all()
        assert not findings["resource_name"].isin(orgs["org_id"]).any()
        org_rows = findings[findings["resource_type"] == "org"]
        assert (org_rows["resource_name"] == "organization " + org_rows["org_key"]).all()


def test_the_report_in_words_grouped_and_saying_what_it_cuts(published, page):
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
    assert not bare_signal_ids(text)
    assert "Same as filters" not in text and "(this integration)" in text
    for row in queries.integration_accounts(published).itertuples():
        assert f"{row.display_name} <{row.email}> ({row.org_key}) is the account this product reads as" in text
    parser = Tables()
    parser.feed(page)
    for table in parser.tables:
        for before, after in zip(table, table[1:], strict=False):
            assert before != after, f"two identical consecutive rows: {before}"
    # repeated detections are one row with their count; the list says it stops and where the rest is
    grouped = queries.detections_grouped(published, limit=None)
    assert grouped["events"].max() > 1 and grouped["events"].sum() == queries.detection_count(published)
    assert f"First 5 of {len(grouped)} groups of detections shown: the rest are in marts.security_detections" in text
    exposure = queries.public_exposure(published)
    assert not exposure.duplicated(["org_key", "site_ref", "resource_name", "principal_name"]).any()
    if len(exposure) > 5:
        assert f"First 5 of {len(exposure)} exposures shown" in text
    assert "not evaluable" not in text.replace("not_evaluable", "")  # one vocabulary: the statuses' own words
