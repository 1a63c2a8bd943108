"""The fallback rule-set editor on the Deployments page, in AppTest on the seeded demo: save, arm, fail over, back."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from steward.core.domain.accounts import Actor
from steward.core.steward import Steward
from testkit import REPO_ROOT, demo_tokens

pytestmark = pytest.mark.xdist_group("app_rule_sets")
ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")
WHERE = "Test · credit-default"


def open_page(token: str) -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = token
    at.run()
    at.switch_page("../pages/deployments.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="rules_choice").select(WHERE).run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, starts: str):
    return next(b for b in at.button if str(b.label).startswith(starts))


def test_an_operator_saves_a_version_arms_it_and_fails_over_to_it_and_back(demo_steward: Steward):
    s = demo_steward
    tokens = demo_tokens(s)
    schema, _task = s.rule_sets.input_contract("Test", "credit-default")
    numeric = next(c.name for c in schema.columns if c.kind in ("numeric", "integer"))
    body = {
        "rules": [{"when": [{"column": numeric, "operator": ">", "value": 0}], "output": 0.7}],
        "default": {"output": 0.1},
    }
    s.rule_sets.save(Actor.system_actor("tests"), "Test", "credit-default", body, "first")

    at = open_page(tokens["otto"])
    at.number_input(
        key=next(
            k
            for k in at.session_state
            if str(k).startswith("rules_default_")
            and not str(k).startswith("rules_default_label_")  # the label box beside it
            and str(k).endswith("_1")
        )
    ).set_value(0.2).run()
    button(at, "Save as rule set v2").click().run()
    assert not at.exception, at.exception
    saved = s.rule_sets.latest("Test", "credit-default")
    assert saved is not None and saved.number == 2 and saved.rule_set.default.prediction == 0.2
    assert (
        saved.rule_set.rules == s.rule_sets.versions("Test", "credit-default")[1].rule_set.rules
    )  # the table kept
    assert saved.created_by == "otto" and s.audit.recent(1)[0].action == "rule_set.save"

    button(at, "Arm rule set v2").click().run()
    assert s.rule_sets.arm_of("Test", "credit-default") is not None
    at.text_input(
        key=next(
            k for k in at.session_state if str(k).startswith("rules_move_") and str(k).endswith("_reason")
        )
    ).input("model is down").run()
    button(at, "Fail over to rule set v2").click().run()
    assert not at.exception, at.exception
    arm = s.rule_sets.arm_of("Test", "credit-default")
    assert arm is not None and arm.engaged and arm.engaged_by == "otto"
    assert s.audit.recent(1)[0].action == "deployment.failover_rule_set"
    at.text_input(
        key=next(
            k for k in at.session_state if str(k).startswith("rules_move_") and str(k).endswith("_reason")
        )
    ).input("model is back").run()
    button(at, "Fail back to the model").click().run()
    arm = s.rule_sets.arm_of("Test", "credit-default")
    assert arm is not None and not arm.engaged


def test_a_viewer_sees_no_rule_set_editor(demo_steward: Steward):
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = demo_tokens(demo_steward)["vera"]
    at.run()
    at.switch_page("../pages/deployments.py").run()
    assert "Fallback rule set" not in [h.value for h in at.subheader]
