"""Promotions on a real database: the path Dev -> Test -> Prod, sign-off, gates, execution, ledger, certificate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.sql import sqltypes
from test_promotions_support import WORSE_MODEL, artifact_path, build_world, to_prod, train_versions

from steward.core.adapters.db import migrate
from steward.core.adapters.notifiers import MemoryNotifier
from steward.core.domain.gates import GatePolicy, GateStatus
from steward.core.domain.promotions import (
    EnvironmentPolicy,
    EvidenceSnapshot,
    LedgerKind,
    PolicyRecord,
    RequestStatus,
    RestoreRecord,
    SignatureRecord,
)
from steward.core.domain.roles import Role
from steward.core.domain.signoff import SignoffPolicy
from steward.core.errors import (
    AlreadyExists,
    IntegrityError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StaleState,
)
from steward.core.steward import Steward
from testkit import make_settings


@pytest.fixture
def world(steward):
    return build_world(steward)


def test_default_policies_exist_for_every_environment(steward):
    policies = {p.environment: p for p in steward.promotions.policies()}
    assert list(policies) == ["Dev", "Test", "Prod"]
    assert policies["Dev"].signoff.auto_execute and not policies["Dev"].signoff.needs_approval
    assert policies["Test"].signoff.counts == {Role.DATA_SCIENTIST: 1}
    assert policies["Prod"].signoff.counts == {
        Role.DATA_SCIENTIST: 1,
        Role.BUSINESS_STAKEHOLDER: 1,
        Role.RISK_OFFICER: 1,
    }
    assert not policies["Prod"].gates.require_load_test
    assert all(p.version == 1 for p in policies.values())  # stored, not just defaults


def test_dev_executes_itself_on_request(world):
    s = world.steward
    request = s.promotions.request(world["dana"], "toy", 1, "Dev", "first look")
    assert request.status is RequestStatus.EXECUTED
    [serving] = s.deployments.serving("Dev")
    assert (serving.version_number, serving.decided_by) == (1, "Dev's policy, automatically (asked by dana)")
    [entry] = s.deployments.ledger("Dev")
    assert entry.kind is LedgerKind.PROMOTION and entry.request_id == request.id
    assert entry.actor == "system:auto-execute"
    actions = [e.action for e in s.audit.recent(3)]
    assert actions[0] == "promotion.execute" and "promotion.request" in actions


def test_a_version_climbs_one_environment_at_a_time(world):
    s, dana = world.steward, world["dana"]
    with pytest.raises(InvalidInput, match="never served in Dev"):
        s.promotions.request(dana, "toy", 1, "Test", "skip Dev")
    s.promotions.request(dana, "toy", 1, "Dev", "try")
    with pytest.raises(InvalidInput, match="never served in Test"):
        s.promotions.request(dana, "toy", 1, "Prod", "skip Test")
    assert dict(s.promotions.targets("toy", 1)) == {
        "Dev": "it serves there now",
        "Test": "",
        "Prod": "it has never served in Test, the environment before",
    }


def test_full_path_to_prod_with_the_prod_policy(world):
    s = world.steward
    to_prod(world)
    request = s.promotions.request(world["dana"], "toy", 1, "Prod", "ready for customers")
    evidence = s.promotions.evidence(request.id)
    assert [name for name, _ in evidence.path] == ["Dev", "Test"]
    assert (
        evidence.signoff.describe_missing() == "1 data scientist, 1 business stakeholder and 1 risk officer"
    )
    with pytest.raises(InvalidInput, match="still needs sign-off"):
        s.promotions.execute(world["otto"], request.id)
    s.promotions.approve(world["sam"], request.id, "metrics hold")
    s.promotions.approve(world["bea"], request.id, "business agrees")
    with pytest.raises(InvalidInput, match="1 risk officer"):
        s.promotions.execute(world["otto"], request.id)
    s.promotions.approve(world["rick"], request.id, "risk accepted")
    with pytest.raises(PermissionDenied):
        s.promotions.execute(world["sam"], request.id)  # data scientists do not deploy to Prod
    entry = s.promotions.execute(world["otto"], request.id)
    assert entry.environment_name == "Prod" and entry.version_number == 1
    assert {a.approver: a.counted_as for a in entry.approvals} == {
        "sam": Role.DATA_SCIENTIST,
        "bea": Role.BUSINESS_STAKEHOLDER,
        "rick": Role.RISK_OFFICER,
    }
    assert s.promotions.get(request.id).status is RequestStatus.EXECUTED
    assert s.audit.verify().chain.ok


def test_requester_never_approves_and_roles_must_be_asked_for(world):
    s = world.steward
    s.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    test = s.promotions.request(world["dana"], "toy", 1, "Test", "checks")
    with pytest.raises(InvalidInput, match="someone else"):
        s.promotions.approve(world["dana"], test.id)
    with pytest.raises(InvalidInput, match="not among them"):
        s.promotions.approve(world["bea"], test.id, "I am not asked")
    with pytest.raises(PermissionDenied):
        s.promotions.approve(world["otto"], test.id)
    with pytest.raises(PermissionDenied):
        s.promotions.approve(world["ada"], test.id)  # admins are not approvers
    s.promotions.approve(world["sam"], test.id)
    with pytest.raises(AlreadyExists):
        s.promotions.approve(world["sam"], test.id)


def test_one_person_with_two_roles_counts_once(world):
    s = world.steward
    s.users.set_roles(world["ada"], "sam", ["data_scientist", "business_stakeholder"])
    to_prod(world)
    request = s.promotions.request(world["dana"], "toy", 1, "Prod", "go")
    s.promotions.approve(world["sam"], request.id)
    s.promotions.approve(world["rick"], request.id)
    evidence = s.promotions.evidence(request.id)
    assert not evidence.signoff.satisfied
    assert evidence.signoff.missing_count == 1
    s.promotions.approve(world["bea"], request.id)
    assert s.promotions.evidence(request.id).signoff.satisfied


def test_approvals_expire(world, clock):
    s = world.steward
    s.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    test = s.promotions.request(world["dana"], "toy", 1, "Test", "checks")
    s.promotions.approve(world["sam"], test.id)
    clock.advance(hours=72)
    evidence = s.promotions.evidence(test.id)
    assert not evidence.signoff.satisfied
    assert ("sam", "expired") in evidence.signoff.ignored
    with pytest.raises(InvalidInput, match="still needs"):
        s.promotions.execute(world["otto"], test.id)
    s.promotions.approve(world["sam"], test.id, "renewed")  # a fresh signature is allowed once expired
    assert s.promotions.execute(world["otto"], test.id).version_number == 1


def test_a_deactivated_approver_no_longer_counts(world):
    s = world.steward
    s.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    test = s.promotions.request(world["dana"], "toy", 1, "Test", "checks")
    s.promotions.approve(world["sam"], test.id)
    s.users.set_active(world["ada"], "sam", False)
    with pytest.raises(InvalidInput, match="1 data scientist"):
        s.promotions.execute(world["otto"], test.id)


def test_rejection_needs_a_comment_and_ends_the_request(world):
    s = world.steward
    s.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    test = s.promotions.request(world["dana"], "toy", 1, "Test", "checks")
    with pytest.raises(InvalidInput, match="comment"):
        s.promotions.reject(world["sam"], test.id, "  ")
    rejected = s.promotions.reject(world["sam"], test.id, "the hold-out is too small")
    assert rejected.status is RequestStatus.REJECTED and rejected.close_comment == "the hold-out is too small"
    with pytest.raises(StaleState, match="changed since you loaded it"):
        s.promotions.approve(world["sam"], test.id)
    with pytest.raises(StaleState):
        s.promotions.execute(world["otto"], test.id)


def test_changing_the_artifact_after_approval_blocks_execution(world):
    s = world.steward
    s.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    test = s.promotions.request(world["dana"], "toy", 1, "Test", "checks")
    s.promotions.approve(world["sam"], test.id, "fine")
    path = artifact_path(s, world.versions[0])
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(IntegrityError, match="changed after it was requested"):
        s.promotions.execute(world["otto"], test.id)
    assert s.deployments.serving("Test") == []
    assert s.promotions.get(test.id).status is RequestStatus.PENDING
    recent = [(e.action, e.outcome.value) for e in s.audit.recent(3)]
    assert ("promotion.execute", "failed") in recent and ("artifact.integrity_failed", "failed") in recent
    gates = {g.gate: g for g in s.promotions.evidence(test.id).gates}
    assert gates["critical_alerts"].status is GateStatus.FAILED  # the alarm is now an open critical alert


def test_execution_from_a_stale_page_changes_nothing(world):
    s = world.steward
    s.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    test = s.promotions.request(world["dana"], "toy", 1, "Test", "checks")
    seen = s.promotions.get(test.id).version
    s.promotions.approve(world["sam"], test.id)
    s.promotions.execute(world["otto"], test.id, expected_version=seen)
    with pytest.raises(StaleState, match="changed since you loaded it"):
        s.promotions.execute(world["opal"], test.id, expected_version=seen)
    assert len(s.deployments.ledger("Test")) == 1


def test_a_newer_deployment_supersedes_pending_requests(world):
    s, dana = world.steward, world["dana"]
    s.promotions.request(dana, "toy", 1, "Dev", "try v1")
    older = s.promotions.request(dana, "toy", 1, "Test", "v1 to test")
    s.promotions.request(dana, "toy", 2, "Dev", "try v2")
    newer = s.promotions.request(dana, "toy", 2, "Test", "v2 to test")
    s.promotions.approve(world["sam"], newer.id)
    s.promotions.execute(world["otto"], newer.id)
    superseded = s.promotions.get(older.id)
    assert superseded.status is RequestStatus.SUPERSEDED and "v2 started serving" in superseded.close_comment


def test_rollback_to_a_past_entry_is_a_ledger_entry_and_needs_an_operator_in_prod(world):
    s = world.steward
    to_prod(world, 1)
    s.promotions.request(world["dana"], "toy", 2, "Dev", "v2")
    test = s.promotions.request(world["dana"], "toy", 2, "Test", "v2")
    s.promotions.approve(world["sam"], test.id)
    s.promotions.execute(world["otto"], test.id)
    first = s.deployments.ledger("Test")[-1]
    assert first.version_number == 1 and first.ended_at is not None
    [serving] = s.deployments.serving("Test")
    assert (serving.version_number, serving.fallback_number) == (2, 1)
    with pytest.raises(InvalidInput, match="reason"):
        s.deployments.rollback(world["sam"], first.id, "")
    back = s.deployments.rollback(world["sam"], first.id, "v2 misbehaves", expected_version=serving.version)
    assert back.kind is LedgerKind.ROLLBACK and back.rollback_to_entry_id == first.id
    assert [a.approver for a in back.approvals] == ["sam"]  # the approvals that put v1 there first
    [serving] = s.deployments.serving("Test")
    assert (serving.version_number, serving.fallback_number) == (1, 2)
    assert s.audit.recent(1)[0].action == "deployment.rollback"
    with pytest.raises(StaleState):
        s.deployments.rollback(world["sam"], first.id, "again, from a stale page", expected_version=1)
    # In Prod only operators (and admins) roll back.
    prod = s.promotions.request(world["dana"], "toy", 1, "Prod", "go")
    for name in ("sam", "bea", "rick"):
        s.promotions.approve(world[name], prod.id)
    s.promotions.execute(world["otto"], prod.id)
    prod2 = s.promotions.request(world["dana"], "toy", 2, "Prod", "go v2")
    for name in ("sam", "bea", "rick"):
        s.promotions.approve(world[name], prod2.id)
    s.promotions.execute(world["otto"], prod2.id)
    oldest = s.deployments.ledger("Prod")[-1]
    with pytest.raises(PermissionDenied):
        s.deployments.rollback(world["sam"], oldest.id, "not mine to do")
    assert s.deployments.rollback(world["otto"], oldest.id, "back to v1").version_number == 1


def test_failover_swaps_to_the_armed_fallback(world):
    s = world.steward
    s.promotions.request(world["dana"], "toy", 1, "Dev", "v1")
    s.promotions.request(world["dana"], "toy", 2, "Dev", "v2")
    entry = s.deployments.failover(world["dana"], "Dev", "toy", "v2 times out")
    assert entry.kind is LedgerKind.FAILOVER and entry.version_number == 1
    [serving] = s.deployments.serving("Dev")
    assert (serving.version_number, serving.fallback_number) == (1, 2)


def test_gates_floor_and_champion(world):
    s = world.steward
    admin = world["ada"]
    signoff = s.promotions.policy("Test").signoff
    s.promotions.set_policy(
        admin,
        "Test",
        signoff,
        GatePolicy.build(
            {"roc_auc": 0.99}, max_regression_pct=0.0, require_load_test=True, require_no_critical_alert=True
        ),
    )
    s.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    test = s.promotions.request(world["dana"], "toy", 1, "Test", "checks")
    s.promotions.approve(world["sam"], test.id)
    gates = {g.gate: g for g in s.promotions.evidence(test.id).gates}
    assert gates["floor:roc_auc"].status is GateStatus.FAILED
    assert gates["champion"].status is GateStatus.PASSED  # nothing serves yet
    assert gates["load_test"].status is GateStatus.PENDING and "no SLA targets" in gates["load_test"].detail
    with pytest.raises(InvalidInput, match="gate"):
        s.promotions.execute(world["otto"], test.id)
    assert s.audit.recent(1)[0].outcome.value == "failed"


def test_worse_challenger_fails_the_champion_gate(world):
    s = world.steward
    to_prod(world, 1)
    [worse] = train_versions(s, world["dana"], 1, model=WORSE_MODEL)  # a stump: same data, same hold-out
    s.promotions.request(world["dana"], "toy", worse.number, "Dev", "worse")
    test = s.promotions.request(world["dana"], "toy", worse.number, "Test", "worse")
    s.promotions.approve(world["sam"], test.id)
    evidence = s.promotions.evidence(test.id)
    assert evidence.same_holdout and evidence.champion is not None and evidence.champion.number == 1
    row = evidence.metric_rows[0]
    assert row.metric == "roc_auc" and row.better is False
    champion_gate = next(g for g in evidence.gates if g.gate == "champion")
    assert champion_gate.status is GateStatus.FAILED and "against" in champion_gate.detail
    with pytest.raises(InvalidInput, match="no worse than"):
        s.promotions.execute(world["otto"], test.id)


def test_policy_changes_are_admin_only_validated_and_audited(world):
    s = world.steward
    prod = s.promotions.policy("Prod")
    with pytest.raises(PermissionDenied):
        s.promotions.set_policy(world["rick"], "Prod", prod.signoff, prod.gates)
    with pytest.raises(InvalidInput):
        SignoffPolicy.build({Role.OPERATOR: 1}, approval_ttl=timedelta(hours=24))
    stricter = SignoffPolicy.build(
        {Role.DATA_SCIENTIST: 2, Role.BUSINESS_STAKEHOLDER: 1, Role.RISK_OFFICER: 1},
        approval_ttl=timedelta(hours=24),
    )
    changed = s.promotions.set_policy(
        world["ada"], "Prod", stricter, prod.gates, expected_version=prod.version
    )
    assert isinstance(
        changed, EnvironmentPolicy
    )  # stricter applies at once; lowering waits (test_governance)
    assert changed.signoff.counts == {
        Role.DATA_SCIENTIST: 2,
        Role.BUSINESS_STAKEHOLDER: 1,
        Role.RISK_OFFICER: 1,
    }
    event = s.audit.recent(1)[0]
    assert event.action == "policy.update" and event.before["required"]["data_scientist"] == 1
    assert event.after["required"] == {"data_scientist": 2, "business_stakeholder": 1, "risk_officer": 1}
    with pytest.raises(StaleState):
        s.promotions.set_policy(world["ada"], "Prod", prod.signoff, prod.gates, expected_version=prod.version)


def test_an_added_environment_gets_its_tier_default_and_joins_the_path(world):
    s = world.steward
    s.environments.add(world["ada"], "Staging", "test", after="Test")
    assert s.promotions.policy("Staging").signoff.counts == {Role.DATA_SCIENTIST: 1}
    to_prod(world)
    with pytest.raises(InvalidInput, match="never served in Staging"):
        s.promotions.request(world["dana"], "toy", 1, "Prod", "skip staging")


def test_certificate_names_everyone_and_escapes_everything(world):
    s = world.steward
    to_prod(world)
    s.users.create(
        world["ada"],
        "bob",
        roles=["business_stakeholder"],
        password="a-long-test-password",
        display_name="<script>alert(1)</script>",
    )
    from testkit import sign_in

    bob = sign_in(s, "bob")
    request = s.promotions.request(world["dana"], "toy", 1, "Prod", 'reason with <b>markup</b> & "quotes"')
    s.promotions.approve(world["sam"], request.id, "ok")
    s.promotions.approve(bob, request.id, "<img src=x onerror=alert(1)>")
    s.promotions.approve(world["rick"], request.id, "risk ok")
    entry = s.promotions.execute(world["otto"], request.id)
    html = s.promotions.certificate_html(entry.id)
    assert "<script>" not in html and "<img" not in html and "<b>markup" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    version = world.versions[0]
    for needle in ("sam", "rick", "otto", "dana", version.artifact_sha256, version.data_digest):
        assert needle in html
    certificate = s.promotions.certificate(entry.id)
    assert certificate.chain_ok
    seqs = [seq for seq, *_ in certificate.audit]
    assert entry.audit_seq in seqs and request.audit_seq in seqs and len(seqs) == 5
    pdf = s.promotions.certificate_pdf(entry.id)
    assert pdf.startswith(b"%PDF")


def test_notifications_go_out_after_commit(tmp_path, database_url, clock):
    notifier = MemoryNotifier()
    steward = Steward(make_settings(tmp_path, database_url), clock=clock, notifier=notifier)
    steward.upgrade_database()
    try:
        world = build_world(steward, versions=1)
        steward.promotions.request(world["dana"], "toy", 1, "Dev", "try")
        test = steward.promotions.request(world["dana"], "toy", 1, "Test", "checks")
        steward.promotions.reject(world["sam"], test.id, "no")
        again = steward.promotions.request(world["dana"], "toy", 1, "Test", "again")
        steward.promotions.approve(world["sam"], again.id, "yes")
        steward.promotions.execute(world["otto"], again.id)
        topics = [n.topic for n in notifier.sent]
        assert topics == [
            "promotion.requested",
            "promotion.executed",
            "promotion.requested",
            "promotion.rejected",
            "promotion.requested",
            "promotion.approved",
            "promotion.executed",
        ]
        assert notifier.sent[2].recipients == ("sam",)  # Test asks data scientists, not the requester
    finally:
        steward.close()


def test_pipeline_overview_shows_where_versions_serve(world):
    s = world.steward
    s.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    [overview] = s.pipelines.list()
    assert overview.deployed == {"Dev": 1}


def test_unknown_things_are_named(world):
    s = world.steward
    with pytest.raises(NotFound, match="environment"):
        s.promotions.request(world["dana"], "toy", 1, "Nowhere", "x")
    with pytest.raises(NotFound, match="no version 9"):
        s.promotions.request(world["dana"], "toy", 9, "Dev", "x")
    with pytest.raises(NotFound):
        s.promotions.get(12345)
    with pytest.raises(InvalidInput, match="reason"):
        s.promotions.request(world["dana"], "toy", 1, "Dev", "")
    with pytest.raises(InvalidInput, match="control"):
        s.promotions.request(world["dana"], "toy", 1, "Dev", "bidi \u202e trick")


def test_the_ledger_keeps_typed_records_of_what_was_decided(world):
    s = world.steward
    to_prod(world)
    request = s.promotions.request(world["dana"], "toy", 1, "Prod", "ready")
    for name in ("sam", "bea", "rick"):
        s.promotions.approve(world[name], request.id, f"{name} agrees")
    executed = s.promotions.execute(world["otto"], request.id)
    entry = s.deployments.entry(executed.id)
    assert entry == executed  # what execution returned is what the ledger reads back
    assert entry.policy == s.promotions.policy("Prod").record()
    assert entry.evidence is not None and entry.restores is None
    assert entry.evidence.challenger is not None and entry.evidence.challenger.version == 1
    assert entry.evidence.champion is None and entry.evidence.requested_by == "dana"
    assert [name for name, _ in entry.evidence.path] == ["Dev", "Test"]
    assert entry.evidence.metric_names()[0] == "roc_auc"
    assert {a.approver: (a.counted_as, a.comment) for a in entry.approvals} == {
        "sam": (Role.DATA_SCIENTIST, "sam agrees"),
        "bea": (Role.BUSINESS_STAKEHOLDER, "bea agrees"),
        "rick": (Role.RISK_OFFICER, "rick agrees"),
    }
    assert all(a.decided_at == s.ctx.clock.now() for a in entry.approvals)
    # What the ledger stores round-trips through its JSON columns exactly.
    assert entry.policy is not None and PolicyRecord.from_dict(entry.policy.to_dict()) == entry.policy
    assert EvidenceSnapshot.from_dict(entry.evidence.to_dict()) == entry.evidence
    assert tuple(SignatureRecord.from_dict(a.to_dict()) for a in entry.approvals) == entry.approvals


def test_a_rollback_records_what_it_restores(world):
    s = world.steward
    s.promotions.request(world["dana"], "toy", 1, "Dev", "v1")
    first = s.deployments.ledger("Dev")[0]
    s.promotions.request(world["dana"], "toy", 2, "Dev", "v2")
    back = s.deployments.rollback(world["dana"], first.id, "v2 misbehaves")
    assert back.evidence is None
    assert back.restores == RestoreRecord(restores_entry=first.id, approved_in_entry=first.id)
    assert back.policy == first.policy  # the policy that first put v1 there


def test_structured_columns_are_json_and_survive_migration_0010_both_ways(world):
    """0010 turns the TEXT columns holding JSON into JSON columns and back, keeping every value."""
    s = world.steward
    to_prod(world)
    request = s.promotions.request(world["dana"], "toy", 1, "Prod", "ready")
    for name in ("sam", "bea", "rick"):
        s.promotions.approve(world[name], request.id)
    entry = s.promotions.execute(world["otto"], request.id)
    before = (s.deployments.ledger(), s.promotions.policies(), s.promotions.get(request.id))

    def types() -> dict[str, type]:
        inspector = inspect(s.engines.read)
        return {
            f"{table}.{column['name']}": type(column["type"])
            for table in ("signoff_policies", "promotion_approvals", "deployment_ledger")
            for column in inspector.get_columns(table)
            if column["name"].endswith("_json")
        }

    assert len(types()) == 7 and all(issubclass(t, sqltypes.JSON) for t in types().values()), types()
    previous = (
        ScriptDirectory.from_config(migrate.alembic_config(s.engines)).get_revision("0010").down_revision
    )
    migrate.downgrade(s.engines, str(previous))
    assert not any(issubclass(t, sqltypes.JSON) for t in types().values()), types()
    migrate.upgrade(s.engines)
    assert all(issubclass(t, sqltypes.JSON) for t in types().values()), types()
    assert (s.deployments.ledger(), s.promotions.policies(), s.promotions.get(request.id)) == before
    assert s.promotions.certificate(entry.id).chain_ok
