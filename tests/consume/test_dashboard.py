"""`atlassian-posture dashboard` in a real headless Chromium: what the page shows, a drill-down from
a failing check to its resources and fix, filterable tables; and a scheduled run while it is open."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
from atlassian_posture.consume import queries

from tests.consume.conftest import ARTIFACTS, dashboard_server, scheduled_warehouse

# marimo renders its widgets in shadow DOM: Playwright's text locators pierce it, innerText does not
TIMEOUT_MS = 90_000


def shown(page, text: str, exact: bool = False):
    """The first visible element with this text (marimo keeps hidden copies of some outputs)."""
    return page.get_by_text(text, exact=exact).filter(visible=True).first


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(url)
    shown(page, "Posture score:").wait_for(timeout=TIMEOUT_MS)
    return page


def test_the_dashboard_shows_the_marts(scheduled, browser):
    published = scheduled.published
    orgs = queries.organizations(published)
    worst = queries.failing_checks(published, limit=1).iloc[0]
    top_app = queries.riskiest_apps(published, limit=1).iloc[0]
    top_account = queries.riskiest_accounts(published, limit=1).iloc[0]
    ARTIFACTS.mkdir(exist_ok=True)
    with dashboard_server(scheduled.warehouse) as url:
        page = open_page(browser, url)
        for row in orgs.itertuples():
            shown(page, f"Posture score: {row.org_key}").wait_for(timeout=TIMEOUT_MS)
            shown(page, f"{row.posture_score:.0f}/100", exact=True).wait_for()
        page.locator(".vega-embed").nth(1).wait_for()  # both overview charts drawn (vega: canvas, no text)
        shown(page, top_app.app_name).wait_for()
        shown(page, top_account.display_name).wait_for()
        # signals in words, and the integration's own account said rather than ranked
        shown(page, top_account.signal_titles.split("; ")[0]).wait_for()
        reader = queries.integration_accounts(published).iloc[0]
        shown(page, f"{reader.display_name} ({reader.email}) is the account this product reads as").wait_for()
        page.wait_for_timeout(1500)  # let the charts draw before the screenshot
        page.screenshot(path=ARTIFACTS / "dashboard-overview.png", full_page=True)

        # drill-down: the worst failing check is preselected, with its fix and its failing resources
        page.get_by_role("tab", name="Checks").click()
        shown(page, "Remediation:").wait_for(timeout=TIMEOUT_MS)
        shown(page, worst.remediation).wait_for()
        page.get_by_role("heading", name=f"{worst.check_id} · {worst.title}").wait_for()
        failing = queries.check_findings(worst.check_id, published)
        shown(page, f"{len(failing)} failing resource(s)").wait_for()
        shown(page, failing.iloc[0]["resource_key"]).wait_for()
        page.screenshot(path=ARTIFACTS / "dashboard-checks.png", full_page=True)

        # identities: filterable by risk level, the riskiest account listed
        page.get_by_role("tab", name="Identities").click()
        total = len(queries.identity_table(published))
        shown(page, f"of {total:,} accounts").wait_for(timeout=TIMEOUT_MS)
        page.locator(".vega-embed").filter(visible=True).nth(1).wait_for()
        page.wait_for_timeout(1500)
        page.screenshot(path=ARTIFACTS / "dashboard-identities.png", full_page=True)
        page.get_by_role("tab", name="Apps").click()
        apps = queries.riskiest_apps(published, limit=None)
        shown(page, f"of {len(apps):,} installed apps").wait_for(timeout=TIMEOUT_MS)
        page.screenshot(path=ARTIFACTS / "dashboard-apps.png", full_page=True)


def test_a_scheduled_run_and_an_open_dashboard_coexist(tmp_path, browser):
    """A run while the dashboard and a notebook-like reader are open: the run succeeds, the reader is not
    broken, and the dashboard shows the new data on reload."""
    scheduled = scheduled_warehouse(tmp_path, orgs=1)
    first_as_of = queries.organizations(scheduled.published)["evaluated_at"].max()
    reader = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, time, sys\n"
        f"con = duckdb.connect({str(scheduled.published)!r}, read_only=True)\n"
        "end = time.monotonic() + 900\n"
        "while time.monotonic() < end and sys.stdin.readable():\n"
        "    con.execute('select count(*) from marts.posture_findings').fetchone()\n"
        "    time.sleep(0.2)\n")], stdin=subprocess.PIPE)
    try:
        with dashboard_server(scheduled.warehouse) as url:
            page = open_page(browser, url)
            shown(page, f"Data as of {first_as_of:%Y-%m-%d %H:%M} UTC").wait_for(timeout=TIMEOUT_MS)
            scheduled.sim.advance(2)
            started = time.monotonic()
            done = scheduled.run()
            assert done.returncode == 0, done.stderr[-3000:]
            assert time.monotonic() - started < 900
            assert reader.poll() is None  # the open reader kept running through the run and the publish
            second_as_of = queries.organizations(scheduled.published)["evaluated_at"].max()
            assert second_as_of > first_as_of
            shown(page, "Posture score:").wait_for()  # the open page is still alive
            page.reload()
            shown(page, f"Data as of {second_as_of:%Y-%m-%d %H:%M} UTC").wait_for(timeout=TIMEOUT_MS)
            shown(page, "Posture score:").wait_for(timeout=TIMEOUT_MS)
            page.locator(".vega-embed").nth(1).wait_for()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / "dashboard-after-run.png")
    finally:
        reader.kill()
        reader.wait()
    with duckdb.connect(str(scheduled.warehouse), read_only=True) as con:
        assert con.execute("select count(distinct run_id) from raw.runs").fetchone()[0] == 2
