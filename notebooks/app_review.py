import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Third-party app review")


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
    mo.vstack([mo.md("# Third-party app review\n\nUser-installed apps per site and product: framework, "
                     "granted scopes, Marketplace trust data and the plugin signals that fired."), org_picker])
    return (org_picker,)


@app.cell
def _(org_picker, queries, warehouse):
    org = org_picker.value
    apps = queries.riskiest_apps(warehouse, org, limit=None)
    return apps, org


@app.cell
def _(apps, charts, mo, org, queries, warehouse):
    mo.vstack([
        mo.hstack([
            mo.stat(f"{len(apps):,}", label="Installed apps"),
            mo.stat(f"{int((apps['framework'] == 'connect').sum()):,}", label="Connect (runs off Atlassian)"),
            mo.stat(f"{int(apps['risk_level'].isin(['critical', 'high']).sum()):,}", label="High or critical risk"),
            mo.stat(f"{int((~apps['is_enabled'].fillna(True)).sum()):,}", label="Disabled but installed"),
        ], justify="start"),
        charts.risk_levels(apps, "apps"),
        charts.app_scopes(queries.app_scopes(warehouse, org)),
    ])
    return


@app.cell
def _(apps, mo):
    vendor = mo.ui.text(label="Vendor or app name contains", value="")
    vendor
    return (vendor,)


@app.cell
def _(apps, mo, vendor):
    _needle = vendor.value.strip().lower()
    _shown = apps if not _needle else apps[
        apps["vendor_name"].fillna("").str.lower().str.contains(_needle, regex=False)
        | apps["app_name"].fillna("").str.lower().str.contains(_needle, regex=False)]
    mo.vstack([mo.md(f"## Apps ({len(_shown):,}), riskiest first"),
               mo.ui.table(_shown, selection=None, page_size=20)])
    return


if __name__ == "__main__":
    app.run()
