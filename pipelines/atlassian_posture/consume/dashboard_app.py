import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full", app_title="Atlassian posture dashboard")


@app.cell
def _():
    import marimo as mo

    from atlassian_posture.consume import charts, queries
    from atlassian_posture.consume.readcopy import from_cli_args
    from atlassian_posture.consume.widgets import integration_note
    from atlassian_posture.consume.widgets import org_picker as org_picker_for

    warehouse = from_cli_args(mo.cli_args())
    refresh = mo.ui.refresh(options=["1m", "5m", "15m"], default_interval="5m", label="Reload data")
    return charts, integration_note, mo, org_picker_for, queries, refresh, warehouse


@app.cell
def _(mo, org_picker_for, queries, refresh, warehouse):
    refresh  # every tick re-reads the published copy (a run publishes a new one when it finishes)
    orgs = queries.organizations(warehouse)
    org_picker = org_picker_for(mo, orgs)
    return org_picker, orgs


@app.cell
def _(mo, org_picker, orgs, refresh, warehouse):
    _as_of = orgs["evaluated_at"].max()
    mo.hstack([
        mo.md(f"# Atlassian security posture\n\n<span style='color:#626f86'>Data as of "
              f"{_as_of:%Y-%m-%d %H:%M} UTC, from `{warehouse.name}` (read-only)</span>"),
        mo.hstack([org_picker, refresh], justify="end"),
    ], justify="space-between", align="center")
    return


@app.cell
def _(org_picker):
    org = org_picker.value
    return (org,)


@app.cell
def _(charts, integration_note, mo, org, orgs, queries, warehouse):
    _shown = orgs if org is None else orgs[orgs["org_key"] == org]
    _cards = mo.hstack([
        mo.stat(f"{row.posture_score:.0f}/100", label=f"Posture score: {row.org_key}",
                caption=f"{row.checks_failing} failing checks ({row.failing_critical} critical, "
                        f"{row.failing_high} high); {row.checks_manual} manual (awaiting an attestation), "
                        f"{row.checks_not_evaluable} not_evaluable, {row.checks_not_computable} not_computable",
                bordered=True)
        for row in _shown.itertuples()
    ], justify="start", wrap=True)
    _top_accounts = queries.riskiest_accounts(warehouse, org, limit=5)
    _top_apps = queries.riskiest_apps(warehouse, org, limit=5)
    overview = mo.vstack([
        _cards,
        mo.hstack([charts.score_over_time(queries.score_history(warehouse, org)),
                   charts.findings_by_severity_product(queries.findings_by_severity_product(warehouse, org))],
                  wrap=True),
        mo.md("### Riskiest accounts"),
        mo.ui.table(_top_accounts[["org_key", "display_name", "email", "risk_level", "risk_score", "signal_titles"]]
                    .rename(columns={"signal_titles": "signals (worst first)"}), selection=None, pagination=False,
                    wrapped_columns=["signals (worst first)"]),
        mo.md(integration_note(queries.integration_accounts(warehouse, org))),
        mo.md("### Riskiest apps"),
        mo.ui.table(_top_apps[["org_key", "app_name", "vendor_name", "site_ref", "risk_level", "risk_score",
                               "signal_titles"]].rename(columns={"signal_titles": "signals (worst first)"}),
                    selection=None, pagination=False, wrapped_columns=["signals (worst first)"]),
    ])
    return (overview,)


@app.cell
def _(mo, org, queries, warehouse):
    failing = queries.failing_checks(warehouse, org)
    _options = {}
    for _row in failing.drop_duplicates("check_id").itertuples():
        _options[f"{_row.check_id} · {_row.title} ({_row.severity})"] = _row.check_id
    check_picker = mo.ui.dropdown(_options, value=next(iter(_options), None), label="Check", searchable=True,
                                  full_width=True)
    return check_picker, failing


@app.cell
def _(check_picker, failing, mo, org, queries, warehouse):
    if check_picker.value is None:
        _detail = mo.md("No failing check.")
    else:
        _check = queries.check_detail(check_picker.value, warehouse)
        _findings = queries.check_findings(check_picker.value, warehouse, org)
        _detail = mo.vstack([
            mo.md(f"### {_check['check_id']} · {_check['title']}\n\n"
                  f"**Severity:** {_check['severity']} · **Evaluated from:** {_check['evaluation']} · "
                  f"[source]({_check['source_url']})\n\n{_check['rationale']}"),
            mo.callout(mo.md(f"**Remediation:** {_check['remediation']}"), kind="info"),
            mo.md(f"**{len(_findings)} failing resource(s)**"),
            mo.ui.table(_findings.drop(columns=["status"]), selection=None, page_size=15,
                        wrapped_columns=["evidence"]),
        ])
    checks_tab = mo.vstack([
        mo.md(f"### {len(failing)} failing checks, worst first"),
        mo.ui.table(failing[["check_id", "title", "severity", "failing_resources", "remediation", "org_key",
                             "first_seen_at", "catalog_product"]],
                    selection=None, page_size=10, wrapped_columns=["title", "remediation"]),
        mo.md("### Drill down"),
        check_picker,
        _detail,
    ])
    return (checks_tab,)


@app.cell
def _(mo):
    account_levels = mo.ui.multiselect(["critical", "high", "medium", "low", "none"],
                                       value=["critical", "high", "medium"], label="Risk levels")
    app_levels = mo.ui.multiselect(["critical", "high", "medium", "low", "none"],
                                   value=["critical", "high", "medium", "low", "none"], label="Risk levels")
    return account_levels, app_levels


@app.cell
def _(account_levels, charts, mo, org, queries, warehouse):
    _accounts = queries.identity_table(warehouse, org)
    _shown = _accounts[_accounts["risk_level"].isin(account_levels.value)].reset_index(drop=True)
    identities_tab = mo.vstack([
        mo.hstack([charts.risk_levels(_accounts, "accounts"),
                   charts.dormant_and_external(queries.dormant_and_external(warehouse, org))], wrap=True),
        account_levels,
        mo.md(f"**{len(_shown):,} of {len(_accounts):,} accounts**; filter any column from its header."),
        mo.ui.table(_shown, selection=None, page_size=20, wrapped_columns=["signal_titles"]),
    ])
    return (identities_tab,)


@app.cell
def _(app_levels, charts, mo, org, queries, warehouse):
    _apps = queries.riskiest_apps(warehouse, org, limit=None)
    _shown = _apps[_apps["risk_level"].isin(app_levels.value)].reset_index(drop=True)[
        ["app_name", "risk_level", "risk_score", "signal_titles", "vendor_name", "site_ref", "product", "framework",
         "is_enabled", "scopes", "installed_at", "org_key"]]
    apps_tab = mo.vstack([
        mo.hstack([charts.risk_levels(_apps, "apps"), charts.app_scopes(queries.app_scopes(warehouse, org))],
                  wrap=True),
        app_levels,
        mo.md(f"**{len(_shown):,} of {len(_apps):,} installed apps**"),
        mo.ui.table(_shown, selection=None, page_size=20, wrapped_columns=["signal_titles"]),
    ])
    return (apps_tab,)


@app.cell
def _(charts, mo, org, queries, warehouse):
    audit_tab = mo.vstack([
        mo.hstack([charts.audit_activity(queries.audit_daily(warehouse, org)),
                   charts.detections_by_id(queries.detection_counts(warehouse, org))], wrap=True),
        mo.md("### Latest detections"),
        mo.md("Consecutive events of the same detection, actor and action are one row: `events` counts them, "
              "`first_at` … `last_at` is their span; actions of this product's own account say *(this integration)*."),
        mo.ui.table(queries.detections_grouped(warehouse, org, limit=500), selection=None, page_size=15),
    ])
    return (audit_tab,)


@app.cell
def _(apps_tab, audit_tab, checks_tab, identities_tab, mo, overview):
    mo.ui.tabs({"Overview": overview, "Checks": checks_tab, "Identities": identities_tab, "Apps": apps_tab,
                "Audit": audit_tab})
    return


if __name__ == "__main__":
    app.run()
