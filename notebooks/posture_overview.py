import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Posture overview")


@app.cell
def _():
    import marimo as mo
    from atlassian_posture.consume import charts, queries
    from atlassian_posture.consume.readcopy import from_cli_args
    from atlassian_posture.consume.widgets import org_picker as org_picker_for

    warehouse = from_cli_args(mo.cli_args())
    return charts, mo, org_picker_for, queries, warehouse


@app.cell
def _(mo, org_picker_for, queries, warehouse):
    orgs = queries.organizations(warehouse)
    org_picker = org_picker_for(mo, orgs)
    mo.vstack([
        mo.md(f"# Posture overview\n\nRead-only from `{warehouse}`; check ids follow the public check catalog."),
        org_picker,
    ])
    return org_picker, orgs


@app.cell
def _(org_picker):
    org = org_picker.value
    return (org,)


@app.cell
def _(mo, org, orgs):
    _shown = orgs if org is None else orgs[orgs["org_key"] == org]
    mo.hstack([
        mo.stat(f"{row.posture_score:.0f}/100", label=f"Posture score: {row.org_key}",
                caption=f"{row.checks_failing} failing of {row.checks_evaluated} evaluated checks "
                        f"({row.failing_critical} critical, {row.failing_high} high); {row.checks_manual} manual, "
                        f"{row.checks_not_evaluable} not_evaluable, {row.checks_not_computable} not_computable; "
                        f"evaluated {row.evaluated_at:%Y-%m-%d %H:%M}", bordered=True)
        for row in _shown.itertuples()
    ], justify="start", wrap=True)
    return


@app.cell
def _(charts, mo, org, queries, warehouse):
    mo.vstack([
        charts.score_over_time(queries.score_history(warehouse, org)),
        charts.findings_by_severity_product(queries.findings_by_severity_product(warehouse, org)),
    ])
    return


@app.cell
def _(mo, org, queries, warehouse):
    failing = queries.failing_checks(warehouse, org)
    mo.vstack([mo.md(f"## Failing checks ({len(failing)}), worst first"),
               mo.ui.table(failing, selection=None, page_size=15)])
    return


@app.cell
def _(mo, org, queries, warehouse):
    _coverage = queries.check_status_counts(warehouse, org)
    mo.vstack([
        mo.md("## What was evaluated\n\n`manual`: no API returns the setting, fill in the attestation file; "
              "`not_evaluable`: an input was not collected (see the run's coverage); `not_computable`: "
              "needs data no API serves."),
        mo.ui.table(_coverage.pivot_table(index=["org_key", "family"], columns="status", values="checks",
                                          fill_value=0).reset_index(), selection=None),
    ])
    return


if __name__ == "__main__":
    app.run()
