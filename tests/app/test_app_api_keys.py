"""Admin page: an admin creates a scoring API key (secret shown once, stored hashed) and revokes it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from steward.core.domain.accounts import Actor
from steward.core.domain.api_keys import digest
from steward.core.services.api_keys import ApiKeyService
from steward.core.steward import Steward
from testkit import REPO_ROOT, TEST_SCRYPT_N

ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")


@pytest.fixture
def admin_app(tmp_path) -> Iterator[tuple[AppTest, Steward]]:
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith("STEWARD_")]:
            patch.delenv(key)
        patch.setenv("STEWARD_DATA_DIR", str(tmp_path / "data"))
        patch.setenv("STEWARD_SCRYPT_N", str(TEST_SCRYPT_N))
        steward = Steward()
        steward.upgrade_database()
        steward.users.create(
            Actor.system_actor("test"), "root", roles=["admin"], password="a-long-test-password"
        )
        at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
        at.session_state["steward_token"] = steward.auth.login("root", "a-long-test-password").token
        at.run()
        at.switch_page("../pages/admin.py").run()
        yield at, steward
        steward.close()
        st.cache_resource.clear()


def test_a_key_is_created_shown_once_and_revoked_from_the_admin_page(admin_app):
    at, steward = admin_app
    next(t for t in at.text_input if t.label == "Key name").input("loan-portal")
    next(m for m in at.multiselect if m.label == "Environments").select("Dev")
    next(b for b in at.button if b.label == "Create key").click().run()
    assert not at.exception
    [key] = ApiKeyService(steward.ctx).list()
    assert (key.name, key.environments, key.created_by) == ("loan-portal", ("Dev",), "root")
    [secret] = [c.value for c in at.code]
    assert with_hash(steward, digest(secret)) and secret.startswith(key.prefix)
    at.run()  # the next run no longer shows it
    assert [c.value for c in at.code] == []
    next(t for t in at.text_input if t.label == "Reason").input("leaked")
    next(b for b in at.button if b.label == "Revoke key").click().run()
    assert not at.exception
    assert not ApiKeyService(steward.ctx).list()[0].active
    assert [e.action for e in steward.audit.recent(2)] == ["api_key.revoke", "api_key.create"]


def with_hash(steward: Steward, sha: str) -> bool:
    return sha in ApiKeyService(steward.ctx).by_digest()
