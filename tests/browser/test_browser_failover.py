"""An operator fails a deployment over to its fallback and back, by click, in a real browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browserkit import AppServer, act, click_nav, open_tab, run_app, settle, shot, sign_in_locally, warm_up
from playwright.sync_api import Browser, Page, expect

from steward.core.domain.promotions import LedgerKind

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser_failover")]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with run_app(tmp_path_factory.mktemp("failover"), full_demo=True) as server:
        warm_up(browser, server)
        yield server


def choose(page: Page, label: str, option: str) -> None:
    box = page.get_by_role("combobox", name=label, exact=True)
    if box.input_value() == option:
        return
    settle(page)
    box.click()
    box.press_sequentially(option)  # the list filters as a person types; the match is then picked
    act(page, page.get_by_role("option", name=option, exact=True).click)


def switch(page: Page, reason: str, confirmation: str, button: str) -> None:
    """Type the reason, confirm (the button stays disabled until then), click."""
    page.get_by_label("Why (kept in the ledger)").fill(reason)
    page.get_by_label("Why (kept in the ledger)").press("Tab")  # commit the text before the click
    settle(page)
    target = page.get_by_role("button", name=button, exact=True)
    expect(target).to_be_disabled()
    act(page, page.get_by_text(confirmation, exact=True).click)
    expect(target).to_be_enabled()
    act(page, target.click)


def test_an_operator_fails_over_and_back_by_click(app: AppServer, browser: Browser) -> None:
    steward = app.steward
    tab = open_tab(browser)
    page = tab.page
    sign_in_locally(page, app.url, "otto")
    click_nav(page, "Deployments")
    expect(page.get_by_role("heading", name="Operate")).to_be_visible()
    choose(page, "Deployment", "Test · credit-default")
    switch(
        page,
        "v2 times out under load",
        "Yes, make v1 serve credit-default in Test instead of v2",
        "Fail over to v1",
    )
    expect(
        page.locator('[data-testid="stAlert"]').filter(has_text="now serves in Test").first
    ).to_be_visible()
    [test] = [d for d in steward.deployments.serving("Test") if d.pipeline_name == "credit-default"]
    assert (test.version_number, test.fallback_number, test.on_fallback) == (1, 2, True)
    # the failover, then (audited right after it) the alert it opened
    event = next(e for e in steward.audit.recent(3) if e.action != "alert.open")
    assert (event.action, event.actor, event.detail) == (
        "deployment.failover",
        "otto",
        "v2 times out under load",
    )

    choose(page, "Deployment", "Test · credit-default")
    expect(page.get_by_text("the primary v2 is armed to fail back to")).to_be_visible()
    shot(page, "deployments-operate")
    switch(
        page, "upstream fixed", "Yes, make v2 serve credit-default in Test instead of v1", "Fail back to v2"
    )
    expect(page.locator('[data-testid="stAlert"]').filter(has_text="failback").first).to_be_visible()
    [test] = [d for d in steward.deployments.serving("Test") if d.pipeline_name == "credit-default"]
    assert (test.version_number, test.on_fallback) == (2, False)
    kinds = [e.kind for e in steward.deployments.ledger("Test", "credit-default")][:2]
    assert kinds == [LedgerKind.FAILBACK, LedgerKind.FAILOVER]
    tab.close()
    assert tab.dialogs == []
