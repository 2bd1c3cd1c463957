"""`atlassian-posture report`: one self-contained HTML file for people without Python.

Everything is inside the file: CSS inline, charts rendered to SVG (the notebooks' Altair charts,
through vl-convert), tables as HTML, drill-downs as <details>. No script, no external stylesheet,
no font or image fetched: it opens offline and can be mailed or attached to a ticket.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import jinja2
import pandas as pd
import vl_convert

from atlassian_posture.consume import charts, queries
from atlassian_posture.consume.readcopy import readable_path

TEMPLATES = Path(__file__).with_name("templates")
DRILL_DOWN_CHECKS = 15
DRILL_DOWN_ROWS = 25


@dataclass
class ReportResult:
    path: Path
    organizations: int
    failing_checks: int
    size_bytes: int


def _svg(chart: alt.TopLevelMixin) -> str:
    return vl_convert.vegalite_to_svg(chart.to_dict())


def _table(frame: pd.DataFrame, columns: list[str] | None = None) -> str:
    frame = frame if columns is None else frame[columns]
    frame = frame.copy()
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[name]):
            frame[name] = frame[name].dt.strftime("%Y-%m-%d %H:%M").fillna("")
        elif pd.api.types.is_float_dtype(frame[name]):
            frame[name] = frame[name].map(lambda v: "" if pd.isna(v) else f"{v:g}")
    return frame.fillna("").to_html(index=False, escape=True, border=0, classes="grid")


def write_report(out: Path, warehouse: Path | str | None = None, org: str | None = None) -> ReportResult:
    """Write the report for the published warehouse (all organizations, or `org`) to `out`."""
    source = readable_path(warehouse)
    orgs = queries.organizations(source)
    if org:
        orgs = orgs[orgs["org_key"] == org]
    failing = queries.failing_checks(source, org)
    drill = []
    for row in failing.drop_duplicates("check_id").head(DRILL_DOWN_CHECKS).itertuples():
        findings = queries.check_findings(row.check_id, source, org)
        drill.append({"check_id": row.check_id, "title": row.title, "severity": row.severity,
                      "remediation": row.remediation, "count": len(findings),
                      "table": _table(findings.head(DRILL_DOWN_ROWS),
                                      ["org_key", "site_ref", "resource_type", "resource_name", "evidence",
                                       "first_seen_at"])})
    identities = queries.identity_table(source, org)
    apps = queries.riskiest_apps(source, org, limit=None)
    chart_specs = [
        charts.score_over_time(queries.score_history(source, org)),
        charts.findings_by_severity_product(queries.findings_by_severity_product(source, org)),
        charts.risk_levels(identities, "accounts") | charts.risk_levels(apps, "apps"),
        charts.admin_sprawl(queries.admin_sprawl(source, org)),
        charts.dormant_and_external(queries.dormant_and_external(source, org)),
        charts.app_scopes(queries.app_scopes(source, org)),
        charts.audit_activity(queries.audit_daily(source, org)),
        charts.detections_by_id(queries.detection_counts(source, org)),
    ]
    coverage = queries.check_status_counts(source, org)
    not_evaluated = coverage[coverage["status"].isin(["manual", "not_evaluable", "not_computable"])]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    html = env.get_template("report.html.j2").render(
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        source=source.name,
        orgs=orgs.to_dict("records"),
        failing_table=_table(failing, ["org_key", "check_id", "severity", "title", "failing_resources",
                                       "first_seen_at", "remediation"]),
        failing_count=len(failing),
        drill=drill,
        charts=[_svg(c) for c in chart_specs],
        accounts_table=_table(queries.riskiest_accounts(source, org, limit=25),
                              ["org_key", "display_name", "email", "risk_level", "risk_score", "signals",
                               "last_active_at"]),
        apps_table=_table(apps.head(25), ["org_key", "app_name", "vendor_name", "site_ref", "product",
                                          "risk_level", "risk_score", "signals", "scopes"]),
        detections_table=_table(queries.detections(source, org, limit=50),
                                ["org_key", "occurred_at", "detection_id", "severity", "title", "actor_name",
                                 "country", "evidence"]),
        exposure_table=_table(queries.public_exposure(source, org).head(50)),
        not_evaluated_table=_table(not_evaluated),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return ReportResult(out, len(orgs), len(failing), out.stat().st_size)
