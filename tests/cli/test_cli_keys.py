"""`steward keys create | list | revoke`: what an admin types, and what they see (the secret once)."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from integration.test_promotions_support import make_cast

from steward.app.cli import main
from steward.core.domain.api_keys import digest
from steward.core.services.api_keys import ApiKeyService
from steward.core.steward import Steward
from testkit import TEST_SCRYPT_N


@pytest.fixture
def steward(tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith("STEWARD_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("STEWARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STEWARD_SCRYPT_N", str(TEST_SCRYPT_N))
    instance = Steward()
    instance.upgrade_database()
    make_cast(instance)
    yield instance
    instance.close()


def test_an_admin_creates_lists_and_revokes_a_key_and_others_are_refused(steward):
    runner = CliRunner()
    created = runner.invoke(
        main, ["keys", "create", "portal", "--env", "Dev", "--env", "Test", "--as", "ada"]
    )
    assert created.exit_code == 0, created.output
    secret = created.output.split("X-API-Key): ")[1].strip()
    assert digest(secret) in ApiKeyService(steward.ctx).by_digest()
    listed = runner.invoke(main, ["keys", "list"])
    assert "portal" in listed.output and "Dev,Test" in listed.output and secret not in listed.output
    refused = runner.invoke(main, ["keys", "create", "sneaky", "--env", "Prod", "--as", "otto"])
    assert refused.exit_code != 0 and [k.name for k in ApiKeyService(steward.ctx).list()] == ["portal"]
    unknown = runner.invoke(main, ["keys", "create", "typo", "--env", "Staging", "--as", "ada"])
    assert unknown.exit_code != 0 and "no environment named 'Staging'" in unknown.output
    revoked = runner.invoke(main, ["keys", "revoke", "1", "--reason", "rotated", "--as", "ada"])
    assert revoked.exit_code == 0 and "revoked key #1 portal" in revoked.output
    assert not ApiKeyService(steward.ctx).list()[0].active
    assert "serve" in runner.invoke(main, ["--help"]).output
