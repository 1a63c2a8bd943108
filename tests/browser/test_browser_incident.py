"""An operator works an incident in a real browser: acknowledges it, drills into its evidence, rolls back
and resolves it with a note; the audit log has each step under their name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browserkit import AppServer, act, click_nav, open_tab, run_app, settle, shot, sign_in_locally, warm_up
from playwright.sync_api import Browser, Page, expect

from steward.core.domain.alert_rules import DRIFT_KIND
from steward.core.setup.demo import as_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser_incident")]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    """The full demo: its bike-demand monitor found drift in 2012 (an open incident, from the real run).

    The one thing set up here: the demo's retrained v2 reaches Dev (Dev's policy deploys it), so the ledger
    holds a version to roll back to, as after an automatic retrain.
    """
    with run_app(tmp_path_factory.mktemp("incident"), full_demo=True) as server:
        steward = server.steward
        dana = as_user(steward, "dana")
        latest = max(v.number for v in steward.pipelines.versions("bike-demand"))
        steward.promotions.request(dana, "bike-demand", latest, "Dev", "retrained on the 2012 rows")
        warm_up(browser, server)
        yield server


def work_on(page: Page, incident_id: int) -> None:
    click_nav(page, "Alerts")
    expect(page.get_by_role("heading", name="Open incidents", exact=False)).to_be_visible()
    expander = page.locator('[data-testid="stExpander"] details').filter(has_text=f"#{incident_id} warning")
    if expander.first.get_attribute("open") is None:  # a rerun keeps it open: a second click would close it
        act(page, expander.first.locator("summary").click)
    settle(page)


def submit(page: Page, incident_id: int, note: str, button: str) -> None:
    box = page.get_by_label("Comment or note", exact=False).first
    box.fill(note)
    box.press("Tab")
    settle(page)
    act(page, page.get_by_role("button", name=button, exact=True).first.click)


def test_an_operator_acknowledges_drills_in_rolls_back_and_resolves(app: AppServer, browser: Browser) -> None:
    steward = app.steward
    [incident] = [a for a in steward.alerts.unresolved() if a.kind == DRIFT_KIND]
    assert (incident.pipeline, incident.environment) == ("bike-demand", "Dev")  # seeded by the demo's run
    page = open_tab(browser).page
    sign_in_locally(page, app.url, "otto")
    work_on(page, incident.id)
    submit(page, incident.id, "looking at the overlay", "Acknowledge")
    expect(page.get_by_text(f"Alert #{incident.id} acknowledged.")).to_be_visible()

    work_on(page, incident.id)
    link = page.get_by_role("link", name="Drift overlay of the columns that moved").first
    expect(link).to_be_visible()
    settle(page)
    link.click()  # a page link navigates: no rerun of this page for act() to wait for
    expect(page.get_by_role("heading", name="Drift", exact=False).first).to_be_visible()
    assert "pipeline=bike-demand" in page.url and "environment=Dev" in page.url

    work_on(page, incident.id)
    shot(page, "alerts-incident")
    submit(
        page, incident.id, f"incident #{incident.id}: back to v1 until the retrain is reviewed", "Roll back"
    )
    expect(page.get_by_text("Rolled back: ledger #", exact=False)).to_be_visible()
    work_on(page, incident.id)
    submit(page, incident.id, "rolled back to v1; retrain scheduled", "Resolve")
    expect(page.get_by_text(f"Alert #{incident.id} resolved.")).to_be_visible()

    steps = [
        (e.action, e.actor)
        for e in steward.audit.recent(30)
        if e.action in ("alert.acknowledge", "deployment.rollback", "alert.resolve")
    ]
    assert steps == [
        ("alert.resolve", "otto"),
        ("deployment.rollback", "otto"),
        ("alert.acknowledge", "otto"),
    ]
    assert steward.alerts.get(incident.id).resolution == "rolled back to v1; retrain scheduled"
