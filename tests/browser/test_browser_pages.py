"""Every page, as every kind of user, through the login form of a real app in headless Chromium.

Checks what a person sees: the sidebar holds exactly the pages of their roles,
each opens (by clicking, as a person does) with its heading and no error, and
a page outside their roles cannot be reached by typing its address. Saves the
screenshots under ``docs/screenshots/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from browserkit import (
    AppServer,
    Tab,
    act,
    click_nav,
    run_app,
    settle,
    shot,
    sidebar_pages,
    sign_in_locally,
    warm_up,
)
from playwright.sync_api import Browser, Page, expect

from steward.app.ui.navigation import PAGES, PageSpec
from steward.core.domain.permissions import roles_allowed
from steward.core.domain.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser_pages")]

# What each page's st.title says (the sidebar title is shorter for some).
HEADINGS = {
    "overview.py": "Overview",
    "pipelines.py": "Pipelines",
    "deployments.py": "Deployments",
    "approvals.py": "Approvals",
    "drift.py": "Drift and data quality",
    "service_health.py": "Service health",
    "infrastructure.py": "Infrastructure",
    "alerts.py": "Alerts",
    "timeline.py": "Event timeline",
    "audit_log.py": "Audit log",
    "admin.py": "Admin",
}
DEMO_ROLES = {
    "admin": Role.ADMIN,
    "dana": Role.DATA_SCIENTIST,
    "rick": Role.RISK_OFFICER,
    "otto": Role.OPERATOR,
    "vera": Role.VIEWER,
}
# A few pages per role beyond the admin's full set: enough to show what each role sees.
EXTRA_SCREENSHOTS = {
    "dana": {"pipelines.py", "infrastructure.py"},
    "rick": {"overview.py", "approvals.py", "audit_log.py"},
    "otto": {"deployments.py"},
    "vera": {"overview.py"},
}


def pages_for(role: Role) -> list[PageSpec]:
    """The pages the permission matrix opens to ``role``, in navigation order."""
    return [spec for spec in PAGES if role in roles_allowed(spec.action)]


def expect_page(page: Page, spec: PageSpec) -> None:
    """The page ``spec`` is showing: its heading, and no error or exception box."""
    expect(page.get_by_role("heading", name=HEADINGS[spec.file], exact=True, level=1)).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.get_by_text("You do not have access to this page.")).to_have_count(0)


def expect_login_form(page: Page) -> None:
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with run_app(tmp_path_factory.mktemp("pages"), full_demo=True) as server:  # real pages to look at
        warm_up(browser, server)
        yield server


def test_the_matrix_gives_each_demo_role_a_distinct_set_of_pages() -> None:
    """Guards the test itself: if every role saw every page the checks below would prove little."""
    assert [spec.file for spec in pages_for(Role.ADMIN)] == [spec.file for spec in PAGES]
    assert "admin.py" not in {spec.file for spec in pages_for(Role.VIEWER)}
    assert "audit_log.py" in {spec.file for spec in pages_for(Role.RISK_OFFICER)}
    assert len({tuple(spec.file for spec in pages_for(role)) for role in DEMO_ROLES.values()}) == 5


def test_a_link_to_a_page_shows_the_sign_in_form_then_that_page(app: AppServer, tab: Tab) -> None:
    """A bookmarked address signs in to that page; a wrong password is one clear line."""
    page = tab.page
    admin_page = next(spec for spec in PAGES if spec.file == "admin.py")
    page.goto(f"{app.url}/{admin_page.url_path}")
    expect_login_form(page)
    expect(page.get_by_role("heading", name="Steward", exact=True)).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign in with single sign-on")).to_have_count(0)  # no [auth]
    settle(page)
    shot(page, "login")

    form = page.locator('[data-testid="stForm"]')
    form.get_by_label("User name", exact=True).fill("admin")
    form.get_by_label("Password", exact=True).fill("not-the-password")
    act(page, form.get_by_role("button", name="Sign in").click)
    expect(page.get_by_text("User name or password is incorrect.")).to_be_visible()
    expect_login_form(page)

    sign_in_locally(page, app.url, "admin")
    expect_page(page, admin_page)


@pytest.mark.parametrize("username", list(DEMO_ROLES))
def test_each_role_sees_and_opens_exactly_its_pages(app: AppServer, tab: Tab, username: str) -> None:
    page = tab.page
    sign_in_locally(page, app.url, username)
    allowed = pages_for(DEMO_ROLES[username])
    assert sidebar_pages(page) == [spec.title for spec in allowed]
    expect_page(page, allowed[0])  # the first page is where a sign-in lands
    for spec in allowed:
        click_nav(page, spec.title)
        expect_page(page, spec)
        path = urlparse(page.url).path.rstrip("/")  # a page may keep its selection in the query string
        assert path.endswith("" if spec is allowed[0] else f"/{spec.url_path}")
        if username == "admin" or spec.file in EXTRA_SCREENSHOTS.get(username, set()):
            shot(page, f"{username}-{Path(spec.file).stem}")
    # Still the same session after all those clicks: nobody was asked to sign in again.
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.mark.parametrize(
    ("username", "forbidden"),
    [
        ("vera", ["admin.py", "audit_log.py", "alerts.py", "infrastructure.py", "approvals.py"]),
        ("rick", ["admin.py", "infrastructure.py"]),
        ("dana", ["admin.py", "audit_log.py"]),
    ],
)
def test_a_page_outside_the_role_cannot_be_reached_by_its_address(
    app: AppServer, tab: Tab, username: str, forbidden: list[str]
) -> None:
    """Typing the address shows the sign-in form; signing in there lands on the role's first page."""
    page = tab.page
    allowed = {spec.file for spec in pages_for(DEMO_ROLES[username])}
    for target in (spec for spec in PAGES if spec.file in forbidden):
        assert target.file not in allowed, "the test's own list is wrong"
        page.goto(f"{app.url}/{target.url_path}")
        expect_login_form(page)
        sign_in_locally(page, app.url, username)
        expect_page(page, pages_for(DEMO_ROLES[username])[0])
        expect(page.get_by_role("heading", name=HEADINGS[target.file], exact=True)).to_have_count(0)
        assert target.title not in sidebar_pages(page)
        assert not page.url.rstrip("/").endswith(target.url_path)
