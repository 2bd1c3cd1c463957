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
DRILL_DOWN_ACCOUNTS = 10
LIST_ROWS = 50  # accounts, apps, exposures, detection groups: longer lists say so and where the rest is
STATUS_WORDS = {"manual": "manual", "not_evaluable": "not_evaluable", "not_computable": "not_computable"}


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
        elif pd.api.types.is_float_dtype(frame[name]) or pd.api.types.is_integer_dtype(frame[name]):
            frame[name] = frame[name].map(lambda v: "" if pd.isna(v) else f"{v:g}").astype(object)
    return frame.fillna("").to_html(index=False, escape=True, border=0, classes="grid")


def _listing(frame: pd.DataFrame, columns: list[str] | None, where: str) -> dict:
    """A table of at most LIST_ROWS rows, with how many there are in all and where the rest is."""
    return {"table": _table(frame.head(LIST_ROWS), columns), "shown": min(len(frame), LIST_ROWS),
            "total": len(frame), "where": where}


def _span(frame: pd.DataFrame) -> pd.Series:
    """'first … last' for a group of repeated detections, the time alone for one event."""
    def one(row) -> str:
        last = f"{row.last_at:%Y-%m-%d %H:%M}"
        return last if row.events == 1 else f"{row.first_at:%Y-%m-%d %H:%M} … {last}"
    return frame.apply(one, axis=1) if len(frame) else pd.Series(dtype=str)


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
                                       "first_seen_at", "last_seen_at"])})
    identities = queries.identity_table(source, org)
    apps = queries.riskiest_apps(source, org, limit=None)
    accounts = queries.riskiest_accounts(source, org, limit=None)
    integration = queries.integration_accounts(source, org)
    exposure = queries.public_exposure(source, org)
    detections = queries.detections_grouped(source, org, limit=None)
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
    not_evaluated = coverage[coverage["status"].isin(list(STATUS_WORDS))]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    html = env.get_template("report.html.j2").render(
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        source=source.name,
        orgs=orgs.to_dict("records"),
        failing_table=_table(failing, ["org_key", "check_id", "title", "severity", "failing_resources",
                                       "first_seen_at", "remediation"]),
        failing_count=len(failing),
        drill=drill,
        charts=[_svg(c) for c in chart_specs],
        accounts=_listing(accounts, ["org_key", "display_name", "email", "risk_level", "risk_score", "signal_titles",
                                     "last_active_at"], "marts.identity_risks (where is_ranked)"),
        integration=integration.to_dict("records"),
        account_evidence=[{"name": row.display_name, "org_key": row.org_key, "level": row.risk_level,
                           "score": row.risk_score, "items": list(row.evidence_items)}
                          for row in accounts.head(DRILL_DOWN_ACCOUNTS).itertuples()],
        apps=_listing(apps, ["org_key", "app_name", "vendor_name", "site_ref", "product", "risk_level", "risk_score",
                             "signal_titles", "scopes"], "marts.plugin_risks"),
        exposure=_listing(exposure, None, "marts.effective_permissions (where is_public_exposure)"),
        detections=_listing(detections.assign(when=_span(detections)),
                            ["org_key", "when", "events", "detection_id", "title", "severity", "actor_name",
                             "country", "evidence"], "marts.security_detections"),
        detection_events=int(detections["events"].sum()) if len(detections) else 0,
        not_evaluated_table=_table(not_evaluated),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return ReportResult(out, len(orgs), len(failing), out.stat().st_size)
