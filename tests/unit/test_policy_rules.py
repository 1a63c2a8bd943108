"""Which policy changes lower a production policy, and the floor (rules about the rules)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from steward.core.domain.permissions import Tier
from steward.core.domain.policy_rules import check_floor, lowerings, roles_that_may_sign
from steward.core.domain.promotions import default_policy
from steward.core.domain.roles import Role
from steward.core.domain.signoff import SignoffPolicy
from steward.core.errors import InvalidInput

SIGNOFF, GATES = default_policy(Tier.PROD)
DS, BS, RO = Role.DATA_SCIENTIST, Role.BUSINESS_STAKEHOLDER, Role.RISK_OFFICER


def signoff(required, hours=72, auto=False):
    return SignoffPolicy.build(required, approval_ttl=timedelta(hours=hours), auto_execute=auto)


def test_the_same_or_a_stricter_policy_lowers_nothing():
    assert lowerings(SIGNOFF, GATES, SIGNOFF, GATES) == []
    stricter = signoff({DS: 2, BS: 1, RO: 1}, hours=24)
    assert lowerings(SIGNOFF, GATES, stricter, replace(GATES, require_load_test=True)) == []


def test_each_way_of_making_it_easier_is_named():
    ttl = SIGNOFF.approval_ttl.total_seconds() / 3600
    easier = signoff({DS: 1, RO: 1}, hours=ttl * 2, auto=True)
    gates = replace(GATES, min_metrics=(), max_regression_pct=None, require_no_critical_alert=False)
    lines = lowerings(SIGNOFF, GATES, easier, gates)
    assert "sign-off from 1 business stakeholder becomes none" in lines
    assert "it would deploy itself once signed off (auto-execute)" in lines
    assert f"signatures hold {ttl * 2:g} h instead of {ttl:g} h" in lines
    assert "open critical alerts would no longer block" in lines
    assert any("threshold" in line and "removed" in line for line in lines) == bool(GATES.min_metrics)


def test_a_lower_floor_for_a_higher_is_better_metric_lowers_and_a_higher_one_does_not():
    base = replace(GATES, min_metrics=(("roc_auc", 0.7),))
    assert lowerings(SIGNOFF, base, SIGNOFF, replace(base, min_metrics=(("roc_auc", 0.6),))) == [
        "the ROC AUC threshold goes from 0.7 to 0.6"
    ]
    assert lowerings(SIGNOFF, base, SIGNOFF, replace(base, min_metrics=(("roc_auc", 0.8),))) == []


def test_the_floor_refuses_fewer_than_two_people_in_prod_only():
    with pytest.raises(InvalidInput, match="at least 2 people besides the requester"):
        check_floor(Tier.PROD, signoff({RO: 1}))
    check_floor(Tier.PROD, signoff({RO: 2}))  # two risk officers are two people
    check_floor(Tier.TEST, signoff({}))
    assert roles_that_may_sign(Tier.PROD, signoff({})) == frozenset({DS, BS, RO})
    assert roles_that_may_sign(Tier.PROD, SIGNOFF) == frozenset({DS, BS, RO})
    assert roles_that_may_sign(Tier.TEST, signoff({DS: 1})) == frozenset({DS})
