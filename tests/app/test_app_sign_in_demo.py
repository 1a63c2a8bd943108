"""The sign-in page lists the demo accounts while the demo runs, and never otherwise."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from steward.core.setup.demo import DEMO_ACCOUNTS, DEMO_FLAG, DEMO_PASSWORD
from steward.core.steward import Steward
from testkit import REPO_ROOT

pytestmark = pytest.mark.xdist_group("app_sign_in_demo")
ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")


def sign_in_page() -> str:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert any(b.label == "Sign in" for b in at.button)
    return "\n".join(str(m.value) for m in at.markdown)


def test_the_demo_shows_its_accounts_on_the_sign_in_page(demo_steward: Steward, monkeypatch):
    monkeypatch.setenv(DEMO_FLAG, "1")
    text = sign_in_page()
    assert DEMO_PASSWORD.replace("-", "\\-") in text
    for account in DEMO_ACCOUNTS:
        assert f"**{account.username}**" in text


def test_outside_the_demo_the_sign_in_page_names_no_account(demo_steward: Steward, monkeypatch):
    monkeypatch.delenv(DEMO_FLAG, raising=False)
    text = sign_in_page()
    assert "demo" not in text.lower() and "**dana**" not in text
