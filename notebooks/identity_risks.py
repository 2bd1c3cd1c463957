import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Identity risks")


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
    mo.vstack([mo.md("# Identity-risk investigation\n\nEvery account (Cloud and Data Center) with its access, "
                     "admin power, 2SV, activity and the identity signals that fired."), org_picker])
    return (org_picker,)


@app.cell
def _(org_picker, queries, warehouse):
    org = org_picker.value
    accounts = queries.identity_table(warehouse, org)
    return accounts, org


@app.cell
def _(accounts, charts, mo, org, queries, warehouse):
    mo.vstack([
        mo.hstack([
            mo.stat(f"{len(accounts):,}", label="Accounts"),
            mo.stat(f"{int(accounts['is_privileged'].fillna(False).sum()):,}", label="Privileged"),
            mo.stat(f"{int((accounts['is_privileged'].fillna(False) & ~accounts['mfa_enabled'].fillna(False)).sum()):,}",
                    label="Privileged without 2SV"),
            mo.stat(f"{int(accounts['risk_level'].isin(['critical', 'high']).sum()):,}", label="High or critical risk"),
        ], justify="start"),
        charts.risk_levels(accounts, "accounts"),
        charts.admin_sprawl(queries.admin_sprawl(warehouse, org)),
        charts.dormant_and_external(queries.dormant_and_external(warehouse, org)),
    ])
    return


@app.cell
def _(mo, org, queries, warehouse):
    mo.vstack([mo.md("## Signals that fired"),
               mo.ui.table(queries.identity_signal_counts(warehouse, org), selection=None)])
    return


@app.cell
def _(mo):
    levels = mo.ui.multiselect(["critical", "high", "medium", "low", "none"], value=["critical", "high"],
                               label="Risk levels")
    levels
    return (levels,)


@app.cell
def _(accounts, levels, mo):
    _shown = accounts[accounts["risk_level"].isin(levels.value)]
    mo.vstack([mo.md(f"## Accounts ({len(_shown):,}), riskiest first\n\n`signal_titles`: the signals that fired, "
                     "worst first; `signal_evidence`: what each one saw. The account this product reads as is "
                     "labelled `is_integration_account` and listed after the ranked accounts."),
               mo.ui.table(_shown, selection=None, page_size=20)])
    return


if __name__ == "__main__":
    app.run()
