"""`steward alerts rules`: an operator lists the rules and edits one; a bad edit names the problem."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from steward.app.cli import main
from steward.core.steward import Steward
from testkit import TEST_SCRYPT_N, add_user


@pytest.fixture
def env(tmp_path, monkeypatch) -> None:
    values = {
        "STEWARD_DATA_DIR": str(tmp_path / "data"),
        "STEWARD_SCRYPT_N": str(TEST_SCRYPT_N),
        "STEWARD_SECRET_KEY": "cli-test-secret-key-long-enough-0123456789",
    }
    for key in [k for k in os.environ if k.startswith("STEWARD_")]:
        monkeypatch.delenv(key)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    steward = Steward()
    steward.upgrade_database()
    add_user(steward, "otto", "operator")
    add_user(steward, "vic", "viewer")
    steward.close()


def test_rules_list_and_an_audited_edit(env, tmp_path):
    runner = CliRunner()
    listed = runner.invoke(main, ["alerts", "rules"])
    assert listed.exit_code == 0, listed.output
    drift = next(line for line in listed.output.splitlines() if line.startswith("drift.detected"))
    assert "warning" in drift and "on the event" in drift  # the monitor's drift verdict opens it
    book = tmp_path / "book.md"
    book.write_text("1. Check the **p95** panel\n")
    edited = runner.invoke(
        main,
        [
            "alerts",
            "rules",
            "set",
            "sla.breach",
            "--comparison",
            "above",
            "--threshold",
            "300",
            "--windows",
            "3",
            "--runbook-file",
            str(book),
            "--as",
            "otto",
        ],
    )
    assert edited.exit_code == 0, edited.output
    assert "value above 300 for 3 consecutive window(s)" in edited.output
    steward = Steward()
    assert steward.alert_rules.get("sla.breach").runbook == "1. Check the **p95** panel\n"
    event = steward.audit.recent(1)[0]
    assert (event.action, event.actor, event.after["windows"]) == ("alert_rule.update", "otto", 3)

    refused = runner.invoke(main, ["alerts", "rules", "set", "sla.breach", "--windows", "0", "--as", "otto"])
    assert refused.exit_code != 0 and "windows must be between 1 and 1000" in refused.output
    denied = runner.invoke(main, ["alerts", "rules", "set", "sla.breach", "--disable", "--as", "vic"])
    assert denied.exit_code != 0 and steward.alert_rules.get("sla.breach").enabled
