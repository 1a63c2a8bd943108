"""The sign-off rule as a pure function, against an independent brute-force oracle; and the gates.

The oracle shares no code with :func:`evaluate_policy`: it tries every way of
giving each approver one of their roles (or none) and asks whether any meets
the policy, where the implementation runs a bipartite matching.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.core.domain.gates import GateInputs, GatePolicy, GateStatus, evaluate_gates, gates_pass
from steward.core.domain.promotions import path_problem
from steward.core.domain.roles import Role
from steward.core.domain.signoff import Binding, Signature, SignoffPolicy, evaluate_policy
from steward.core.errors import InvalidInput

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SUBJECT = Binding("v" * 32, "a" * 64, 3)
OTHER_ARTIFACT = Binding("v" * 32, "b" * 64, 3)
OTHER_TARGET = Binding("v" * 32, "a" * 64, 4)
PEOPLE = ["ann", "ben", "cat", "dan", "eve", "fay"]
SIGNING_ROLES = [Role.DATA_SCIENTIST, Role.BUSINESS_STAKEHOLDER, Role.RISK_OFFICER]


# ---- the oracle ----------------------------------------------------------------------------------
def oracle(
    required: dict[Role, int], ttl: timedelta, requester: str, signatures: list[Signature], now: datetime
):
    """(satisfied, most seats that can be filled), by brute force over every assignment."""
    latest: dict[str, Signature] = {}
    for s in signatures:
        valid = (
            s.approver != requester
            and s.binding == SUBJECT
            and s.signed_at <= now < s.signed_at + ttl
            and bool(s.roles)
        )
        if valid and (s.approver not in latest or s.signed_at > latest[s.approver].signed_at):
            latest[s.approver] = s
    people = sorted(latest)
    options = [[None, *sorted(latest[p].roles & set(required))] for p in people]
    best = 0
    for choice in itertools.product(*options):
        filled = sum(min(required[role], choice.count(role)) for role in required)
        best = max(best, filled)
    total = sum(required.values())
    return best == total, best, latest


@st.composite
def cases(draw):
    required = {
        role: count for role in SIGNING_ROLES if (count := draw(st.integers(min_value=0, max_value=2)))
    }
    hours = draw(st.integers(min_value=1, max_value=96))
    ttl = timedelta(hours=hours)
    requester = draw(st.sampled_from([*PEOPLE, "zed"]))  # "zed" asks but never signs
    fresh = st.integers(min_value=0, max_value=hours - 1)
    signatures = []
    used: set[tuple[str, int]] = set()
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        who = draw(st.sampled_from(PEOPLE))
        hours_ago = draw(st.one_of(fresh, fresh, st.integers(min_value=-2, max_value=120)))
        if (who, hours_ago) in used:  # one signature per person per instant keeps "latest" unambiguous
            continue
        used.add((who, hours_ago))
        roles = frozenset(
            draw(
                st.one_of(
                    st.sets(st.sampled_from(SIGNING_ROLES), min_size=1, max_size=2),
                    st.sets(st.sampled_from([*SIGNING_ROLES, Role.OPERATOR]), max_size=3),
                )
            )
        )
        binding = draw(st.sampled_from([SUBJECT] * 4 + [OTHER_ARTIFACT, OTHER_TARGET]))
        signatures.append(Signature(who, roles, NOW - timedelta(hours=hours_ago), binding))
    return required, ttl, requester, signatures


@settings(max_examples=400, deadline=None)
@given(cases())
def test_policy_matches_the_oracle(case):
    required, ttl, requester, signatures = case
    policy = SignoffPolicy.build(required, approval_ttl=ttl)
    result = evaluate_policy(policy, requester, signatures, NOW, subject=SUBJECT)
    satisfied, best, latest = oracle(required, ttl, requester, signatures, NOW)
    assert result.satisfied == satisfied
    assert len(result.counted) == best
    # What is counted is a real assignment: distinct people, never the requester, holding the role
    # on their latest valid signature, no role over-filled; and "missing" is exactly the rest.
    names = [name for name, _ in result.counted]
    assert len(names) == len(set(names)) and requester not in names
    for name, role in result.counted:
        assert role in latest[name].roles
    for role, count in required.items():
        filled = sum(1 for _, r in result.counted if r is role)
        assert filled <= count
        assert dict(result.missing).get(role, 0) == count - filled
    if result.satisfied and result.counted:
        assert result.holds_until == min(latest[n].signed_at for n in names) + ttl


@settings(max_examples=200, deadline=None)
@given(cases(), st.sampled_from(PEOPLE), st.sampled_from(SIGNING_ROLES))
def test_one_more_valid_signature_never_undoes_a_sign_off(case, who, role):
    required, ttl, requester, signatures = case
    policy = SignoffPolicy.build(required, approval_ttl=ttl)
    before = evaluate_policy(policy, requester, signatures, NOW, subject=SUBJECT)
    extra = Signature(who, frozenset({role}), NOW + timedelta(microseconds=1) - timedelta(seconds=1), SUBJECT)
    after = evaluate_policy(policy, requester, [*signatures, extra], NOW, subject=SUBJECT)
    if who not in {s.approver for s in signatures}:  # a newer signature replaces a person's older one
        assert len(after.counted) >= len(before.counted)
        assert not before.satisfied or after.satisfied


@settings(max_examples=200, deadline=None)
@given(cases())
def test_the_requester_never_counts_whatever_they_sign(case):
    required, ttl, requester, signatures = case
    policy = SignoffPolicy.build(required, approval_ttl=ttl)
    own = [Signature(requester, frozenset(SIGNING_ROLES), NOW, SUBJECT)] * 3
    with_own = evaluate_policy(policy, requester, [*signatures, *own], NOW, subject=SUBJECT)
    without = evaluate_policy(policy, requester, signatures, NOW, subject=SUBJECT)
    assert with_own.satisfied == without.satisfied and with_own.counted == without.counted


def test_examples_a_bank_would_ask_about():
    prod = SignoffPolicy.build(
        {Role.DATA_SCIENTIST: 1, Role.BUSINESS_STAKEHOLDER: 1, Role.RISK_OFFICER: 1},
        approval_ttl=timedelta(hours=48),
    )

    def sign(who, *roles, hours_ago=1, binding=SUBJECT):
        return Signature(who, frozenset(roles), NOW - timedelta(hours=hours_ago), binding)

    ds, bs, ro = SIGNING_ROLES
    # One person holding two roles fills one seat only.
    result = evaluate_policy(prod, "req", [sign("x", ds, bs), sign("r", ro)], NOW, subject=SUBJECT)
    assert not result.satisfied and result.missing_count == 1
    # ...and is placed where needed: with a plain data scientist present, x takes the business seat.
    result = evaluate_policy(
        prod, "req", [sign("x", ds, bs), sign("d", ds), sign("r", ro)], NOW, subject=SUBJECT
    )
    assert result.satisfied and dict(result.counted)["x"] is bs
    # Expired, other artifact, other environment, the requester: none count.
    result = evaluate_policy(
        prod,
        "req",
        [
            sign("d", ds, hours_ago=48),
            sign("b", bs, binding=OTHER_ARTIFACT),
            sign("r", ro, binding=OTHER_TARGET),
            sign("req", ds, bs, ro),
        ],
        NOW,
        subject=SUBJECT,
    )
    assert result.counted == ()
    assert dict(result.ignored) == {
        "d": "expired",
        "b": "given for a different artifact digest",
        "r": "given for a different version or environment",
        "req": "the requester cannot approve their own request",
    }
    assert result.describe_missing() == "1 data scientist, 1 business stakeholder and 1 risk officer"
    # Dev: nothing to sign.
    dev = SignoffPolicy.build({}, approval_ttl=timedelta(hours=1), auto_execute=True)
    assert evaluate_policy(dev, "req", [], NOW, subject=SUBJECT).satisfied


@pytest.mark.parametrize(
    "required",
    [{Role.OPERATOR: 1}, {Role.ADMIN: 1}, {Role.DATA_SCIENTIST: 9}],
    ids=["operator", "admin", "too-many"],
)
def test_policies_only_ask_approver_roles_for_a_sane_count(required):
    with pytest.raises(InvalidInput):
        SignoffPolicy.build(required, approval_ttl=timedelta(hours=24))


def test_approval_validity_is_bounded():
    with pytest.raises(InvalidInput):
        SignoffPolicy.build({}, approval_ttl=timedelta(minutes=5))
    with pytest.raises(InvalidInput):
        SignoffPolicy.build({}, approval_ttl=timedelta(days=365))


# ---- gates ---------------------------------------------------------------------------------------
def test_floors_know_which_way_is_better_and_skip_other_tasks():
    policy = GatePolicy.build(
        {"roc_auc": 0.7, "rmse": 60.0},
        max_regression_pct=None,
        require_load_test=False,
        require_no_critical_alert=False,
    )
    classifier = evaluate_gates(policy, GateInputs({"roc_auc": 0.72, "f1": 0.4}, "roc_auc"))
    assert [(g.gate, g.status) for g in classifier] == [("floor:roc_auc", GateStatus.PASSED)]
    regressor = evaluate_gates(policy, GateInputs({"rmse": 61.0, "r2": 0.8}, "rmse"))
    assert [(g.gate, g.status) for g in regressor] == [("floor:rmse", GateStatus.FAILED)]
    unmeasured = evaluate_gates(policy, GateInputs({"roc_auc": None}, "roc_auc"))
    assert unmeasured[0].status is GateStatus.FAILED


def test_champion_gate_relative_tolerance_and_hold_out():
    policy = GatePolicy.build(
        {}, max_regression_pct=1.0, require_load_test=False, require_no_critical_alert=False
    )

    def run(challenger, champion, same=True, metric="roc_auc"):
        inputs = GateInputs({metric: challenger}, metric, "v1", {metric: champion}, same_holdout=same)
        return evaluate_gates(policy, inputs)[0].status

    assert run(0.80, 0.80) is GateStatus.PASSED
    assert run(0.793, 0.80) is GateStatus.PASSED  # within 1 %
    assert run(0.79, 0.80) is GateStatus.FAILED
    assert run(50.0, 50.0, metric="rmse") is GateStatus.PASSED
    assert run(50.6, 50.0, metric="rmse") is GateStatus.FAILED  # errors: higher is worse
    assert run(0.9, 0.8, same=False) is GateStatus.PENDING
    first = evaluate_gates(policy, GateInputs({"roc_auc": 0.5}, "roc_auc"))
    assert first[0].status is GateStatus.PASSED and "first deployment" in first[0].detail


def test_load_test_is_pending_without_a_scoring_service_and_alerts_block():
    policy = GatePolicy.build(
        {}, max_regression_pct=None, require_load_test=True, require_no_critical_alert=True
    )
    results = evaluate_gates(policy, GateInputs({"roc_auc": 0.9}, "roc_auc", critical_alerts=("tampered",)))
    assert [(g.gate, g.status) for g in results] == [
        ("load_test", GateStatus.PENDING),
        ("critical_alerts", GateStatus.FAILED),
    ]
    assert not gates_pass(results)
    assert gates_pass(evaluate_gates(GatePolicy(require_no_critical_alert=False), GateInputs({}, "roc_auc")))


def test_gate_policy_validation():
    with pytest.raises(InvalidInput, match="unknown metric"):
        GatePolicy.build(
            {"auc": 0.7}, max_regression_pct=None, require_load_test=False, require_no_critical_alert=True
        )
    with pytest.raises(InvalidInput):
        GatePolicy.build({}, max_regression_pct=-1, require_load_test=False, require_no_critical_alert=True)
    with pytest.raises(InvalidInput):
        GatePolicy.build(
            {"roc_auc": float("nan")},
            max_regression_pct=None,
            require_load_test=False,
            require_no_critical_alert=True,
        )


def test_path_rule():
    envs = [(1, "Dev"), (2, "Test"), (5, "Staging"), (3, "Prod")]
    assert path_problem(envs, 1, set()) == ""
    assert path_problem(envs, 2, {1}) == ""
    assert "Dev" in path_problem(envs, 2, set())
    assert "Staging" in path_problem(envs, 3, {1, 2})
    assert path_problem(envs, 3, {5}) == ""
    assert path_problem(envs, 9, set()) == "unknown environment"


# ---- who signs, not which account; voided signatures; the production floor -----------------------
DS, BS, RO = Role.DATA_SCIENTIST, Role.BUSINESS_STAKEHOLDER, Role.RISK_OFFICER


def _sig(name: str, *roles: Role, person: str = "", void: str = "") -> Signature:
    return Signature(name, frozenset(roles), NOW - timedelta(hours=1), SUBJECT, person=person, void=void)


def test_two_accounts_of_one_person_fill_one_seat():
    policy = SignoffPolicy.build({DS: 2}, approval_ttl=timedelta(hours=24))
    signatures = [_sig("dana", DS, person="p-dana"), _sig("dana.sso", DS, person="p-dana")]
    result = evaluate_policy(policy, "req", signatures, NOW, subject=SUBJECT)
    assert not result.satisfied and result.missing_count == 1
    assert ("dana", "the same person as dana.sso: one seat a person") in result.ignored


def test_the_requesters_other_account_never_counts():
    policy = SignoffPolicy.build({DS: 1}, approval_ttl=timedelta(hours=24))
    other = _sig("dana.local-2", DS, person="p-dana")
    result = evaluate_policy(policy, "dana", [other], NOW, subject=SUBJECT, requester_person="p-dana")
    assert not result.satisfied
    assert result.ignored == (("dana.local-2", "signed from another account of the requester"),)


def test_a_void_signature_says_why_and_never_counts():
    policy = SignoffPolicy.build({RO: 1}, approval_ttl=timedelta(hours=24))
    result = evaluate_policy(
        policy, "req", [_sig("rick", RO, void="void: rick was deactivated")], NOW, subject=SUBJECT
    )
    assert not result.satisfied and result.ignored == (("rick", "void: rick was deactivated"),)


def test_the_floor_asks_for_two_people_whatever_the_policy_says():
    empty = SignoffPolicy.build({}, approval_ttl=timedelta(hours=24), auto_execute=True)
    none = evaluate_policy(empty, "req", [], NOW, subject=SUBJECT, min_people=2)
    assert not none.satisfied and none.short_of_floor == 2
    assert none.missing_roles() == frozenset({DS, BS, RO})
    one = evaluate_policy(empty, "req", [_sig("sam", DS)], NOW, subject=SUBJECT, min_people=2)
    assert not one.satisfied and one.short_of_floor == 1 and one.counted == (("sam", DS),)
    same_person = [_sig("sam", DS, person="p"), _sig("sam2", BS, person="p")]
    assert not evaluate_policy(empty, "req", same_person, NOW, subject=SUBJECT, min_people=2).satisfied
    two = evaluate_policy(
        empty, "req", [_sig("sam", DS), _sig("bea", BS)], NOW, subject=SUBJECT, min_people=2
    )
    assert two.satisfied and dict(two.counted) == {"sam": DS, "bea": BS} and two.ignored == ()


def test_the_floor_adds_nothing_where_the_policy_already_asks_for_more():
    prod = SignoffPolicy.build({DS: 1, BS: 1, RO: 1}, approval_ttl=timedelta(hours=24))
    result = evaluate_policy(prod, "req", [_sig("sam", DS)], NOW, subject=SUBJECT, min_people=2)
    assert (
        result.short_of_floor == 0
        and result.describe_missing() == "1 business stakeholder and 1 risk officer"
    )
