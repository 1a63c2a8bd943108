"""Single sign-on end to end: Streamlit's ``st.login`` against a real OpenID Connect provider.

The provider (oidc-provider-mock, nonce required) and the app run on free
loopback ports; the browser uses exactly the host of ``redirect_uri``. What is
shown: roles come from Steward's group mappings, signing out revokes the
server-side session so a copy of the cookie is refused, an unmapped user gets
"No access yet", a tampered or forged cookie gives an anonymous session, and
local accounts keep working beside SSO.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from browserkit import (
    SYSTEM,
    AppServer,
    IdentityProvider,
    Tab,
    act,
    click_nav,
    free_port,
    grid_cells,
    open_tab,
    run_app,
    run_identity_provider,
    settle,
    shot,
    sidebar_pages,
    sign_in_locally,
    sso_secrets,
    warm_up,
)
from playwright.sync_api import Browser, Page, expect

from steward.app.ui.navigation import PAGES
from steward.core.domain.permissions import roles_allowed
from steward.core.domain.roles import Role
from steward.core.services.audit import AuditFilter

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser_sso"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib"),  # the provider's own Authlib calls
]

COOKIE_SECRET = secrets.token_urlsafe(32)
USER_COOKIE = "_streamlit_user"
RISK_PAGES = [spec.title for spec in PAGES if Role.RISK_OFFICER in roles_allowed(spec.action)]


@pytest.fixture(scope="module")
def provider() -> Iterator[IdentityProvider]:
    with run_identity_provider() as running:
        yield running


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, browser: Browser, provider: IdentityProvider
) -> Iterator[AppServer]:
    port = free_port()
    secrets_toml = sso_secrets(port, provider, cookie_secret=COOKIE_SECRET)
    with run_app(tmp_path_factory.mktemp("sso"), secrets_toml=secrets_toml, port=port) as server:
        server.steward.group_mappings.add(SYSTEM, "risk-team", "risk_officer")
        warm_up(browser, server)
        yield server


def person(provider: IdentityProvider, sub: str, groups: list[str], **claims: Any) -> str:
    """Register ``sub`` at the provider with these groups; returns ``sub``."""
    provider.set_user(
        sub,
        {
            "preferred_username": sub,
            "name": claims.pop("name", sub.title()),
            "email": f"{sub}@example.org",
            "groups": groups,
            **claims,
        },
    )
    return sub


def sso_sign_in(page: Page, app: AppServer, provider: IdentityProvider, sub: str) -> None:
    """Click the SSO button, sign in at the provider's own form, come back signed in."""
    page.goto(app.url)
    page.get_by_role("button", name="Sign in with single sign-on").click()
    page.wait_for_url(f"{provider.url}/oauth2/authorize?**")
    assert "nonce=" in page.url and "state=" in page.url
    page.locator('input[name="sub"]').fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{app.url}/**")
    expect(page.locator('[data-testid="stMain"] h1').first).to_be_visible()
    settle(page)


def expect_anonymous_login(page: Page, *, notice: str | None) -> None:
    """The sign-in page, no navigation, and the notice (or none) it shows."""
    expect(page.get_by_role("heading", name="Steward", exact=True)).to_be_visible()
    expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
    alerts = page.locator('[data-testid="stAlert"]')
    if notice is None:
        expect(alerts).to_have_count(0)
        expect(page.get_by_role("button", name="Sign in with single sign-on")).to_be_visible()
    else:
        expect(alerts.filter(has_text=notice)).to_be_visible()


def open_sessions(app: AppServer, username: str) -> list[str]:
    return [s.method for s in app.steward.auth.list_sessions(SYSTEM) if s.username == username]


def cookie(tab: Tab, name: str) -> dict[str, Any]:
    return next(dict(c) for c in tab.context.cookies() if c["name"] == name)


def forged_user_cookie(app: AppServer, provider: IdentityProvider, secret: str, sub: str) -> dict[str, Any]:
    """A ``_streamlit_user`` cookie made without the provider: claims of our choosing, signed by ``secret``."""
    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

    now = int(time.time())
    claims = {
        "iss": provider.url,
        "sub": sub,
        "aud": "steward-browser-test",
        "iat": now,
        "exp": now + 3600,
        "nonce": secrets.token_urlsafe(8),
        "preferred_username": sub,
        "name": sub.title(),
        "groups": ["risk-team"],
    }
    value = dict(claims, origin=app.url, is_logged_in=True, provider="default")
    signed = create_signed_value(secret, USER_COOKIE, json.dumps(value)).decode()
    return {"name": USER_COOKIE, "value": signed, "domain": "127.0.0.1", "path": "/"}


def flip(value: str, at: int) -> str:
    """``value`` with one character changed (never a separator)."""
    at = at + 1 if value[at] == "." else at
    return value[:at] + ("A" if value[at] != "A" else "B") + value[at + 1 :]


def test_sign_in_through_the_provider_sign_out_and_a_replayed_cookie_is_refused(
    app: AppServer, provider: IdentityProvider, browser: Browser, tab: Tab
) -> None:
    sign_out_then_replay_the_cookie(app, provider, browser, tab, screenshots=True)


def sign_out_then_replay_the_cookie(
    app: AppServer, provider: IdentityProvider, browser: Browser, tab: Tab, *, screenshots: bool
) -> None:
    """Sign in through the provider, sign out, replay the old cookies (also run on PostgreSQL).

    ``app`` must map the group ``risk-team`` to the risk officer role. Only the
    SQLite run takes the docs' screenshots.
    """

    def take(page: Page, name: str) -> None:
        if screenshots:
            shot(page, name)

    page = tab.page
    person(provider, "rita", ["risk-team", "all-staff"], name="Rita Risk")
    page.goto(app.url)
    take(page, "sso-login")
    sso_sign_in(page, app, provider, "rita")

    # The risk officer's pages, from the group mapping; not the admin's.
    assert sidebar_pages(page) == RISK_PAGES
    assert "Audit log" in RISK_PAGES and "Admin" not in RISK_PAGES
    expect(page.locator('[data-testid="stSidebar"]').get_by_text("Rita Risk")).to_be_visible()
    click_nav(page, "Audit log")
    expect(page.get_by_role("heading", name="Audit log", exact=True)).to_be_visible()
    expect(page.get_by_text("no role mapped", exact=False)).to_have_count(0)
    take(page, "sso-risk_officer-audit_log")
    assert open_sessions(app, "rita") == ["oidc"]
    events = app.steward.audit.list(SYSTEM, AuditFilter(actor="rita", action="auth.login")).events
    assert [e.detail for e in events] == ["sso; groups: all-staff, risk-team"]

    saved = tab.context.cookies()
    assert USER_COOKIE in {c["name"] for c in saved}
    # A second tab of the same browser shares the cookie, and so the one server-side session.
    second = tab.context.new_page()
    second.goto(f"{app.url}/audit_log")
    expect(second.get_by_role("heading", name="Audit log", exact=True)).to_be_visible()
    settle(second)
    assert open_sessions(app, "rita") == ["oidc"]

    # Sign out: Steward revokes its session, Streamlit clears its cookie, the provider ends its own.
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{provider.url}/oauth2/end_session?**")
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{app.url}/**")
    expect(page.get_by_role("button", name="Sign in with single sign-on")).to_be_visible()
    assert USER_COOKIE not in {c["name"] for c in tab.context.cookies()}
    assert open_sessions(app, "rita") == []
    # The other tab is cut off at its next click.
    act(second, second.locator('[data-testid="stSidebarNav"] a').first.click)
    expect_anonymous_login(second, notice="You signed out.")

    # The cookies copied before signing out, in a fresh browser: refused, at any address.
    thief = open_tab(browser, cookies=saved)
    try:
        for path in ("", "/audit_log"):
            thief.page.goto(app.url + path)
            settle(thief.page)
            expect_anonymous_login(thief.page, notice="You signed out.")
            expect(thief.page.get_by_role("heading", name="Audit log")).to_have_count(0)
        assert open_sessions(app, "rita") == []
        take(thief.page, "sso-replayed-cookie")
        # "Clear the old sign-in" drops the stale cookie; single sign-on can then start afresh.
        thief.page.get_by_role("button", name="Clear the old sign-in").click()
        thief.page.wait_for_url(f"{provider.url}/oauth2/end_session?**")
        thief.page.get_by_role("button", name="End session").click()
        thief.page.wait_for_url(f"{app.url}/**")
        settle(thief.page)
        expect_anonymous_login(thief.page, notice=None)
        assert USER_COOKIE not in {c["name"] for c in thief.context.cookies()}
        assert thief.dialogs == []
    finally:
        thief.close()


def test_a_user_whose_groups_map_to_no_role_sees_no_access_yet(
    app: AppServer, provider: IdentityProvider, tab: Tab
) -> None:
    page = tab.page
    person(provider, "nora.new", ["contractors"], name="Nora New")
    sso_sign_in(page, app, provider, "nora.new")
    expect(page.get_by_role("heading", name="No access yet", exact=True)).to_be_visible()
    expect(page.get_by_text("You are signed in as Nora New (user name nora.new)")).to_be_visible()
    expect(
        page.get_by_text("Ask a Steward admin to map one of your identity provider's groups")
    ).to_be_visible()
    expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
    for spec in PAGES:  # no default role: nothing of any page leaks
        expect(page.get_by_role("heading", name=spec.title, exact=True)).to_have_count(0)
    shot(page, "sso-no-access")
    denied = app.steward.audit.list(SYSTEM, AuditFilter(actor="nora.new", action="auth.sso_no_access")).events
    assert [e.outcome.value for e in denied] == ["denied"]
    assert "contractors" in denied[0].detail

    # An admin maps the group; the same sign-in (same cookie) gets the role on its next page load.
    app.steward.group_mappings.add(SYSTEM, "contractors", "viewer")
    page.goto(app.url)
    settle(page)
    assert sidebar_pages(page) == [s.title for s in PAGES if Role.VIEWER in roles_allowed(s.action)]


def test_removing_a_group_mapping_takes_effect_at_the_next_interaction(
    app: AppServer, provider: IdentityProvider, tab: Tab
) -> None:
    page = tab.page
    person(provider, "greg", ["ops-team"])
    mapping = app.steward.group_mappings.add(SYSTEM, "ops-team", "operator")
    sso_sign_in(page, app, provider, "greg")
    assert "Infrastructure" in sidebar_pages(page)

    app.steward.group_mappings.remove(SYSTEM, mapping.id)
    act(page, page.locator('[data-testid="stSidebarNav"] a').nth(1).click)
    expect(page.get_by_role("heading", name="No access yet", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Infrastructure")).to_have_count(0)


def test_a_tampered_or_forged_login_cookie_gives_an_anonymous_session(
    app: AppServer, provider: IdentityProvider, browser: Browser, tab: Tab
) -> None:
    person(provider, "tess", ["risk-team"])
    sso_sign_in(tab.page, app, provider, "tess")
    assert sidebar_pages(tab.page) == RISK_PAGES
    real = cookie(tab, USER_COOKIE)

    value = real["value"]
    candidates = {
        "payload changed": dict(real, value=flip(value, len(value) // 3)),
        "signature changed": dict(real, value=flip(value, len(value) - 2)),
        "signed with another secret": forged_user_cookie(app, provider, secrets.token_urlsafe(32), "mallory"),
    }
    for what, bad in candidates.items():
        assert bad["value"] != real["value"], what
        other = open_tab(browser, cookies=[bad])
        try:
            other.page.goto(app.url)
            settle(other.page)
            expect_anonymous_login(other.page, notice=None)
        finally:
            other.close()
    assert "mallory" not in {u.username for u in app.steward.users.list(SYSTEM)}

    # Control: the same forgery signed with the app's own cookie_secret IS accepted, so the refusals
    # above come from the signature check (and cookie_secret must be guarded like a signing key).
    control = open_tab(browser, cookies=[forged_user_cookie(app, provider, COOKIE_SECRET, "mallory")])
    try:
        control.page.goto(app.url)
        settle(control.page)
        assert sidebar_pages(control.page) == RISK_PAGES
    finally:
        control.close()
        app.steward.users.set_active(SYSTEM, "mallory", False)


def test_local_accounts_keep_working_beside_single_sign_on(app: AppServer, tab: Tab) -> None:
    page = tab.page
    page.goto(app.url)
    expect(page.get_by_role("button", name="Sign in with single sign-on")).to_be_visible()
    sign_in_locally(page, app.url, "admin")
    assert "Admin" in sidebar_pages(page)
    click_nav(page, "Admin")
    page.get_by_role("tab", name="Single sign-on").click()
    panel = page.get_by_role("tabpanel", name="Single sign-on")
    assert "risk-team" in grid_cells(panel.locator('[data-testid="stDataFrame"]'))
    shot(page, "admin-admin-single_sign_on")
    assert "local" in open_sessions(app, "admin")
