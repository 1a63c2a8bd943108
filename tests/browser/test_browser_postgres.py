"""The two session-revocation browser tests again, with the app and the test on PostgreSQL.

Sessions, throttling counters and the audit head live in the database, so
"signed out means signed out" and "deactivated means cut off" must hold on
PostgreSQL as on SQLite. One app (SSO configured, local sign-in beside it) on
a database of its own serves both scenarios, to add as little time as
possible; the scenarios themselves are the SQLite tests' own functions.
Skipped, saying why, when no PostgreSQL answers at ``STEWARD_TEST_PG_URL``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from browserkit import (
    SYSTEM,
    AppServer,
    IdentityProvider,
    Tab,
    free_port,
    postgres_database,
    run_app,
    run_identity_provider,
    sso_secrets,
    warm_up,
)
from playwright.sync_api import Browser
from test_browser_revocation import deactivation_cuts_the_session
from test_browser_sso import sign_out_then_replay_the_cookie

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.xdist_group("browser_postgres"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib"),  # the provider's own Authlib calls
]


@pytest.fixture(scope="module")
def provider() -> Iterator[IdentityProvider]:
    with run_identity_provider() as running:
        yield running


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, browser: Browser, provider: IdentityProvider
) -> Iterator[AppServer]:
    port = free_port()
    secrets_toml = sso_secrets(port, provider, cookie_secret=secrets.token_urlsafe(32))
    with (
        postgres_database() as url,
        run_app(
            tmp_path_factory.mktemp("postgres"), secrets_toml=secrets_toml, port=port, database_url=url
        ) as server,
    ):
        # The scenarios read sessions through this Steward: they pass only if the app writes them here too.
        assert server.steward.engines.dialect == "postgresql"
        server.steward.group_mappings.add(SYSTEM, "risk-team", "risk_officer")
        warm_up(browser, server)
        yield server


def test_sign_out_and_a_replayed_cookie_is_refused_on_postgresql(
    app: AppServer, provider: IdentityProvider, browser: Browser, tab: Tab
) -> None:
    sign_out_then_replay_the_cookie(app, provider, browser, tab, screenshots=False)


def test_deactivation_cuts_the_open_session_on_postgresql(app: AppServer, tab: Tab) -> None:
    deactivation_cuts_the_session(app, tab)
