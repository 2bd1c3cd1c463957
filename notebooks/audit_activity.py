import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Audit-log exploration")


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
    days = mo.ui.slider(7, 180, value=90, step=1, label="Days of log")
    mo.vstack([mo.md("# Audit-log exploration\n\nThe organization's audit log, Jira, Confluence and Data "
                     "Center audit records in one table (`marts.audit_events`), and the detections they matched."),
               mo.hstack([org_picker, days], justify="start")])
    return days, org_picker


@app.cell
def _(org_picker):
    org = org_picker.value
    return (org,)


@app.cell
def _(charts, days, mo, org, queries, warehouse):
    _daily = queries.audit_daily(warehouse, org, days=days.value)
    _counts = queries.detection_counts(warehouse, org)
    mo.vstack([
        mo.hstack([mo.stat(f"{int(_daily['events'].sum()):,}", label=f"Audit events, last {days.value} days"),
                   mo.stat(f"{int(_counts['events'].sum()):,}", label="Detections")], justify="start"),
        charts.audit_activity(_daily),
        charts.detections_by_id(_counts),
    ])
    return


@app.cell
def _(mo, org, queries, warehouse):
    mo.vstack([mo.md("## Latest detections\n\nConsecutive events of the same detection, actor and action are one "
                     "row (`events` counts them, `first_at` … `last_at`); actions of this product's own account "
                     "say *(this integration)*."),
               mo.ui.table(queries.detections_grouped(warehouse, org, limit=500), selection=None, page_size=20)])
    return


@app.cell
def _(mo, org, warehouse):
    from atlassian_posture.consume.readcopy import read_sql

    _where = "where orgs.org_key = ?" if org else ""
    _top = read_sql(f"""
        select coalesce(e.action_name, e.action) as action, e.source, count(*) as events,
               count(distinct e.actor_account_id) as actors, max(e.occurred_at) as latest
        from marts.audit_events as e
        inner join (select distinct org_id, org_key from marts.check_status) as orgs on e.org_id = orgs.org_id
        {_where}
        group by all order by events desc limit 25
    """, warehouse, [org] if org else [])
    mo.vstack([mo.md("## Most frequent actions (write your own SQL the same way: `read_sql`)"),
               mo.ui.table(_top, selection=None)])
    return


if __name__ == "__main__":
    app.run()
