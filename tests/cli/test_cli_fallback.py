"""`steward fallback save | show | arm | failover | failback | disarm`: a rule set from the command line."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner
from integration.test_promotions_support import make_cast, train_versions

from steward.app.cli import main
from steward.core.steward import Steward
from testkit import TEST_SCRYPT_N

RULES = {
    "rules": [{"when": [{"column": "amount", "operator": ">", "value": 500}], "output": 0.9}],
    "default": {"output": 0.1},
}


@pytest.fixture
def steward(tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith("STEWARD_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("STEWARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STEWARD_SCRYPT_N", str(TEST_SCRYPT_N))
    instance = Steward()
    instance.upgrade_database()
    people = make_cast(instance)
    train_versions(instance, people["dana"], 1)
    instance.promotions.request(people["dana"], "toy", 1, "Dev", "serve")
    yield instance
    instance.close()


def test_an_operator_saves_arms_fails_over_and_back_and_a_viewer_is_refused(steward, tmp_path):
    runner = CliRunner()
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(RULES))
    saved = runner.invoke(main, ["fallback", "save", "Dev", "toy", "--file", str(path), "--as", "otto"])
    assert saved.exit_code == 0, saved.output
    assert "saved rule set v1 for toy in Dev (1 rules)" in saved.output
    refused = runner.invoke(main, ["fallback", "arm", "Dev", "toy", "--as", "vera"])
    assert refused.exit_code != 0 and "may not" in refused.output
    for args in (["arm"], ["failover", "--reason", "model down"]):
        result = runner.invoke(main, ["fallback", args[0], "Dev", "toy", *args[1:], "--as", "otto"])
        assert result.exit_code == 0, result.output
    shown = runner.invoke(main, ["fallback", "show", "Dev", "toy"])
    assert "answering every request (failed over by otto)" in shown.output and '"output": 0.9' in shown.output
    back = runner.invoke(main, ["fallback", "failback", "Dev", "toy", "--reason", "fixed", "--as", "otto"])
    assert back.exit_code == 0 and "the model answers toy in Dev again" in back.output
    path.write_text("{not json")
    bad = runner.invoke(main, ["fallback", "save", "Dev", "toy", "--file", str(path), "--as", "otto"])
    assert bad.exit_code != 0 and "rules.json is not JSON" in bad.output
    actions = [e.action for e in steward.audit.recent(10)]
    assert {"rule_set.save", "rule_set.arm", "deployment.failover_rule_set"} <= set(actions)
