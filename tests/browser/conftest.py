"""Fixtures for the browser tests: one Debian Chromium per worker, a fresh context per test.

The app servers are started per module by the modules themselves (see
``browserkit.run_app``): each module needs a differently configured Steward.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browserkit import CHROMIUM, CHROMIUM_FLAGS, Tab, open_tab
from playwright.sync_api import Browser, Playwright, sync_playwright


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Without Debian's Chromium the browser tests skip, saying what to install."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is not installed (apt-get install chromium)"
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Debian's Chromium with the flags from the field notes (never ``playwright install``)."""
    chromium = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def tab(browser: Browser) -> Iterator[Tab]:
    """A fresh browser context per test; fails the test if any JavaScript dialog opened."""
    opened = open_tab(browser)
    yield opened
    opened.close()
    assert opened.dialogs == [], f"a JavaScript dialog opened: {opened.dialogs}"
