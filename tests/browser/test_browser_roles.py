"""Each demo account walks every page its roles open, on the seeded demo, in headless Chromium.

Beyond "it rendered": each page must state the figures the services give for
the same database (how many pipelines, what serves where, how many requests
wait for this reader), and a hint may only link to a page the reader can
open. Screenshots go to ``docs/screenshots/role-<user>-<page>.png``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browserkit import AppServer, Tab, click_nav, run_app, settle, shot, sign_in_locally, warm_up
from playwright.sync_api import Browser, Page, expect

from steward.app.ui.navigation import PAGES, PageSpec
from steward.core.domain.accounts import Actor
from steward.core.domain.permissions import is_allowed
from steward.core.setup.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from steward.core.steward import Steward

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser_roles")]
USERS = [account.username for account in DEMO_ACCOUNTS]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with run_app(tmp_path_factory.mktemp("roles"), full_demo=True) as server:
        warm_up(browser, server)
        yield server


def main_text(page: Page) -> str:
    settle(page)
    return page.locator('[data-testid="stMain"]').inner_text()


def check_overview(steward: Steward, actor: Actor, page: Page) -> None:
    text = main_text(page)
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Pipelines")
    expect(metric.locator('[data-testid="stMetricValue"]')).to_have_text(str(len(steward.pipelines.list())))
    for lamp in steward.signals.lamps():
        assert lamp.summary in text, lamp.summary
    links = [a.inner_text().strip() for a in page.locator('[data-testid="stPageLink"]').all()]
    for label in links:
        title = label.removeprefix("See ").strip()
        spec = next((s for s in PAGES if s.title == title), None)
        assert spec is None or is_allowed(actor.roles, spec.action), f"{actor.username} sent to {title}"


def check_deployments(steward: Steward, _actor: Actor, page: Page) -> None:
    text = main_text(page)
    for deployment in steward.deployments.serving():
        assert f"{deployment.pipeline_name} v{deployment.version_number}" in text


def check_approvals(steward: Steward, actor: Actor, page: Page) -> None:
    board = steward.promotions.board(actor)
    text = main_text(page)
    if board.signs:
        assert f"Waiting for you ({len(board.waiting)})" in text
    for evidence in board.waiting:
        request = evidence.request
        expect(
            page.get_by_text(
                f"Model card of {request.pipeline_name} v{request.version_number} (under review)"
            )
        ).to_be_visible()


CHECKS: dict[str, Callable[[Steward, Actor, Page], None]] = {
    "overview.py": check_overview,
    "deployments.py": check_deployments,
    "approvals.py": check_approvals,
}


def pages_of(actor: Actor) -> list[PageSpec]:
    return [spec for spec in PAGES if is_allowed(actor.roles, spec.action)]


@pytest.mark.parametrize("username", USERS)
def test_each_role_reads_figures_that_match_the_services(app: AppServer, tab: Tab, username: str) -> None:
    steward = app.steward
    actor = steward.auth.login(username, DEMO_PASSWORD, source="127.0.0.1").actor
    page = tab.page
    sign_in_locally(page, app.url, username)
    for spec in pages_of(actor):
        click_nav(page, spec.title)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        expect(page.get_by_text("You do not have access to this page.")).to_have_count(0)
        check = CHECKS.get(spec.file)
        if check is not None:
            check(steward, actor, page)
        shot(page, f"role-{username}-{Path(spec.file).stem}")
