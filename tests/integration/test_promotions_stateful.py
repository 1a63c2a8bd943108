"""A stateful property test: people request, approve, reject, execute, roll back and lose their accounts
in random order on a real database (SQLite and PostgreSQL); after every step the invariants hold:

- exactly one serving version per environment and pipeline, and it is what the ledger says last;
- every serving version got there by a promotion whose recorded sign-offs satisfy the recorded policy
  for exactly its artifact digest (re-checked with the pure policy function);
- nothing reached an environment without having served in the one before it (Prod without Test);
- every executed request has exactly one ledger entry, and the audit chain verifies.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import delete, select
from test_promotions_support import build_world

from steward.core.adapters.db.models import (
    DeploymentRow,
    EnvironmentRow,
    LedgerEntryRow,
    PipelineVersionRow,
    PromotionApprovalRow,
    PromotionRequestRow,
)
from steward.core.adapters.db.queries import promotion_origin
from steward.core.domain.promotions import LedgerKind, RequestStatus
from steward.core.domain.roles import Role
from steward.core.domain.signoff import Binding, Signature, SignoffPolicy, evaluate_policy
from steward.core.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied, StaleState
from steward.core.services.uow import UnitOfWork
from testkit import sign_in

EXPECTED = (AlreadyExists, InvalidInput, NotFound, PermissionDenied, StaleState)
ENVIRONMENTS = ["Dev", "Test", "Prod"]
DEACTIVATABLE = ["sam", "bea", "rick", "otto", "dana"]
SIGNERS = {
    "sam": {Role.DATA_SCIENTIST},
    "dana": {Role.DATA_SCIENTIST},
    "bea": {Role.BUSINESS_STAKEHOLDER},
    "rick": {Role.RISK_OFFICER},
}


def test_promotion_invariants_under_random_interleavings(steward, clock):
    world = build_world(steward, versions=3)
    s, admin = steward, world["ada"]
    start = clock.now()
    reached: Counter[str] = Counter()  # what the random runs got to, so a dull run shows up as a failure

    class Promotions(RuleBasedStateMachine):
        @initialize()
        def fresh_start(self) -> None:
            """Each example starts with nothing deployed and everyone active (versions and audit stay)."""
            with UnitOfWork(s.ctx) as uow:
                for table in (DeploymentRow, LedgerEntryRow, PromotionApprovalRow, PromotionRequestRow):
                    uow.session.execute(delete(table))
                uow.commit()
            clock.set(start)
            for name in DEACTIVATABLE:
                if not s.users.get(admin, name).active:
                    s.users.set_active(admin, name, True)
                    world.people[name] = sign_in(s, name)
            self.executed: set[int] = set()

        def _pick(self, data: st.DataObject) -> int | None:
            """A request: usually a pending one (where things happen), sometimes any (closed ones must refuse)."""
            everything = s.promotions.list()
            pending = [r.id for r in everything if r.open]
            choices = [r.id for r in everything]
            if not choices:
                return None
            return data.draw(
                st.sampled_from(pending if pending and data.draw(st.integers(0, 3)) else choices)
            )

        @rule(
            data=st.data(),
            number=st.integers(min_value=1, max_value=3),
            who=st.sampled_from(["dana", "sam", "otto", "bea"]),
        )
        def request(self, data: st.DataObject, number: int, who: str, env: str | None = None) -> None:
            if env is None:
                served = {e.environment_name for e in s.deployments.ledger() if e.version_number == number}
                following = [env for env in ENVIRONMENTS if env not in served][:1]
                env = data.draw(st.sampled_from(following * 3 + ENVIRONMENTS))
            try:
                created = s.promotions.request(world[who], "toy", number, env, f"{who} asks")
            except EXPECTED:
                return
            if created.status is RequestStatus.EXECUTED:
                self.executed.add(created.id)

        @rule(data=st.data())
        def approve(self, data: st.DataObject) -> None:
            request_id = self._pick(data)
            if request_id is None:
                return
            before = s.promotions.get(request_id)
            needed = s.promotions.evidence(request_id).signoff.missing_roles()
            useful = [name for name, roles in SIGNERS.items() if needed & roles]
            who = data.draw(st.sampled_from(useful * 3 + list(SIGNERS) + ["dana", "otto"]))
            try:
                after = s.promotions.approve(world[who], request_id, f"{who} agrees")
            except EXPECTED as problem:
                if who == before.requested_by and before.open:
                    assert isinstance(problem, (InvalidInput, PermissionDenied))
                return
            assert who != before.requested_by, "the requester approved their own request"
            if after.status is RequestStatus.EXECUTED:
                self.executed.add(request_id)

        @rule(data=st.data())
        def push_forward(self, data: st.DataObject) -> None:
            """Do what pending requests need next (missing signatures, then the execution) a few times,
            so random runs reach Prod often enough; the other rules get in the way at random."""
            for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
                self._one_step_forward(data)

        def _one_step_forward(self, data: st.DataObject) -> None:
            pending = s.promotions.list(status=RequestStatus.PENDING)
            if not pending:
                number = data.draw(st.integers(min_value=1, max_value=3))
                served = {e.environment_name for e in s.deployments.ledger() if e.version_number == number}
                following = [env for env in ENVIRONMENTS if env not in served][:1]
                if following:
                    self.request(data, number, "dana", env=following[0])
                return
            request = data.draw(st.sampled_from(pending))
            evidence = s.promotions.evidence(request.id)
            needed = evidence.signoff.missing_roles()
            signers = [
                name for name, roles in SIGNERS.items() if needed & roles and name != request.requested_by
            ]
            try:
                if signers:
                    s.promotions.approve(world[data.draw(st.sampled_from(signers))], request.id, "needed")
                else:
                    entry = s.promotions.execute(world["otto"], request.id, expected_version=request.version)
                    self.executed.add(request.id)
                    reached[f"execute:{entry.environment_name}"] += 1
            except EXPECTED:
                return

        @rule(data=st.data(), who=st.sampled_from(["sam", "bea", "rick"]))
        def reject(self, data: st.DataObject, who: str) -> None:
            request_id = self._pick(data)
            if request_id is None:
                return
            try:
                rejected = s.promotions.reject(world[who], request_id, f"{who} says no")
            except EXPECTED:
                return
            assert rejected.status is RequestStatus.REJECTED

        @rule(
            data=st.data(),
            who=st.sampled_from(["otto", "opal", "otto", "opal", "sam", "bea"]),
            stale=st.sampled_from([False, False, False, True]),
        )
        def execute(self, data: st.DataObject, who: str, stale: bool) -> None:
            request_id = self._pick(data)
            if request_id is None:
                return
            seen = s.promotions.get(request_id)
            try:
                entry = s.promotions.execute(
                    world[who], request_id, expected_version=seen.version - 1 if stale else seen.version
                )
            except EXPECTED:
                return
            assert not stale, "an execution from a stale page went through"
            assert request_id not in self.executed, "a request executed twice"
            self.executed.add(request_id)
            assert entry.request_id == request_id
            reached[f"execute:{entry.environment_name}"] += 1

        @rule(data=st.data(), who=st.sampled_from(["otto", "sam"]))
        def rollback(self, data: st.DataObject, who: str) -> None:
            entries = s.deployments.ledger()
            if not entries:
                return
            target = data.draw(st.sampled_from(entries))
            try:
                s.deployments.rollback(world[who], target.id, f"{who} rolls back")
            except EXPECTED:
                return
            assert who == "otto" or target.environment_name != "Prod", "a data scientist rolled back Prod"
            reached["rollback"] += 1

        @rule(who=st.sampled_from(DEACTIVATABLE), active=st.sampled_from([True, True, True, False]))
        def set_active(self, who: str, active: bool) -> None:
            """Deactivating ends the person's sessions; once reactivated they sign in anew."""
            was = s.users.get(admin, who).active
            s.users.set_active(admin, who, active)
            if active and not was:
                world.people[who] = sign_in(s, who)

        @rule(hours=st.sampled_from([1, 30, 80]))
        def time_passes(self, hours: int) -> None:
            clock.advance(hours=hours)

        # ---- invariants ---------------------------------------------------------------------
        @invariant()
        def one_serving_version_matching_the_ledger(self) -> None:
            serving = s.deployments.serving()
            keys = [(d.environment_name, d.pipeline_name) for d in serving]
            assert len(keys) == len(set(keys))
            latest: dict[tuple[str, str], int] = {}
            for entry in reversed(s.deployments.ledger()):
                latest[(entry.environment_name, entry.pipeline_name)] = entry.version_number
            assert {k: d.version_number for k, d in zip(keys, serving, strict=True)} == latest

        @invariant()
        def every_serving_version_was_signed_off_for_its_digest(self) -> None:
            with UnitOfWork(s.ctx, write=False) as uow:
                db = uow.session
                for pointer in db.scalars(select(DeploymentRow)):
                    version = db.get(PipelineVersionRow, pointer.version_id)
                    origin = promotion_origin(db, pointer.ledger_entry_id)
                    assert version is not None and origin is not None
                    assert origin.version_id == version.id
                    assert origin.artifact_sha256 == version.artifact_sha256
                    policy_data = origin.policy  # the stored JSON itself, read independently
                    policy = SignoffPolicy.build(
                        {Role(k): v for k, v in policy_data["required"].items()},
                        approval_ttl=timedelta(hours=policy_data["approval_ttl_hours"]),
                    )
                    request = db.get(PromotionRequestRow, origin.request_id)
                    assert request is not None and request.status == RequestStatus.EXECUTED.value
                    signatures = [
                        Signature(
                            a["approver"],
                            frozenset({Role(a["counted_as"])}),
                            datetime.fromisoformat(a["decided_at"]),
                            Binding(version.id, a["artifact_sha256"], origin.environment_id),
                        )
                        for a in origin.approvals
                        if a["counted_as"]
                    ]
                    result = evaluate_policy(
                        policy,
                        request.requested_by,
                        signatures,
                        origin.occurred_at,
                        subject=Binding(version.id, version.artifact_sha256, origin.environment_id),
                    )
                    assert result.satisfied, (origin.id, result)

        @invariant()
        def nothing_skipped_an_environment(self) -> None:
            with UnitOfWork(s.ctx, write=False) as uow:
                db = uow.session
                order = [
                    env.id for env in db.scalars(select(EnvironmentRow).order_by(EnvironmentRow.position))
                ]
                entries = [
                    (e.id, e.version_id, e.environment_id)
                    for e in db.scalars(select(LedgerEntryRow).order_by(LedgerEntryRow.id))
                ]
            for entry_id, version_id, environment_id in entries:
                index = order.index(environment_id)
                if index == 0:
                    continue
                assert any(
                    other_id < entry_id and other_version == version_id and other_env == order[index - 1]
                    for other_id, other_version, other_env in entries
                ), f"ledger entry #{entry_id} skipped the environment before it"

        @invariant()
        def executed_requests_have_one_promotion_entry(self) -> None:
            promotions = [e for e in s.deployments.ledger() if e.kind is LedgerKind.PROMOTION]
            by_request = [e.request_id for e in promotions]
            assert len(by_request) == len(set(by_request))
            executed = {r.id for r in s.promotions.list(status=RequestStatus.EXECUTED)}
            assert executed == set(by_request) == self.executed

        @invariant()
        def audit_chain_verifies(self) -> None:
            result = s.audit.verify()
            assert result.chain.ok, result.summary()

    run_state_machine_as_test(
        Promotions,
        settings=settings(
            max_examples=8,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            derandomize=False,
        ),
    )
    print(dict(reached))
    assert reached["execute:Test"], f"the random runs never got a version into Test: {dict(reached)}"
