"""`steward shadow` and `steward canary`: start, status and end as an operator types them; refusals in one line."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from integration.test_promotions_support import build_world

from steward.app.cli import main
from steward.core.steward import Steward
from testkit import TEST_SCRYPT_N


@pytest.fixture
def deployed(tmp_path, monkeypatch) -> Steward:
    """toy v1 serves in Dev; v2 is trained and waits."""
    for key in [k for k in os.environ if k.startswith("STEWARD_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("STEWARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STEWARD_SCRYPT_N", str(TEST_SCRYPT_N))
    monkeypatch.setenv("STEWARD_SECRET_KEY", "cli-test-secret-key-long-enough-0123456789")
    steward = Steward()
    steward.upgrade_database()
    world = build_world(steward, versions=2)
    steward.promotions.request(world["dana"], "toy", 1, "Dev", "v1 to Dev")
    yield steward
    steward.close()


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_shadow_start_status_end_and_canary_refusals(deployed):
    result = run(
        "shadow", "start", "toy", "2", "Dev", "--minutes", "30", "--reason", "compare", "--as", "dana"
    )
    assert result.exit_code == 0, result.output
    assert "rollout #1 started: shadow of v2 beside v1 in Dev" in result.output
    status = run("shadow", "status", "Dev", "toy")
    assert status.exit_code == 0, status.output
    assert "champion v1: 0 requests" in status.output and "never returned" in status.output
    ended = run("shadow", "end", "1", "--reason", "done", "--as", "dana")
    assert ended.exit_code == 0 and "rollout #1 ended" in ended.output
    assert deployed.audit.recent(1)[0].action == "rollout.ended"

    no_sla = run("canary", "start", "toy", "2", "Dev", "--share", "0.1", "--as", "dana")
    assert no_sla.exit_code == 2 and "has none: set targets first" in no_sla.output
    too_much = run("canary", "start", "toy", "2", "Dev", "--share", "0.9", "--as", "dana")
    assert too_much.exit_code == 2 and "between 0.01 and 0.5" in too_much.output
    prod = run("shadow", "start", "toy", "2", "Prod", "--as", "dana")
    assert prod.exit_code == 2 and prod.output.startswith("error: dana may not")
