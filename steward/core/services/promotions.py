"""Promotions: request a version for an environment, gather the evidence, sign off, execute.

The rules, each enforced here and nowhere else:

- a version enters the first environment from the registry, and every later
  one only if it has served in the environment right before it (the ledger);
- the environment's sign-off policy decides (see :mod:`steward.core.domain.signoff`);
  approvals bind to the artifact digest, version and environment, and whether
  they suffice is decided afresh at execution with everyone's current roles;
- before executing (and approving) the artifact's bytes are hashed again: a
  file changed after approval blocks execution and raises the integrity alarm;
- execution is one transaction: pointer, fallback, ledger, request status and
  audit event; a race or a stale page changes nothing and says so.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.core.adapters.certificates import render_html, render_pdf
from steward.core.adapters.db.models import (
    AuditEventRow,
    DeploymentRow,
    EnvironmentRow,
    LedgerEntryRow,
    PipelineRow,
    PipelineVersionRow,
    PromotionApprovalRow,
    PromotionRequestRow,
    SessionRow,
    SignoffPolicyRow,
    UserRow,
)
from steward.core.adapters.notifiers import Notification
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import Outcome, StoredEvent
from steward.core.domain.gates import GateInputs, GatePolicy, evaluate_gates, gates_pass, higher_is_better
from steward.core.domain.names import validate_comment
from steward.core.domain.permissions import APPROVERS, Action, Tier
from steward.core.domain.promotions import (
    Approval,
    Certificate,
    Decision,
    EnvironmentPolicy,
    Evidence,
    LedgerEntry,
    LedgerKind,
    MetricRow,
    PromotionRequest,
    RequestStatus,
    VersionFacts,
    default_policy,
    path_problem,
)
from steward.core.domain.registry import PRIMARY_METRIC
from steward.core.domain.roles import Role
from steward.core.domain.signoff import Binding, PolicyResult, Signature, SignoffPolicy, evaluate_policy
from steward.core.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound, StaleState
from steward.core.services import authz
from steward.core.services.alerting import unresolved_critical
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import (
    STALE,
    DeploymentService,
    display_name,
    environment_by_name,
    guarded,
    lock_environment,
    move_pointer,
    record_integrity_alarm,
)
from steward.core.services.loadtest import latest_load_test
from steward.core.services.roles_lookup import mapped_roles, session_groups
from steward.core.services.sla import sla_targets
from steward.core.services.uow import UnitOfWork

AUTO_EXECUTOR = "auto-execute"


# ---- rows to entities ---------------------------------------------------------------------
def _roles(text: str) -> frozenset[Role]:
    values = json.loads(text or "[]")
    return frozenset(Role(v) for v in values if v in Role.__members__.values())


def to_approval(row: PromotionApprovalRow) -> Approval:
    return Approval(
        id=row.id,
        request_id=row.request_id,
        approver=row.approver,
        approver_name=row.approver_name or row.approver,
        roles=_roles(row.roles_json),
        decision=Decision(row.decision),
        comment=row.comment,
        decided_at=row.decided_at,
        version_id=row.version_id,
        artifact_sha256=row.artifact_sha256,
        environment_id=row.environment_id,
        audit_seq=row.audit_seq,
    )


def to_policy(env: EnvironmentRow, row: SignoffPolicyRow | None) -> EnvironmentPolicy:
    """The stored policy, or the tier's default for an environment that has none yet (version 0)."""
    tier = Tier(env.tier)
    if row is None:
        signoff, gates = default_policy(tier)
        return EnvironmentPolicy(env.id, env.name, tier, signoff, gates)
    required = {
        Role(k): int(v) for k, v in json.loads(row.required_json).items() if k in Role.__members__.values()
    }
    signoff = SignoffPolicy.build(
        required, approval_ttl=timedelta(hours=row.approval_ttl_hours), auto_execute=row.auto_execute
    )
    gates = GatePolicy.build(
        json.loads(row.min_metrics_json or "{}"),
        max_regression_pct=row.max_regression_pct,
        require_load_test=row.require_load_test,
        require_no_critical_alert=row.require_no_critical_alert,
    )
    return EnvironmentPolicy(
        env.id, env.name, tier, signoff, gates, row.updated_at, row.updated_by, row.version
    )


def _facts(row: PipelineVersionRow) -> VersionFacts:
    lineage = json.loads(row.lineage_json)
    split = lineage.get("split") or {}
    return VersionFacts(
        version_id=row.id,
        number=row.number,
        estimator=str(lineage.get("estimator", "")),
        artifact_sha256=row.artifact_sha256,
        spec_digest=row.spec_digest,
        data_digest=row.data_digest,
        data_rows=row.data_rows,
        holdout_rows=int(split.get("holdout_rows") or 0),
        metrics=json.loads(row.metrics_json),
        trained_by=row.trained_by,
        trained_at=row.trained_at,
        source=str(lineage.get("source") or ""),
        code_version=lineage.get("code_version"),
        charts=json.loads(row.charts_json),
    )


def holdout_fingerprint(row: PipelineVersionRow) -> str:
    """Same training data and same hold-out rows: metrics of two versions are comparable."""
    split = json.loads(row.lineage_json).get("split") or {}
    positions = ",".join(str(p) for p in split.get("holdout_positions") or [])
    return hashlib.sha256(f"{row.data_digest}|{positions}".encode()).hexdigest()


def facts_summary(facts: VersionFacts | None) -> dict[str, Any] | None:
    if facts is None:
        return None
    return {
        "version": facts.number,
        "version_id": facts.version_id,
        "estimator": facts.estimator,
        "artifact_sha256": facts.artifact_sha256,
        "spec_digest": facts.spec_digest,
        "data_digest": facts.data_digest,
        "data_rows": facts.data_rows,
        "holdout_rows": facts.holdout_rows,
        "metrics": dict(facts.metrics),
        "trained_by": facts.trained_by,
        "trained_at": facts.trained_at.isoformat(),
    }


def approver_roles_now(db: Session, username: str) -> frozenset[Role]:
    """A signer's approver roles today: none once deactivated; SSO roles as their last sign-in mapped them."""
    user = db.scalar(select(UserRow).where(UserRow.username == username))
    if user is None or not user.active:
        return frozenset()
    local = frozenset(Role(r.role) for r in user.roles if r.role in Role.__members__.values())
    latest = db.scalar(
        select(SessionRow)
        .where(SessionRow.user_id == user.id)
        .order_by(SessionRow.created_at.desc())
        .limit(1)
    )
    return (local | mapped_roles(db, session_groups(latest))) & APPROVERS


def open_critical_alerts(db: Session, pipeline: PipelineRow) -> tuple[str, ...]:
    """Critical alerts on the pipeline that nobody has resolved, one line each for the gate.

    Alerts are opened by the audit events that are their evidence (an artifact
    failing its integrity check, a failed batch run; see ``steward.core.domain.alerts``)
    and stay open until an operator resolves them, so one tamper blocks the
    pipeline until someone has looked, not forever. An acknowledged alert still
    blocks: acknowledging says someone is looking, not that it is fixed.
    """
    return tuple(
        f"alert #{alert.id}: {alert.title} on {alert.where}, {alert.status.value} "
        f"(evidence {alert.audit_ref})"
        for alert in unresolved_critical(db, pipeline.name)
    )


def served_in(db: Session, version_id: str) -> dict[int, datetime]:
    """environment id -> when the version first served there (from the ledger)."""
    first: dict[int, datetime] = {}
    for env_id, at in db.execute(
        select(LedgerEntryRow.environment_id, LedgerEntryRow.occurred_at)
        .where(LedgerEntryRow.version_id == version_id)
        .order_by(LedgerEntryRow.id)
    ):
        first.setdefault(env_id, at)
    return first


def ordered_environments(db: Session) -> builtins.list[EnvironmentRow]:
    return builtins.list(db.scalars(select(EnvironmentRow).order_by(EnvironmentRow.position)))


class PromotionService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.deployments = DeploymentService(ctx)

    # ================================================================ policies
    def policies(self) -> builtins.list[EnvironmentPolicy]:
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = {row.environment_id: row for row in uow.session.scalars(select(SignoffPolicyRow))}
            return [to_policy(env, rows.get(env.id)) for env in ordered_environments(uow.session)]

    def policy(self, environment: str) -> EnvironmentPolicy:
        with UnitOfWork(self.ctx, write=False) as uow:
            env = environment_by_name(uow.session, environment)
            return to_policy(env, uow.session.get(SignoffPolicyRow, env.id))

    def ensure_default_policies(self, actor: Actor) -> builtins.list[EnvironmentPolicy]:
        """Give every environment without a policy its tier's default (idempotent, audited)."""
        with UnitOfWork(self.ctx) as uow:
            for env in ordered_environments(uow.session):
                if uow.session.get(SignoffPolicyRow, env.id) is None:
                    policy = to_policy(env, None)
                    uow.session.add(self._policy_row(env.id, policy.signoff, policy.gates, actor))
                    uow.session.flush()
                    uow.record(
                        actor,
                        "policy.create",
                        object_type="environment",
                        object_id=env.name,
                        after=policy.snapshot(),
                    )
            uow.commit()
        return self.policies()

    def set_policy(
        self,
        actor: Actor,
        environment: str,
        signoff: SignoffPolicy,
        gates: GatePolicy,
        *,
        expected_version: int | None = None,
    ) -> EnvironmentPolicy:
        """Change an environment's sign-off policy and gates (admins; audited with before and after).

        Pending requests are judged by the policy in force when they execute.
        """
        authz.check(
            self.ctx,
            actor,
            Action.MANAGE_POLICIES,
            object_type="environment",
            object_id=str(environment)[:64],
            what=f"change the sign-off policy of {str(environment)[:64]}",
        )
        if not isinstance(signoff, SignoffPolicy) or not isinstance(gates, GatePolicy):
            raise InvalidInput("a policy needs its sign-off rules and its gates")
        if signoff.approval_ttl.total_seconds() % 3600:
            raise InvalidInput("approval validity is set in whole hours")

        def work() -> EnvironmentPolicy:
            with UnitOfWork(self.ctx) as uow:
                env = environment_by_name(uow.session, environment)
                row = uow.session.get(SignoffPolicyRow, env.id)
                before = to_policy(env, row)
                if expected_version is not None and before.version != expected_version:
                    raise StaleState(f"the policy of {env.name} {STALE}")
                if row is None:
                    row = self._policy_row(env.id, signoff, gates, actor)
                    uow.session.add(row)
                else:
                    self._fill_policy_row(row, signoff, gates, actor)
                uow.session.flush()
                after = to_policy(env, row)
                if after.snapshot() == before.snapshot() and before.version:
                    return before
                uow.record(
                    actor,
                    "policy.update",
                    object_type="environment",
                    object_id=env.name,
                    before=before.snapshot(),
                    after=after.snapshot(),
                )
                uow.commit()
                return after

        return guarded(work)

    def _policy_row(
        self, env_id: int, signoff: SignoffPolicy, gates: GatePolicy, actor: Actor
    ) -> SignoffPolicyRow:
        row = SignoffPolicyRow(environment_id=env_id)
        self._fill_policy_row(row, signoff, gates, actor)
        return row

    def _fill_policy_row(
        self, row: SignoffPolicyRow, signoff: SignoffPolicy, gates: GatePolicy, actor: Actor
    ) -> None:
        row.required_json = json.dumps({role.value: count for role, count in signoff.required})
        row.approval_ttl_hours = int(signoff.approval_ttl.total_seconds() // 3600)
        row.auto_execute = signoff.auto_execute
        row.min_metrics_json = json.dumps(dict(gates.min_metrics), sort_keys=True)
        row.max_regression_pct = gates.max_regression_pct
        row.require_load_test = gates.require_load_test
        row.require_no_critical_alert = gates.require_no_critical_alert
        row.updated_at = self.ctx.clock.now()
        row.updated_by = actor.username

    # ================================================================ reads
    def get(self, request_id: int) -> PromotionRequest:
        with UnitOfWork(self.ctx, write=False) as uow:
            return self._to_request(uow.session, self._request_row(uow.session, request_id))

    def list(
        self,
        *,
        status: RequestStatus | None = None,
        environment: str | None = None,
        pipeline: str | None = None,
        limit: int = 200,
    ) -> builtins.list[PromotionRequest]:
        """Newest first."""
        with UnitOfWork(self.ctx, write=False) as uow:
            db = uow.session
            query = select(PromotionRequestRow).order_by(PromotionRequestRow.id.desc()).limit(limit)
            if status is not None:
                query = query.where(PromotionRequestRow.status == status.value)
            if environment is not None:
                query = query.where(
                    PromotionRequestRow.environment_id == environment_by_name(db, environment).id
                )
            if pipeline is not None:
                query = query.join(PipelineRow, PipelineRow.id == PromotionRequestRow.pipeline_id).where(
                    PipelineRow.name == pipeline
                )
            return [self._to_request(db, row) for row in db.scalars(query)]

    def evidence(self, request_id: int) -> Evidence:
        """What a reviewer needs, gathered now: champion vs challenger, lineage, gates, sign-offs so far."""
        with UnitOfWork(self.ctx, write=False) as uow:
            return self._evidence(uow.session, self._request_row(uow.session, request_id))

    def awaiting(self, actor: Actor) -> builtins.list[Evidence]:
        """Pending requests that still need a role the actor holds and that the actor may sign."""
        result = []
        with UnitOfWork(self.ctx, write=False) as uow:
            db = uow.session
            mine = approver_roles_now(db, actor.username)
            if not mine:
                return []
            for row in db.scalars(
                select(PromotionRequestRow)
                .where(PromotionRequestRow.status == RequestStatus.PENDING.value)
                .order_by(PromotionRequestRow.id)
            ):
                if row.requested_by == actor.username:
                    continue
                evidence = self._evidence(db, row)
                if actor.username in {name for name, _ in evidence.signoff.counted}:
                    continue
                if mine & evidence.signoff.missing_roles():
                    result.append(evidence)
        return result

    def decisions_by(self, username: str) -> builtins.list[tuple[PromotionRequest, Approval]]:
        """What someone approved or rejected, newest first, with the request as it stands now."""
        with UnitOfWork(self.ctx, write=False) as uow:
            db = uow.session
            rows = db.scalars(
                select(PromotionApprovalRow)
                .where(PromotionApprovalRow.approver == username)
                .order_by(PromotionApprovalRow.id.desc())
                .limit(200)
            ).all()
            requests: dict[int, PromotionRequest] = {}
            for row in rows:
                if row.request_id not in requests:
                    requests[row.request_id] = self._to_request(db, self._request_row(db, row.request_id))
            return [(requests[row.request_id], to_approval(row)) for row in rows]

    def targets(self, pipeline: str, number: int) -> builtins.list[tuple[str, str]]:
        """Each environment and why this version may not be requested there ('' when it may)."""
        with UnitOfWork(self.ctx, write=False) as uow:
            db = uow.session
            pipeline_row, version = self._version_rows(db, pipeline, number)
            envs = ordered_environments(db)
            served = served_in(db, version.id)
            result = []
            for env in envs:
                problem = path_problem([(e.id, e.name) for e in envs], env.id, set(served))
                pointer = self._pointer(db, env.id, pipeline_row.id)
                if not problem and pointer is not None and pointer.version_id == version.id:
                    problem = "it serves there now"
                if not problem and self._pending_duplicate(db, version.id, env.id) is not None:
                    problem = "a request for it there is already pending"
                result.append((env.name, problem))
            return result

    def executed_for(self, request_id: int) -> LedgerEntry | None:
        with UnitOfWork(self.ctx, write=False) as uow:
            entry_id = uow.session.scalar(
                select(LedgerEntryRow.id).where(
                    LedgerEntryRow.request_id == request_id, LedgerEntryRow.kind == LedgerKind.PROMOTION.value
                )
            )
        return self.deployments.entry(entry_id) if entry_id is not None else None

    # ================================================================ changes
    def request(
        self, actor: Actor, pipeline: str, version: int, environment: str, reason: str
    ) -> PromotionRequest:
        """Ask for ``pipeline`` v``version`` to serve in ``environment``. Where the policy says so
        (Dev by default) it executes itself at once when the gates pass."""
        with UnitOfWork(self.ctx, write=False) as uow:
            env = environment_by_name(uow.session, environment)
            env_id, tier = env.id, Tier(env.tier)
        label = f"{str(pipeline)[:100]} v{version}"
        authz.check(
            self.ctx,
            actor,
            Action.REQUEST_PROMOTION,
            tier=tier,
            object_type="pipeline_version",
            object_id=label.replace(" ", "/"),
            what=f"request {label}",
        )
        text = validate_comment(reason, "reason")
        if not text:
            raise InvalidInput("say why: a promotion request needs a reason")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise InvalidInput("the version is a number such as 2")

        def work() -> tuple[PromotionRequest, EnvironmentPolicy]:
            with UnitOfWork(self.ctx) as uow:
                db = uow.session
                env_row = lock_environment(db, env_id)
                pipeline_row, version_row = self._version_rows(db, pipeline, version)
                if version_row.status != "ready":
                    raise InvalidInput(
                        f"{pipeline_row.name} v{version} is {version_row.status} and cannot be promoted"
                    )
                pointer = self._pointer(db, env_row.id, pipeline_row.id)
                if pointer is not None and pointer.version_id == version_row.id:
                    raise InvalidInput(f"{pipeline_row.name} v{version} already serves in {env_row.name}")
                envs = ordered_environments(db)
                problem = path_problem(
                    [(e.id, e.name) for e in envs], env_row.id, set(served_in(db, version_row.id))
                )
                if problem:
                    raise InvalidInput(
                        f"{pipeline_row.name} v{version} cannot go to {env_row.name}: {problem}"
                    )
                duplicate = self._pending_duplicate(db, version_row.id, env_row.id)
                if duplicate is not None:
                    raise AlreadyExists(
                        f"request #{duplicate} for {pipeline_row.name} v{version} to {env_row.name} "
                        "is already pending"
                    )
                row = PromotionRequestRow(
                    pipeline_id=pipeline_row.id,
                    version_id=version_row.id,
                    environment_id=env_row.id,
                    artifact_sha256=version_row.artifact_sha256,
                    champion_version_id=pointer.version_id if pointer is not None else None,
                    status=RequestStatus.PENDING.value,
                    requested_by=actor.username,
                    requested_by_name=display_name(db, actor.username),
                    reason=text,
                    requested_at=self.ctx.clock.now(),
                    close_comment="",
                )
                db.add(row)
                db.flush()
                request = self._to_request(db, row)
                event = uow.record(
                    actor,
                    "promotion.request",
                    object_type="promotion_request",
                    object_id=str(row.id),
                    after={**request.summary(), "reason": text},
                )
                row.audit_seq = event.seq
                db.flush()
                policy = to_policy(env_row, db.get(SignoffPolicyRow, env_row.id))
                result = self._to_request(db, row)
                uow.commit()
                return result, policy

        request, policy = guarded(work)
        self._notify_requested(request, policy)
        if policy.signoff.auto_execute:
            return self._auto_execute(request.id)
        return request

    def approve(
        self, actor: Actor, request_id: int, comment: str = "", *, expected_version: int | None = None
    ) -> PromotionRequest:
        """Sign off, bound to the request's artifact digest, version and environment."""
        return self._decide(actor, request_id, Decision.APPROVE, comment, expected_version)

    def reject(
        self, actor: Actor, request_id: int, comment: str, *, expected_version: int | None = None
    ) -> PromotionRequest:
        """Refuse, saying why: the request ends."""
        return self._decide(actor, request_id, Decision.REJECT, comment, expected_version)

    def withdraw(
        self, actor: Actor, request_id: int, comment: str = "", *, expected_version: int | None = None
    ) -> PromotionRequest:
        """The requester takes their request back."""
        request = self.get(request_id)
        authz.check(
            self.ctx,
            actor,
            Action.REQUEST_PROMOTION,
            tier=request.tier,
            object_type="promotion_request",
            object_id=str(request_id),
            what=f"withdraw request #{request_id}",
        )
        text = validate_comment(comment)
        if actor.username != request.requested_by:
            raise InvalidInput(
                f"only {request.requested_by} who asked for it can withdraw request #{request_id}"
            )

        def work() -> PromotionRequest:
            with UnitOfWork(self.ctx) as uow:
                db = uow.session
                row = self._locked_request(db, request_id)
                self._check_open(self._to_request(db, row), expected_version)
                before = row.status
                row.status, row.closed_at = RequestStatus.WITHDRAWN.value, self.ctx.clock.now()
                row.closed_by, row.close_comment = actor.username, text
                db.flush()
                uow.record(
                    actor,
                    "promotion.withdraw",
                    object_type="promotion_request",
                    object_id=str(row.id),
                    before={"status": before},
                    after={"status": row.status},
                    detail=text,
                )
                result = self._to_request(db, row)
                uow.commit()
                return result

        return guarded(work)

    def execute(self, actor: Actor, request_id: int, *, expected_version: int | None = None) -> LedgerEntry:
        """Deploy: when the policy is satisfied and the gates pass, move the pointer (one transaction).

        ``expected_version`` is the request's version the page showed; a request
        that changed since (or that another execution got to first) raises
        StaleState and nothing changes.
        """
        request = self.get(request_id)
        authz.check(
            self.ctx,
            actor,
            Action.EXECUTE_PROMOTION,
            tier=request.tier,
            object_type="promotion_request",
            object_id=str(request_id),
            what=f"execute {request.label}",
        )
        return self._execute(actor, request, expected_version)

    # ================================================================ certificate
    def certificate(self, entry_id: int) -> Certificate:
        """Everything an executed promotion bound, with the audit events that record it."""
        entry = self.deployments.entry(entry_id)
        if entry.kind is not LedgerKind.PROMOTION or entry.request_id is None:
            raise InvalidInput(
                f"ledger entry #{entry_id} is a {entry.kind.value}; certificates are for promotions"
            )
        with UnitOfWork(self.ctx, write=False) as uow:
            db = uow.session
            request = self._to_request(db, self._request_row(db, entry.request_id))
            version = db.get(PipelineVersionRow, entry.version_id)
            pipeline = db.get(PipelineRow, entry.pipeline_id)
            assert version is not None and pipeline is not None
            champion_id = entry.previous_version_id
            champion_row = db.get(PipelineVersionRow, champion_id) if champion_id else None
            seqs = sorted(
                {
                    s
                    for s in [request.audit_seq, entry.audit_seq, *(a.audit_seq for a in request.approvals)]
                    if s
                }
            )
            rows = db.scalars(
                select(AuditEventRow).where(AuditEventRow.seq.in_(seqs)).order_by(AuditEventRow.seq)
            )
            audit = []
            intact = True
            for row in rows:
                stored = StoredEvent(
                    row.seq,
                    row.event_id,
                    row.occurred_at,
                    row.actor,
                    row.action,
                    row.object_type,
                    row.object_id,
                    row.outcome,
                    row.before_json,
                    row.after_json,
                    row.detail,
                    row.source,
                    row.prev_hash,
                    row.hash,
                )
                intact = intact and stored.recomputed_hash() == row.hash
                audit.append((row.seq, row.action, row.actor, row.occurred_at.isoformat(), row.hash))
            return Certificate(
                entry=entry,
                request=request,
                challenger=_facts(version),
                champion=_facts(champion_row) if champion_row is not None else None,
                pipeline_owner=pipeline.owner,
                audit=tuple(audit),
                issued_at=self.ctx.clock.now(),
                chain_ok=intact and len(audit) == len(seqs),
            )

    def certificate_html(self, entry_id: int) -> str:
        return render_html(self.certificate(entry_id))

    def certificate_pdf(self, entry_id: int) -> bytes:
        return render_pdf(self.certificate(entry_id))

    # ================================================================ internals
    def _decide(
        self, actor: Actor, request_id: int, decision: Decision, comment: str, expected_version: int | None
    ) -> PromotionRequest:
        request = self.get(request_id)
        authz.check(
            self.ctx,
            actor,
            Action.APPROVE_PROMOTION,
            tier=request.tier,
            object_type="promotion_request",
            object_id=str(request_id),
            what=f"{decision.value} {request.label}",
        )
        text = validate_comment(comment)
        if decision is Decision.REJECT and not text:
            raise InvalidInput("a rejection needs a comment saying why")
        if actor.username == request.requested_by:
            raise InvalidInput("you asked for this promotion; someone else must sign it off")
        self._check_open(request, expected_version)
        if decision is Decision.APPROVE:
            self._verify_artifact(request, "promotion.approve", actor)

        def work() -> tuple[PromotionRequest, EnvironmentPolicy, PolicyResult]:
            with UnitOfWork(self.ctx) as uow:
                db = uow.session
                row = self._locked_request(db, request_id)
                self._check_open(self._to_request(db, row), expected_version)
                env = db.get(EnvironmentRow, row.environment_id)
                assert env is not None
                policy = to_policy(env, db.get(SignoffPolicyRow, env.id))
                held = authz.current_roles(db, actor) & APPROVERS
                if not held & set(policy.signoff.counts):
                    asked = policy.signoff.describe()
                    raise InvalidInput(
                        f"{env.name}'s policy asks for {asked}; your roles are not among them"
                        if policy.signoff.needs_approval
                        else f"{env.name} needs no sign-off"
                    )
                now = self.ctx.clock.now()
                if decision is Decision.APPROVE:
                    self._refuse_repeat(db, row, actor, policy, now)
                version = db.get(PipelineVersionRow, row.version_id)
                assert version is not None
                approval = PromotionApprovalRow(
                    request_id=row.id,
                    approver=actor.username,
                    approver_name=display_name(db, actor.username),
                    roles_json=json.dumps(sorted(role.value for role in held)),
                    decision=decision.value,
                    comment=text,
                    decided_at=now,
                    version_id=version.id,
                    artifact_sha256=version.artifact_sha256,
                    environment_id=env.id,
                )
                db.add(approval)
                if decision is Decision.REJECT:
                    row.status, row.closed_at = RequestStatus.REJECTED.value, now
                    row.closed_by, row.close_comment = actor.username, text
                db.flush()
                event = uow.record(
                    actor,
                    f"promotion.{decision.value}",
                    object_type="promotion_request",
                    object_id=str(row.id),
                    after={
                        **self._to_request(db, row).summary(),
                        "roles": sorted(role.value for role in held),
                        "bound_to": {
                            "version_id": version.id,
                            "artifact_sha256": version.artifact_sha256,
                            "environment": env.name,
                        },
                    },
                    detail=text,
                )
                approval.audit_seq = event.seq
                db.flush()
                result = self._to_request(db, row)
                signoff = self._evidence(db, row).signoff
                uow.commit()
                return result, policy, signoff

        result, policy, signoff = guarded(work)
        self._notify_decision(actor, result, decision, text, signoff)
        if decision is Decision.APPROVE and policy.signoff.auto_execute and signoff.satisfied:
            return self._auto_execute(result.id)
        return result

    @staticmethod
    def _refuse_repeat(
        db: Session, row: PromotionRequestRow, actor: Actor, policy: EnvironmentPolicy, now: datetime
    ) -> None:
        """One standing approval per person: a new one only once theirs expired or no longer binds."""
        previous = db.scalar(
            select(PromotionApprovalRow)
            .where(
                PromotionApprovalRow.request_id == row.id,
                PromotionApprovalRow.approver == actor.username,
                PromotionApprovalRow.decision == Decision.APPROVE.value,
            )
            .order_by(PromotionApprovalRow.id.desc())
            .limit(1)
        )
        if (
            previous is not None
            and previous.artifact_sha256 == row.artifact_sha256
            and previous.version_id == row.version_id
            and now < previous.decided_at + policy.signoff.approval_ttl
        ):
            raise AlreadyExists(f"you already approved request #{row.id}; your approval still stands")

    def _auto_execute(self, request_id: int) -> PromotionRequest:
        """The policy executes for itself; if a gate blocks it, the request waits (the evidence says why)."""
        request = self.get(request_id)
        with contextlib.suppress(StaleState, InvalidInput, IntegrityError):
            self._execute(Actor.system_actor(AUTO_EXECUTOR), request, None)
        return self.get(request_id)

    def _execute(self, actor: Actor, request: PromotionRequest, expected_version: int | None) -> LedgerEntry:
        self._check_open(request, expected_version)
        self._verify_artifact(request, "promotion.execute", actor)

        def work() -> LedgerEntry:
            with UnitOfWork(self.ctx) as uow:
                db = uow.session
                env = lock_environment(db, request.environment_id)
                row = self._locked_request(db, request.id)
                self._check_open(self._to_request(db, row), expected_version)
                pipeline = db.get(PipelineRow, row.pipeline_id)
                version = db.get(PipelineVersionRow, row.version_id)
                assert pipeline is not None and version is not None
                if version.artifact_sha256 != row.artifact_sha256:
                    raise IntegrityError(
                        f"{pipeline.name} v{version.number}'s registered digest changed after the request"
                    )
                pointer = self._pointer(db, env.id, pipeline.id)
                if (pointer.version_id if pointer else None) != row.champion_version_id:
                    raise StaleState(f"what serves {pipeline.name} in {env.name} {STALE}")
                envs = ordered_environments(db)
                problem = path_problem([(e.id, e.name) for e in envs], env.id, set(served_in(db, version.id)))
                if problem:
                    raise InvalidInput(
                        f"{pipeline.name} v{version.number} cannot go to {env.name}: {problem}"
                    )
                evidence = self._evidence(db, row)
                if not evidence.signoff.satisfied:
                    raise InvalidInput(
                        f"cannot execute yet: still needs sign-off from {evidence.signoff.describe_missing()}"
                    )
                if not gates_pass(evidence.gates):
                    failing = [g for g in evidence.gates if g.status.value != "passed"]
                    raise InvalidInput(
                        "cannot execute: "
                        + "; ".join(f"gate '{g.title}' is {g.status.value} ({g.detail})" for g in failing)
                    )
                counted = dict(evidence.signoff.counted)
                ignored = dict(evidence.signoff.ignored)
                approvals = [
                    {
                        **a.record(),
                        "counted_as": counted[a.approver].value if a.approver in counted else None,
                        "not_counted_because": "" if a.approver in counted else ignored.get(a.approver, ""),
                    }
                    for a in evidence.request.approvals
                    if a.decision is Decision.APPROVE
                ]
                snapshot = {
                    "primary_metric": evidence.primary_metric,
                    "same_holdout": evidence.same_holdout,
                    "challenger": facts_summary(evidence.challenger),
                    "champion": facts_summary(evidence.champion),
                    "signoff_holds_until": evidence.signoff.holds_until.isoformat()
                    if evidence.signoff.holds_until
                    else None,
                    "path": [[name, at.isoformat()] for name, at in evidence.path],
                    "requested_by": row.requested_by,
                    "requested_at": row.requested_at.isoformat(),
                }
                entry, _pointer, superseded = move_pointer(
                    uow,
                    actor,
                    env=env,
                    pipeline=pipeline,
                    version=version,
                    kind=LedgerKind.PROMOTION,
                    reason=row.reason,
                    request_id=row.id,
                    policy=evidence.policy.snapshot(),
                    approvals=approvals,
                    gates=evidence.gates,
                    evidence=snapshot,
                    expected_version=pointer.version if pointer is not None else None,
                    actor_name=f"{env.name}'s policy, automatically (asked by {row.requested_by_name})"
                    if actor.system and actor.username.endswith(AUTO_EXECUTOR)
                    else None,
                )
                row.status, row.closed_at = RequestStatus.EXECUTED.value, self.ctx.clock.now()
                row.closed_by = actor.username
                db.flush()
                event = uow.record(
                    actor,
                    "promotion.execute",
                    object_type="promotion_request",
                    object_id=str(row.id),
                    before={"serving": evidence.champion.number if evidence.champion else None},
                    after={
                        **self._to_request(db, row).summary(),
                        "ledger_entry": entry.id,
                        "approved_by": {name: role.value for name, role in evidence.signoff.counted},
                        "gates": {g.gate: g.status.value for g in evidence.gates},
                        "superseded_requests": superseded,
                    },
                )
                entry.audit_seq = event.seq
                db.flush()
                result = self.deployments._entry(db, entry.id)
                uow.commit()
                return result

        try:
            result = guarded(work)
        except (InvalidInput, IntegrityError) as refusal:
            self._record_refusal(actor, request, "promotion.execute", str(refusal))
            raise
        self._notify_executed(result, request)
        return result

    def _verify_artifact(self, request: PromotionRequest, action: str, actor: Actor) -> None:
        """Hash the artifact's bytes again: they must still be what the request (and its approvals) bound."""
        with UnitOfWork(self.ctx, write=False) as uow:
            version = uow.session.get(PipelineVersionRow, request.version_id)
            assert version is not None
            uri = version.artifact_uri
        label = f"v{request.version_number}"
        try:
            self.ctx.artifacts.read_verified(uri, request.artifact_sha256, label)
        except (IntegrityError, NotFound, OSError) as problem:
            record_integrity_alarm(
                self.ctx,
                request.pipeline_name,
                request.version_id,
                label,
                request.artifact_sha256,
                str(problem),
            )
            message = (
                f"the artifact of {request.pipeline_name} {label} changed after it was requested: its "
                f"bytes no longer hash to {request.artifact_sha256[:12]}…, the digest approvals are bound "
                "to; refused"
            )
            self._record_refusal(actor, request, action, message)
            raise IntegrityError(message) from None

    def _record_refusal(self, actor: Actor, request: PromotionRequest, action: str, message: str) -> None:
        with UnitOfWork(self.ctx) as uow:
            uow.record(
                actor,
                action,
                object_type="promotion_request",
                object_id=str(request.id),
                outcome=Outcome.FAILED,
                detail=message[:2000],
            )
            uow.commit()

    def _check_open(self, request: PromotionRequest, expected_version: int | None) -> None:
        if expected_version is not None and request.version != expected_version:
            raise StaleState(f"request #{request.id} {STALE} (it is now {request.status.value})")
        if not request.open:
            by = f" by {request.closed_by}" if request.closed_by else ""
            raise StaleState(
                f"request #{request.id} {STALE}: it was {request.status.value}{by}; nothing was changed"
            )

    def _evidence(self, db: Session, row: PromotionRequestRow) -> Evidence:
        env = db.get(EnvironmentRow, row.environment_id)
        pipeline = db.get(PipelineRow, row.pipeline_id)
        version = db.get(PipelineVersionRow, row.version_id)
        assert env is not None and pipeline is not None and version is not None
        request = self._to_request(db, row)
        policy = to_policy(env, db.get(SignoffPolicyRow, env.id))
        if request.open:
            pointer = self._pointer(db, env.id, pipeline.id)
            champion_id = pointer.version_id if pointer is not None else None
        else:
            champion_id = row.champion_version_id
        champion_row = db.get(PipelineVersionRow, champion_id) if champion_id else None
        challenger = _facts(version)
        champion = _facts(champion_row) if champion_row is not None else None
        primary = PRIMARY_METRIC.get(pipeline.task, next(iter(challenger.metrics), ""))
        same = champion_row is None or holdout_fingerprint(champion_row) == holdout_fingerprint(version)
        names = [primary, *sorted(k for k in challenger.metrics if k != primary)]
        rows = tuple(
            MetricRow(
                name,
                _num(challenger.metrics.get(name)),
                _num(champion.metrics.get(name)) if champion else None,
                higher_is_better(name),
            )
            for name in names
            if name in challenger.metrics
        )
        gates = evaluate_gates(
            policy.gates,
            GateInputs(
                metrics=challenger.metrics,
                primary_metric=primary,
                champion_label=f"v{champion.number}" if champion else None,
                champion_metrics=champion.metrics if champion else None,
                same_holdout=same,
                critical_alerts=open_critical_alerts(db, pipeline),
                load_test=latest_load_test(db, version.id),
                sla=sla_targets(db, env.id, pipeline.id),
            ),
        )
        signatures = [
            Signature(
                a.approver,
                a.roles & approver_roles_now(db, a.approver),
                a.decided_at,
                Binding(a.version_id, a.artifact_sha256, a.environment_id),
            )
            for a in request.approvals
            if a.decision is Decision.APPROVE
        ]
        signoff = evaluate_policy(
            policy.signoff,
            row.requested_by,
            signatures,
            self.ctx.clock.now(),
            subject=Binding(row.version_id, row.artifact_sha256, env.id),
        )
        envs = {e.id: e for e in ordered_environments(db)}
        path = tuple(
            (envs[env_id].name, at)
            for env_id, at in sorted(
                served_in(db, version.id).items(), key=lambda item: envs[item[0]].position
            )
            if env_id in envs and envs[env_id].position < env.position
        )
        return Evidence(request, policy, challenger, champion, primary, same, rows, gates, signoff, path)

    def _to_request(self, db: Session, row: PromotionRequestRow) -> PromotionRequest:
        env = db.get(EnvironmentRow, row.environment_id)
        pipeline = db.get(PipelineRow, row.pipeline_id)
        assert env is not None and pipeline is not None
        numbers = dict(
            db.execute(
                select(PipelineVersionRow.id, PipelineVersionRow.number).where(
                    PipelineVersionRow.id.in_([v for v in (row.version_id, row.champion_version_id) if v])
                )
            ).all()
        )
        approvals = tuple(
            to_approval(a)
            for a in db.scalars(
                select(PromotionApprovalRow)
                .where(PromotionApprovalRow.request_id == row.id)
                .order_by(PromotionApprovalRow.id)
            )
        )
        return PromotionRequest(
            id=row.id,
            pipeline_id=row.pipeline_id,
            pipeline_name=pipeline.name,
            version_id=row.version_id,
            version_number=numbers.get(row.version_id, 0),
            environment_id=env.id,
            environment_name=env.name,
            tier=Tier(env.tier),
            artifact_sha256=row.artifact_sha256,
            champion_version_id=row.champion_version_id,
            champion_number=numbers.get(row.champion_version_id) if row.champion_version_id else None,
            status=RequestStatus(row.status),
            requested_by=row.requested_by,
            requested_by_name=row.requested_by_name or row.requested_by,
            reason=row.reason,
            requested_at=row.requested_at,
            closed_at=row.closed_at,
            closed_by=row.closed_by,
            close_comment=row.close_comment,
            audit_seq=row.audit_seq,
            version=row.version,
            approvals=approvals,
        )

    @staticmethod
    def _request_row(db: Session, request_id: int) -> PromotionRequestRow:
        row = db.get(PromotionRequestRow, request_id) if isinstance(request_id, int) else None
        if row is None:
            raise NotFound(f"no promotion request #{str(request_id)[:20]}")
        return row

    @staticmethod
    def _locked_request(db: Session, request_id: int) -> PromotionRequestRow:
        row = db.get(PromotionRequestRow, request_id, with_for_update=True, populate_existing=True)
        if row is None:
            raise NotFound(f"no promotion request #{request_id}")
        return row

    @staticmethod
    def _pointer(db: Session, environment_id: int, pipeline_id: int) -> DeploymentRow | None:
        return db.scalar(
            select(DeploymentRow).where(
                DeploymentRow.environment_id == environment_id, DeploymentRow.pipeline_id == pipeline_id
            )
        )

    @staticmethod
    def _pending_duplicate(db: Session, version_id: str, environment_id: int) -> int | None:
        return db.scalar(
            select(PromotionRequestRow.id).where(
                PromotionRequestRow.version_id == version_id,
                PromotionRequestRow.environment_id == environment_id,
                PromotionRequestRow.status == RequestStatus.PENDING.value,
            )
        )

    @staticmethod
    def _version_rows(db: Session, pipeline: str, number: int) -> tuple[PipelineRow, PipelineVersionRow]:
        pipeline_row = db.scalar(select(PipelineRow).where(PipelineRow.name == str(pipeline)))
        if pipeline_row is None:
            raise NotFound(f"no pipeline named {str(pipeline)[:100]!r}")
        version = db.scalar(
            select(PipelineVersionRow).where(
                PipelineVersionRow.pipeline_id == pipeline_row.id, PipelineVersionRow.number == number
            )
        )
        if version is None:
            raise NotFound(f"pipeline {pipeline_row.name} has no version {number}")
        return pipeline_row, version

    # ---- notifications (after commit) -------------------------------------------------
    def _people_with(self, roles: Iterable[Role], *, excluding: str = "") -> tuple[str, ...]:
        wanted = {role.value for role in roles}
        if not wanted:
            return ()
        with UnitOfWork(self.ctx, write=False) as uow:
            users = uow.session.scalars(
                select(UserRow).where(UserRow.active.is_(True)).order_by(UserRow.username)
            )
            return tuple(
                u.username for u in users if u.username != excluding and wanted & {r.role for r in u.roles}
            )

    def _send(self, notification: Notification) -> None:
        with contextlib.suppress(Exception):  # a notifier failing must not undo a committed decision
            self.ctx.notifier.send(notification)

    def _notify_requested(self, request: PromotionRequest, policy: EnvironmentPolicy) -> None:
        self._send(
            Notification(
                topic="promotion.requested",
                subject=f"Sign-off wanted: {request.label}",
                body=f"{request.requested_by_name} asks: {request.reason}",
                recipients=self._people_with(policy.signoff.counts, excluding=request.requested_by),
                data={"request": request.id, "environment": request.environment_name},
            )
        )

    def _notify_decision(
        self, actor: Actor, request: PromotionRequest, decision: Decision, comment: str, signoff: PolicyResult
    ) -> None:
        verb = "approved" if decision is Decision.APPROVE else "rejected"
        body = comment or "(no comment)"
        if decision is Decision.APPROVE:
            body += " - " + (
                "sign-off complete" if signoff.satisfied else f"still needs {signoff.describe_missing()}"
            )
        self._send(
            Notification(
                topic=f"promotion.{verb}",
                subject=f"{request.label} {verb} by {actor.username}",
                body=body,
                recipients=(request.requested_by,),
                data={"request": request.id, "satisfied": signoff.satisfied},
            )
        )

    def _notify_executed(self, entry: LedgerEntry, request: PromotionRequest) -> None:
        people = {request.requested_by, *(str(a.get("approver")) for a in entry.approvals)}
        self._send(
            Notification(
                topic="promotion.executed",
                subject=f"{entry.pipeline_name} {entry.label} now serves in {entry.environment_name}",
                body=f"executed by {entry.actor_name} (ledger entry #{entry.id})",
                recipients=tuple(sorted(people)),
                data={"request": request.id, "ledger_entry": entry.id},
            )
        )


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
