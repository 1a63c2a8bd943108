"""Fallback rule sets through the service, on both databases: versions, arming, fail-over, permissions, audit."""

from __future__ import annotations

import pytest
from test_promotions_support import build_world

from steward.core.errors import InvalidInput, NotFound, PermissionDenied, StaleState

BODY = {
    "rules": [
        {"when": [{"column": "amount", "operator": ">", "value": 500}], "output": 0.8, "label": "1"},
        {"when": [{"column": "colour", "operator": "in", "value": ["red"]}], "output": 0.6},
    ],
    "default": {"output": 0.2, "label": "0"},
}


@pytest.fixture
def world(steward):
    world = build_world(steward, versions=1)
    steward.promotions.request(world["dana"], "toy", 1, "Dev", "serve it")
    return world


def test_each_save_is_a_new_audited_version_checked_against_the_serving_schema(world):
    s, dana = world.steward, world["dana"]
    first = s.rule_sets.save(dana, "Dev", "toy", BODY, "first cut", expected_number=0)
    assert (first.number, first.label, first.created_by) == (1, "rule set v1", "dana")
    event = s.audit.recent(1)[0]
    assert (event.action, event.object_id, event.detail) == ("rule_set.save", "Dev/toy", "first cut")
    assert event.after is not None and event.after["rule_set_version"] == 1 and event.after["rules"] == 2
    changed = {**BODY, "default": {"output": 0.3}}
    second = s.rule_sets.save(dana, "Dev", "toy", changed, expected_number=1)
    assert second.number == 2 and second.rule_set.default.prediction == 0.3
    assert [v.number for v in s.rule_sets.versions("Dev", "toy")] == [2, 1]
    assert s.rule_sets.versions("Dev", "toy")[1].rule_set == first.rule_set  # an old version never changes
    with pytest.raises(StaleState, match="changed since you loaded it"):
        s.rule_sets.save(dana, "Dev", "toy", BODY, expected_number=1)
    bad = {
        "rules": [{"when": [{"column": "income", "operator": ">", "value": 1}], "output": 1}],
        "default": {"output": 0},
    }
    with pytest.raises(InvalidInput, match="no input column named 'income'"):
        s.rule_sets.save(dana, "Dev", "toy", bad)
    with pytest.raises(InvalidInput, match="probability between 0 and 1"):
        s.rule_sets.save(dana, "Dev", "toy", {"rules": [], "default": {"output": 7}})
    with pytest.raises(NotFound, match="nothing serves toy in Test"):
        s.rule_sets.save(dana, "Test", "toy", BODY)
    assert [v.number for v in s.rule_sets.versions("Dev", "toy")] == [2, 1]  # refusals wrote nothing


def test_arming_follows_new_versions_and_failing_over_and_back_is_audited(world):
    s, dana = world.steward, world["dana"]
    with pytest.raises(NotFound, match="has no rule set to arm"):
        s.rule_sets.arm(dana, "Dev", "toy")
    s.rule_sets.save(dana, "Dev", "toy", BODY)
    arm = s.rule_sets.arm(dana, "Dev", "toy")
    assert arm.version.number == 1 and not arm.engaged
    assert s.audit.recent(1)[0].action == "rule_set.arm"
    s.rule_sets.save(dana, "Dev", "toy", {**BODY, "default": {"output": 0.25}})
    arm = s.rule_sets.armed()[("Dev", "toy")]
    assert arm.version.number == 2  # the arm follows the edit
    over = s.rule_sets.failover(dana, "Dev", "toy", "v1 answers garbage", expected=arm.row_version)
    assert over.engaged and over.engaged_by == "dana"
    event = s.audit.recent(1)[0]
    assert (event.action, event.detail) == ("deployment.failover_rule_set", "v1 answers garbage")
    assert event.after == {"rule_set_engaged": True, "rule_set_version": 2, "rule_set_id": over.version.id}
    with pytest.raises(InvalidInput, match="already answers every request"):
        s.rule_sets.failover(dana, "Dev", "toy", "again")
    with pytest.raises(InvalidInput, match="fail back first"):
        s.rule_sets.disarm(dana, "Dev", "toy")
    with pytest.raises(StaleState):
        s.rule_sets.failback(dana, "Dev", "toy", "from a stale page", expected=arm.row_version)
    with pytest.raises(InvalidInput, match="needs a reason"):
        s.rule_sets.failback(dana, "Dev", "toy", " ")
    back = s.rule_sets.failback(dana, "Dev", "toy", "fixed")
    assert not back.engaged and s.audit.recent(1)[0].action == "deployment.failback_rule_set"
    s.rule_sets.arm(dana, "Dev", "toy", 1)  # pin an older version
    assert s.rule_sets.arm_of("Dev", "toy").version.number == 1  # type: ignore[union-attr]
    s.rule_sets.disarm(dana, "Dev", "toy")
    assert s.rule_sets.arm_of("Dev", "toy") is None and s.audit.recent(1)[0].action == "rule_set.disarm"


def test_only_people_who_may_fail_over_there_edit_arm_or_engage_and_refusals_are_audited(world):
    s = world.steward
    vera, dana, otto = world["vera"], world["dana"], world["otto"]
    for attempt in (
        lambda: s.rule_sets.save(vera, "Dev", "toy", BODY),
        lambda: s.rule_sets.arm(vera, "Dev", "toy"),
        lambda: s.rule_sets.failover(vera, "Dev", "toy", "why not"),
        lambda: s.rule_sets.save(dana, "Prod", "toy", BODY),  # a data scientist may not in Prod
    ):
        with pytest.raises(PermissionDenied):
            attempt()
        refusal = s.audit.recent(1)[0]
        assert (refusal.action, refusal.outcome.value) == ("permission.denied", "denied")
        assert refusal.detail.startswith("deployment.failover: ") and refusal.object_id.endswith("/toy")
    assert s.rule_sets.versions("Dev", "toy") == []
    assert s.rule_sets.save(otto, "Dev", "toy", BODY).created_by == "otto"  # an operator may
