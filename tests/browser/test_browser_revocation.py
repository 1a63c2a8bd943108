"""Steward's server-side session is the authority: changes cut an open browser session at its next click.

The test process changes the database through the services (as an admin on
another machine would) while the browser stays open; the browser's next
interaction must already see the change.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browserkit import (
    SYSTEM,
    AppServer,
    Tab,
    click_nav,
    run_app,
    sidebar_pages,
    sign_in_locally,
    warm_up,
)
from playwright.sync_api import Browser, Page, expect

from steward.core.domain.accounts import Actor
from testkit import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser_revocation")]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with run_app(tmp_path_factory.mktemp("revocation")) as server:
        warm_up(browser, server)
        yield server


def new_user(app: AppServer, name: str, *roles: str) -> str:
    app.steward.users.create(SYSTEM, name, roles=roles, password=PASSWORD, display_name=name.title())
    return name


def open_session_ids(app: AppServer, username: str) -> list[str]:
    return [s.id for s in app.steward.auth.list_sessions(SYSTEM) if s.username == username]


def expect_cut_off(page: Page, notice: str) -> None:
    """Back on the sign-in form, told why, with nothing of the app left on screen."""
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(page.locator('[data-testid="stAlert"]').filter(has_text=notice)).to_be_visible()
    expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)


def test_deactivating_a_user_cuts_their_open_session_at_the_next_click(app: AppServer, tab: Tab) -> None:
    deactivation_cuts_the_session(app, tab)


def deactivation_cuts_the_session(app: AppServer, tab: Tab) -> None:
    """Deactivate a signed-in user behind the browser's back; their next click ends it (also on PostgreSQL)."""
    name = new_user(app, "deb", "data_scientist")
    sign_in_locally(tab.page, app.url, name, PASSWORD)
    click_nav(tab.page, "Pipelines")
    expect(tab.page.get_by_role("heading", name="Pipelines", exact=True)).to_be_visible()
    assert len(open_session_ids(app, name)) == 1

    app.steward.users.set_active(SYSTEM, name, False)
    click_nav(tab.page, "Deployments")
    expect_cut_off(tab.page, "Your account has been deactivated. Ask an admin.")
    expect(tab.page.get_by_role("heading", name="Deployments")).to_have_count(0)
    assert open_session_ids(app, name) == []

    # The form refuses them too, with the same answer as for a wrong password.
    form = tab.page.locator('[data-testid="stForm"]')
    form.get_by_label("User name", exact=True).fill(name)
    form.get_by_label("Password", exact=True).fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    expect(tab.page.get_by_text("User name or password is incorrect.")).to_be_visible()


def test_removing_a_role_takes_effect_at_the_next_click(app: AppServer, tab: Tab) -> None:
    page = tab.page
    name = new_user(app, "olga", "operator")
    sign_in_locally(page, app.url, name, PASSWORD)
    click_nav(page, "Infrastructure")
    expect(page.get_by_role("heading", name="Infrastructure", exact=True)).to_be_visible()

    app.steward.users.set_roles(SYSTEM, name, ["viewer"])
    # The sidebar on screen still offers Infrastructure; clicking it must not open it.
    click_nav(page, "Infrastructure")
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Infrastructure")).to_have_count(0)
    assert "Infrastructure" not in sidebar_pages(page)
    assert "Audit log" not in sidebar_pages(page)

    app.steward.users.set_roles(SYSTEM, name, [])
    click_nav(page, "Pipelines")
    expect(page.get_by_role("heading", name="No access yet", exact=True)).to_be_visible()
    expect(page.get_by_text("(user name olga), but your account has no role in Steward")).to_be_visible()
    expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
    expect(page.get_by_role("heading", name="Pipelines")).to_have_count(0)


def test_an_admin_ending_a_session_cuts_it_at_the_next_click(app: AppServer, tab: Tab) -> None:
    name = new_user(app, "sid", "viewer")
    sign_in_locally(tab.page, app.url, name, PASSWORD)
    (session_id,) = open_session_ids(app, name)
    admin = app.steward.auth.login("admin", "steward-demo").actor
    app.steward.auth.revoke(admin, session_id)
    click_nav(tab.page, "Drift")
    expect_cut_off(tab.page, "An admin ended your session.")


def test_signing_out_ends_the_session_on_the_server(app: AppServer, tab: Tab) -> None:
    name = new_user(app, "sol", "viewer")
    sign_in_locally(tab.page, app.url, name, PASSWORD)
    assert len(open_session_ids(app, name)) == 1
    tab.page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    expect_cut_off(tab.page, "You signed out.")
    assert open_session_ids(app, name) == []
    events = app.steward.audit.list(Actor.system_actor("check"), None).events
    assert any(e.action == "auth.logout" and e.actor == name for e in events)
