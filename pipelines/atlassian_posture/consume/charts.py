"""The charts, as Altair specifications: the notebooks and the dashboard show them interactively,
the report renders the same specifications to inline SVG (vl-convert, no JavaScript, no network).

Each function takes the DataFrame of the query of the same name in `queries` and returns a chart.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

SEVERITIES = ["critical", "high", "medium", "low"]
SEVERITY_COLORS = ["#8b0000", "#e4572e", "#f3a712", "#7a9cc6"]
LEVELS = ["critical", "high", "medium", "low", "none"]
LEVEL_COLORS = SEVERITY_COLORS + ["#c8c8c8"]
WIDTH = 560

alt.data_transformers.disable_max_rows()  # the frames are aggregates; an org with many days is fine


def _severity_scale(field: str = "severity") -> alt.Color:
    return alt.Color(f"{field}:N", scale=alt.Scale(domain=SEVERITIES, range=SEVERITY_COLORS),
                     sort=SEVERITIES, title="severity")


def score_over_time(frame: pd.DataFrame) -> alt.Chart:
    """Posture score (0-100) per organization and day; with a single day, the chart says the trend
    starts with the next daily run instead of drawing a lone dot as if it were a trend."""
    days = frame["score_date"].nunique() if len(frame) else 0
    title = alt.TitleParams("Posture score over time", subtitle=(
        [f"one evaluation so far ({frame['score_date'].max():%Y-%m-%d}): the trend starts with the next daily run"]
        if days == 1 else []))
    return alt.Chart(frame, title=title).mark_line(point=alt.OverlayMarkDef(size=60)).encode(
        x=alt.X("score_date:T", title="day"),
        y=alt.Y("posture_score:Q", title="posture score", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("org_key:N", title="organization"),
        tooltip=["org_key", "score_date:T", alt.Tooltip("posture_score:Q", format=".1f"), "checks_failing"],
    ).properties(width=WIDTH, height=220)


def findings_by_severity_product(frame: pd.DataFrame) -> alt.Chart:
    """Failing findings stacked by severity, one bar per product."""
    return alt.Chart(frame, title="Failing findings by product and severity").mark_bar().encode(
        y=alt.Y("product:N", title=None, sort="-x"),
        x=alt.X("sum(findings):Q", title="failing findings"),
        color=_severity_scale(),
        order=alt.Order("severity_rank:Q"),
        tooltip=["product", "severity", "findings"],
    ).transform_calculate(
        severity_rank="indexof(['critical', 'high', 'medium', 'low'], datum.severity)",
    ).properties(width=WIDTH, height=200)


def admin_sprawl(frame: pd.DataFrame) -> alt.Chart:
    """Live admins by kind, and how many of them have no 2SV."""
    long = frame.melt(id_vars=["org_key", "admin_kind"], value_vars=["accounts", "without_2sv", "external"],
                      var_name="measure", value_name="count")
    return alt.Chart(long, title="Admin sprawl: live admins, without 2SV, external").mark_bar().encode(
        x=alt.X("count:Q", title="accounts"),
        y=alt.Y("admin_kind:N", title=None),
        yOffset="measure:N",
        color=alt.Color("measure:N", title=None,
                        scale=alt.Scale(domain=["accounts", "without_2sv", "external"],
                                        range=["#4c78a8", "#e4572e", "#f3a712"])),
        row=alt.Row("org_key:N", title=None),
        tooltip=["org_key", "admin_kind", "measure", "count"],
    ).properties(width=WIDTH - 80, height=90)


ACTIVITY = ["active in 30 days", "idle 30-90 days", "idle 90-180 days", "idle > 180 days", "never seen"]


def dormant_and_external(frame: pd.DataFrame) -> alt.Chart:
    """Live accounts with product access by last activity, internal vs external."""
    return alt.Chart(frame, title="Dormant and external access (live accounts with product access)").mark_bar().encode(
        x=alt.X("activity:N", sort=ACTIVITY, title=None, axis=alt.Axis(labelAngle=-20)),
        y=alt.Y("sum(accounts):Q", title="accounts"),
        color=alt.Color("audience:N", title=None,
                        scale=alt.Scale(domain=["internal", "external"], range=["#4c78a8", "#e4572e"])),
        tooltip=["org_key", "activity", "audience", "accounts"],
    ).properties(width=WIDTH, height=220)


def risk_levels(frame: pd.DataFrame, what: str) -> alt.Chart:
    """Accounts or apps per risk level; `frame` has a `risk_level` column, one row per account or app."""
    counts = frame.groupby("risk_level", as_index=False).size().rename(columns={"size": "count"})
    return alt.Chart(counts, title=f"{what.capitalize()} by risk level").mark_bar().encode(
        x=alt.X("risk_level:N", sort=LEVELS, title=None),
        y=alt.Y("count:Q", title=what),
        color=alt.Color("risk_level:N", scale=alt.Scale(domain=LEVELS, range=LEVEL_COLORS), legend=None),
        tooltip=["risk_level", "count"],
    ).properties(width=WIDTH // 2, height=200)


def app_scopes(frame: pd.DataFrame, top: int = 15) -> alt.Chart:
    """The OAuth scopes most granted to installed apps; scopes that raise a risk signal in red."""
    frame = frame.head(top).assign(risky=lambda f: f["signal_id"].fillna("").ne(""))
    return alt.Chart(frame, title="Scopes granted to installed apps (red: a risk signal)").mark_bar().encode(
        y=alt.Y("scope:N", sort="-x", title=None),
        x=alt.X("apps:Q", title="apps"),
        color=alt.Color("risky:N", scale=alt.Scale(domain=[True, False], range=["#e4572e", "#4c78a8"]),
                        legend=None),
        tooltip=["scope", "apps", "signal"],
    ).properties(width=WIDTH, height=max(120, 18 * len(frame)))


def audit_activity(frame: pd.DataFrame) -> alt.Chart:
    """Audit events per day, stacked by source (org log, Jira, Confluence, Data Center)."""
    return alt.Chart(frame, title="Audit activity per day").mark_area(opacity=0.85).encode(
        x=alt.X("day:T", title="day"),
        y=alt.Y("sum(events):Q", title="events", stack="zero"),
        color=alt.Color("source:N", title="source"),
        tooltip=["day:T", "source", "sum(events):Q"],
    ).properties(width=WIDTH, height=220)


def detections_by_id(frame: pd.DataFrame) -> alt.Chart:
    """How many events each detection matched, coloured by severity."""
    return alt.Chart(frame, title="Security detections").mark_bar().encode(
        y=alt.Y("detection_id:N", sort="-x", title=None),
        x=alt.X("events:Q", title="matched events"),
        color=_severity_scale(),
        tooltip=["detection_id", "title", "severity", "events", "latest:T"],
    ).properties(width=WIDTH, height=max(120, 18 * len(frame)))
