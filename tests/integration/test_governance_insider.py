"""Governance against an insider (issue 14, findings 2, 4 and 5), on SQLite and PostgreSQL.

Each test plays what a hostile insider did when the findings were written and
asserts the refusal: an approval row forged with raw SQL counts for nothing
(and verify and the certificate name it); a voided signature stays void when
the role or the account comes back; one admin cannot open Prod by lowering its
policy, and the floor of two people holds even against a policy row edited
in the database.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text
from test_promotions_support import build_world, to_prod

from steward.core.domain.policy_rules import ChangeStatus, PolicyChange
from steward.core.domain.promotions import EnvironmentPolicy, RequestStatus
from steward.core.domain.roles import Role
from steward.core.domain.signoff import SignoffPolicy
from steward.core.errors import InvalidInput, StaleState
from testkit import add_user, sign_in


@pytest.fixture
def world(steward):
    return build_world(steward)


def prod_request(world, reason: str = "for customers"):
    to_prod(world)
    return world.steward.promotions.request(world["dana"], "toy", 1, "Prod", reason)


def forge_approval(steward, request_id: int, approver: str, roles: list[str], audit_seq: int | None) -> None:
    """What a database writer can do: copy a real approval's binding and claim it for someone else."""
    with steward.engines.write.begin() as db:
        row = db.execute(
            text(
                "SELECT version_id, artifact_sha256, environment_id, decided_at FROM promotion_approvals "
                "WHERE request_id = :r ORDER BY id LIMIT 1"
            ),
            {"r": request_id},
        ).one()
        db.execute(
            text(
                "INSERT INTO promotion_approvals (request_id, approver, approver_name, roles_json, decision, "
                "comment, decided_at, version_id, artifact_sha256, environment_id, audit_seq, voided_roles, "
                "void_reason) VALUES (:r, :a, :a, :roles, 'approve', 'forged', :at, :v, :d, :e, :seq, '[]', '')"
            ),
            {
                "r": request_id,
                "a": approver,
                "roles": f'["{roles[0]}"]' if len(roles) == 1 else str(roles).replace("'", '"'),
                "at": row.decided_at,
                "v": row.version_id,
                "d": row.artifact_sha256,
                "e": row.environment_id,
                "seq": audit_seq,
            },
        )


# ---- finding 2: an approval counts only with its own, matching, verified audit event ----------------
def test_a_forged_approval_row_counts_for_nothing_and_verify_and_the_certificate_name_it(world):
    s = world.steward
    request = prod_request(world)
    s.promotions.approve(world["sam"], request.id, "metrics hold")
    s.promotions.approve(world["bea"], request.id, "business agrees")
    sam_event = s.promotions.get(request.id).approvals[0].audit_seq
    forge_approval(s, request.id, "rick", ["risk_officer"], sam_event)  # points at sam's event

    evidence = s.promotions.evidence(request.id)
    assert not evidence.signoff.satisfied and evidence.signoff.describe_missing() == "1 risk officer"
    reasons = dict(evidence.signoff.ignored)
    assert f"records approval #{s.promotions.get(request.id).approvals[0].id}" in reasons["rick"]
    with pytest.raises(InvalidInput, match="1 risk officer"):
        s.promotions.execute(world["otto"], request.id)

    verdict = s.audit.verify()
    assert verdict.chain.ok and not verdict.ok  # the chain itself is intact: the row is the lie
    [line] = verdict.signature_problems
    assert f"request #{request.id} by rick" in line and f"#{sam_event}" in line
    assert "signature NOT BACKED" in verdict.summary()


def test_a_forged_approval_without_an_event_or_with_another_requests_event_is_named(world):
    s = world.steward
    request = prod_request(world)
    s.promotions.approve(world["sam"], request.id)
    forge_approval(s, request.id, "bea", ["business_stakeholder"], None)
    request_event = s.promotions.get(request.id).audit_seq  # the request's own event: wrong action
    forge_approval(s, request.id, "rick", ["risk_officer"], request_event)
    ignored = dict(s.promotions.evidence(request.id).signoff.ignored)
    assert ignored["bea"] == "not counted: it has no audit event"
    assert "records promotion.request" in ignored["rick"]
    assert len(s.audit.verify().signature_problems) == 2


def test_a_signature_claiming_roles_its_event_does_not_record_is_refused(world):
    s = world.steward
    request = prod_request(world)
    s.promotions.approve(world["bea"], request.id)
    with s.engines.write.begin() as db:  # bea's row now claims risk officer too
        db.execute(
            text("UPDATE promotion_approvals SET roles_json = :r WHERE approver = 'bea'"),
            {"r": '["business_stakeholder", "risk_officer"]'},
        )
    s.users.set_roles(world["ada"], "bea", ["business_stakeholder", "risk_officer"])
    ignored = dict(s.promotions.evidence(request.id).signoff.ignored)
    assert "claims roles (risk_officer)" in ignored["bea"]


def test_the_certificate_flags_a_signature_forged_after_execution(world):
    s = world.steward
    request = prod_request(world)
    for name in ("sam", "bea", "rick"):
        s.promotions.approve(world[name], request.id)
    entry = s.promotions.execute(world["otto"], request.id)
    assert s.promotions.certificate(entry.id).chain_ok
    forge_approval(s, request.id, "opal", ["risk_officer"], None)
    certificate = s.promotions.certificate(entry.id)
    assert not certificate.chain_ok
    assert certificate.mismatches == ("opal's signature: it has no audit event",)
    assert "opal&#x27;s signature: it has no audit event" in s.promotions.certificate_html(entry.id) or (
        "opal's signature: it has no audit event" in s.promotions.certificate_html(entry.id)
    )


# ---- finding 4: a voided signature stays void -------------------------------------------------------
def test_deactivation_voids_a_signature_and_reactivation_does_not_revive_it(world):
    s = world.steward
    request = prod_request(world)
    for name in ("sam", "bea", "rick"):
        s.promotions.approve(world[name], request.id)
    assert s.promotions.evidence(request.id).signoff.satisfied
    s.users.set_active(world["ada"], "rick", False)
    s.users.set_active(world["ada"], "rick", True)
    evidence = s.promotions.evidence(request.id)
    assert not evidence.signoff.satisfied
    assert dict(evidence.signoff.ignored)["rick"] == "void: rick was deactivated after signing"
    with pytest.raises(InvalidInput, match="1 risk officer"):
        s.promotions.execute(world["otto"], request.id)
    voided = [e for e in s.audit.recent(5) if e.action == "promotion.signature_voided"]
    assert voided and voided[0].after["approver"] == "rick"
    rick = sign_in(s, "rick")
    s.promotions.approve(rick, request.id, "still agree")  # a fresh signature is allowed
    assert s.promotions.execute(world["otto"], request.id).version_number == 1


def test_a_removed_role_voids_for_good_and_a_narrowed_signature_keeps_its_other_role(world):
    s = world.steward
    s.users.set_roles(world["ada"], "sam", ["data_scientist", "business_stakeholder"])
    request = prod_request(world)
    s.promotions.approve(world["bea"], request.id)
    s.promotions.approve(sign_in(s, "sam"), request.id)  # counts as data scientist
    s.promotions.approve(world["rick"], request.id)
    s.users.set_roles(world["ada"], "rick", ["viewer"])
    s.users.set_roles(world["ada"], "rick", ["risk_officer"])  # given back: the signature stays void
    s.users.set_roles(world["ada"], "sam", ["data_scientist"])  # loses a role it did not sign for here
    evidence = s.promotions.evidence(request.id)
    assert evidence.signoff.describe_missing() == "1 risk officer"
    assert dict(evidence.signoff.counted) == {"sam": Role.DATA_SCIENTIST, "bea": Role.BUSINESS_STAKEHOLDER}
    actions = [e.action for e in s.audit.recent(8)]
    assert "promotion.signature_voided" in actions and "promotion.signature_narrowed" in actions


def sso(steward, groups: list[str], at: int):
    """A real SSO sign-in through the service, as the app makes it from the ID token's claims."""
    claims = {"iss": "https://idp.example", "sub": "remy-1", "preferred_username": "remy", "groups": groups}
    return steward.auth.sso_sign_in({**claims, "iat": at, "nonce": f"n{at}"}, source="127.0.0.1")


def signed_by_remy(world):
    s = world.steward
    mapping = s.group_mappings.add(world["ada"], "risk", "risk_officer")
    remy = sso(s, ["risk"], 1)
    assert remy.roles == frozenset({Role.RISK_OFFICER})
    request = prod_request(world)
    for signer in (world["sam"], world["bea"], remy):
        s.promotions.approve(signer, request.id)
    assert s.promotions.evidence(request.id).signoff.satisfied
    return request, mapping, remy


def test_removing_the_group_mapping_voids_signatures_given_through_it(world):
    s = world.steward
    request, mapping, remy = signed_by_remy(world)
    s.group_mappings.remove(world["ada"], mapping.id)
    s.group_mappings.add(world["ada"], "risk", "risk_officer")  # mapped again: the signature stays void
    ignored = dict(s.promotions.evidence(request.id).signoff.ignored)
    assert (
        ignored[remy.username]
        == f"void: {remy.username} no longer holds the risk officer role they signed as"
    )


def test_an_sso_sign_in_without_the_group_voids_and_the_group_coming_back_does_not_revive(world, clock):
    s = world.steward
    request, _mapping, remy = signed_by_remy(world)
    clock.advance(minutes=1)
    sso(s, [], 2)  # the identity provider stopped sending the group
    clock.advance(minutes=1)
    sso(s, ["risk"], 3)  # and sends it again
    evidence = s.promotions.evidence(request.id)
    assert not evidence.signoff.satisfied
    assert "no longer holds the risk officer role" in dict(evidence.signoff.ignored)[remy.username]
    voided = next(e for e in s.audit.recent(10) if e.action == "promotion.signature_voided")
    assert voided.actor == "system:sso-groups"


# ---- finding 5: a floor under production, four eyes on lowering it -----------------------------------
NO_SIGNOFF = SignoffPolicy.build({}, approval_ttl=timedelta(hours=24), auto_execute=True)


def test_one_admin_cannot_remove_prods_sign_off_and_the_attempt_is_audited(world):
    s = world.steward
    prod = s.promotions.policy("Prod")
    with pytest.raises(InvalidInput, match="at least 2 people besides the requester"):
        s.promotions.set_policy(world["ada"], "Prod", NO_SIGNOFF, prod.gates)
    one = SignoffPolicy.build({Role.DATA_SCIENTIST: 1}, approval_ttl=timedelta(hours=24))
    with pytest.raises(InvalidInput, match="at least 2 people"):
        s.promotions.set_policy(world["ada"], "Prod", one, prod.gates)
    refusal = s.audit.recent(1)[0]
    assert (refusal.action, refusal.outcome.value, refusal.object_id) == ("policy.update", "failed", "Prod")
    assert s.promotions.policy("Prod").version == prod.version


def test_lowering_prod_waits_for_a_second_admin_and_never_the_proposer(world):
    s = world.steward
    add_user(s, "adam", "admin")
    adam = sign_in(s, "adam")
    prod = s.promotions.policy("Prod")
    two = SignoffPolicy.build(
        {Role.DATA_SCIENTIST: 1, Role.RISK_OFFICER: 1}, approval_ttl=timedelta(hours=24), auto_execute=True
    )
    change = s.promotions.set_policy(world["ada"], "Prod", two, prod.gates, reason="fewer seats")
    assert isinstance(change, PolicyChange) and change.pending
    assert change.lowers == (
        "sign-off from 1 business stakeholder becomes none",
        "it would deploy itself once signed off (auto-execute)",
    )
    assert s.promotions.policy("Prod").signoff.counts == prod.signoff.counts  # nothing applied yet
    assert s.audit.recent(1)[0].action == "policy.change_proposed"
    with pytest.raises(InvalidInput, match="another admin must approve it"):
        s.promotions.approve_policy_change(world["ada"], change.id)
    applied = s.promotions.approve_policy_change(adam, change.id, "agreed at the risk committee")
    assert applied.status is ChangeStatus.APPLIED and applied.decided_by == "adam"
    now = s.promotions.policy("Prod")
    assert now.signoff.counts == {Role.DATA_SCIENTIST: 1, Role.RISK_OFFICER: 1}
    update = s.audit.recent(1)[0]
    assert update.action == "policy.update" and "proposed by ada, approved by adam" in update.detail
    with pytest.raises(StaleState):
        s.promotions.approve_policy_change(adam, change.id)


def test_a_proposal_goes_stale_when_the_policy_changes_and_the_proposer_can_withdraw(world):
    s = world.steward
    add_user(s, "adam", "admin")
    adam = sign_in(s, "adam")
    prod = s.promotions.policy("Prod")
    lower = SignoffPolicy.build(
        {Role.DATA_SCIENTIST: 1, Role.RISK_OFFICER: 1}, approval_ttl=timedelta(hours=24)
    )
    change = s.promotions.set_policy(world["ada"], "Prod", lower, prod.gates)
    assert isinstance(change, PolicyChange)
    stricter = s.promotions.set_policy(
        adam, "Prod", prod.signoff, replace(prod.gates, require_load_test=True)
    )
    assert isinstance(stricter, EnvironmentPolicy)
    with pytest.raises(StaleState, match="changed after change"):
        s.promotions.approve_policy_change(adam, change.id)
    withdrawn = s.promotions.reject_policy_change(world["ada"], change.id, "no longer needed")
    assert withdrawn.status is ChangeStatus.WITHDRAWN
    assert s.promotions.policy_changes(pending_only=True) == []


def test_the_floor_holds_even_against_a_policy_row_edited_in_the_database(world):
    s = world.steward
    to_prod(world)
    with s.engines.write.begin() as db:  # what the finding did, now by raw SQL instead of the service
        db.execute(
            text(
                "UPDATE signoff_policies SET required_json = '{}', auto_execute = :yes WHERE environment_id = "
                "(SELECT id FROM environments WHERE name = 'Prod')"
            ),
            {"yes": True},
        )
    request = s.promotions.request(world["dana"], "toy", 1, "Prod", "sneak in")
    assert request.status is RequestStatus.PENDING  # the policy said deploy yourself; the floor did not
    evidence = s.promotions.evidence(request.id)
    assert evidence.signoff.short_of_floor == 2
    assert "2 more people with any approver role" in evidence.signoff.describe_missing()
    s.promotions.approve(world["sam"], request.id)
    assert s.promotions.evidence(request.id).signoff.short_of_floor == 1
    s.promotions.approve(world["bea"], request.id)
    assert s.promotions.get(request.id).status is RequestStatus.EXECUTED  # two people: the floor is met


def test_every_default_and_seeded_prod_policy_meets_the_floor(steward):
    for policy in steward.promotions.policies():
        if policy.tier.value == "prod":
            assert len(policy.signoff.seats) >= 2
