"""Admin page in a real browser: create a scoring API key, see its secret once, and a screenshot of the section."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browserkit import AppServer, Tab, act, click_nav, run_app, shot, sign_in_locally, warm_up
from playwright.sync_api import Browser, expect

from steward.core.domain.api_keys import digest
from steward.core.services.api_keys import ApiKeyService

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser_api_keys")]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with run_app(tmp_path_factory.mktemp("api-keys")) as server:
        warm_up(browser, server)
        yield server


def test_an_admin_creates_a_key_and_sees_its_secret_once(app: AppServer, tab: Tab) -> None:
    page = tab.page
    sign_in_locally(page, app.url, "admin")
    click_nav(page, "Admin")
    expect(page.get_by_text("Scoring API keys")).to_be_visible()
    page.get_by_role("textbox", name="Key name").fill("loan-portal")
    environments = (
        page.locator('[data-testid="stMultiSelect"]').filter(has_text="Environments").locator("input")
    )
    environments.first.click()
    environments.first.fill("Dev")  # typed, then chosen with Enter: the open list re-renders as it filters
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    act(page, lambda: page.get_by_role("button", name="Create key").click())
    code = page.locator('[data-testid="stCode"]').filter(has_text="stk_")
    expect(code).to_be_visible()
    secret = code.inner_text().strip()
    assert digest(secret) in ApiKeyService(app.steward.ctx).by_digest()
    page.get_by_text("Scoring API keys").scroll_into_view_if_needed()
    shot(page, "admin-api-keys")
