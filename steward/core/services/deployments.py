"""What serves where: the deployment pointers, their ledger, rollbacks and fail-overs.

Moving a pointer is one transaction that also appends the ledger entry and
the audit event, arms the replaced version as the fallback and supersedes
requests that were compared against what used to serve. Writers first lock
the environment's row, so two moves in one environment queue up on
PostgreSQL as they do on SQLite (``BEGIN IMMEDIATE``); the pointer's version
column turns a move from a stale page into "changed since you loaded it".
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError as DBIntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.deployments import (
    ledger_columns,
    policy_record,
    signature_records,
    to_deployment,
    to_entry,
)
from steward.core.adapters.db.models import (
    DeploymentRow,
    EnvironmentRow,
    LedgerEntryRow,
    PipelineRow,
    PipelineVersionRow,
    PromotionRequestRow,
)
from steward.core.adapters.db.queries import deployed_map
from steward.core.adapters.notifiers import Notification
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import Outcome
from steward.core.domain.gates import GateResult
from steward.core.domain.names import validate_comment
from steward.core.domain.permissions import Action, Tier
from steward.core.domain.promotions import (
    Deployment,
    EvidenceSnapshot,
    LedgerEntry,
    LedgerKind,
    PolicyRecord,
    RequestStatus,
    RestoreRecord,
    SignatureRecord,
)
from steward.core.errors import IntegrityError, InvalidInput, NotFound, StaleState
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork

__all__ = [
    "STALE",
    "DeploymentService",
    "deployed_map",
    "entries",
    "guarded",
    "integrity_alarm",
    "move_pointer",
    "record_integrity_alarm",
]

T = TypeVar("T")
STALE = "changed since you loaded it; reload and try again"


def move_pointer(
    uow: UnitOfWork,
    actor: Actor,
    *,
    env: EnvironmentRow,
    pipeline: PipelineRow,
    version: PipelineVersionRow,
    kind: LedgerKind,
    reason: str,
    request_id: int | None = None,
    rollback_to_entry_id: int | None = None,
    policy: PolicyRecord | None = None,
    approvals: Sequence[SignatureRecord] = (),
    gates: Sequence[GateResult] = (),
    evidence: EvidenceSnapshot | RestoreRecord | None = None,
    expected_version: int | None = None,
    actor_name: str | None = None,
) -> tuple[LedgerEntryRow, DeploymentRow, builtins.list[int]]:
    """Make ``version`` serve ``pipeline`` in ``env``; the caller holds the environment lock and audits.

    Returns the new ledger row, the pointer and the ids of the requests it superseded.
    """
    db, now = uow.session, uow.ctx.clock.now()
    pointer = queries.pointer(db, env.id, pipeline.id, lock=True)
    if expected_version is not None and (pointer is None or pointer.version != expected_version):
        raise StaleState(f"what serves {pipeline.name} in {env.name} {STALE}")
    previous = pointer.version_id if pointer is not None else None
    if previous == version.id:
        raise InvalidInput(f"{pipeline.name} v{version.number} already serves in {env.name}")
    entry = LedgerEntryRow(
        environment_id=env.id,
        pipeline_id=pipeline.id,
        version_id=version.id,
        previous_version_id=previous,
        kind=kind.value,
        request_id=request_id,
        rollback_to_entry_id=rollback_to_entry_id,
        actor=actor.username,
        actor_name=actor_name or queries.display_name(db, actor.username),
        reason=reason,
        occurred_at=now,
        artifact_sha256=version.artifact_sha256,
        data_digest=version.data_digest,
        **ledger_columns(policy=policy, approvals=approvals, gates=gates, evidence=evidence),
    )
    db.add(entry)
    db.flush()
    if pointer is None:
        pointer = DeploymentRow(
            environment_id=env.id,
            pipeline_id=pipeline.id,
            version_id=version.id,
            fallback_version_id=None,
            since=now,
            decided_by=actor.username,
            ledger_entry_id=entry.id,
        )
        db.add(pointer)
    else:
        pointer.fallback_version_id = previous
        pointer.version_id = version.id
        pointer.since = now
        pointer.decided_by = actor.username
        pointer.ledger_entry_id = entry.id
    db.flush()
    superseded = builtins.list(
        db.scalars(
            select(PromotionRequestRow.id).where(
                PromotionRequestRow.environment_id == env.id,
                PromotionRequestRow.pipeline_id == pipeline.id,
                PromotionRequestRow.status == RequestStatus.PENDING.value,
                PromotionRequestRow.id != (request_id or 0),
            )
        )
    )
    if superseded:
        db.execute(
            update(PromotionRequestRow)
            .where(PromotionRequestRow.id.in_(superseded))
            .values(
                status=RequestStatus.SUPERSEDED.value,
                closed_at=now,
                closed_by=actor.username,
                close_comment=f"v{version.number} started serving in {env.name} (ledger entry #{entry.id}); "
                "its evidence compared against what served before",
                version=PromotionRequestRow.version + 1,
            )
        )
    return entry, pointer, superseded


def guarded(function: Callable[[], T]) -> T:
    """Turn lost races inside a transaction into StaleState (nothing changed: the transaction rolled back)."""
    try:
        return function()
    except StaleDataError:
        raise StaleState(f"this deployment {STALE}") from None
    except DBIntegrityError:
        raise StaleState(f"this deployment {STALE} (someone else deployed at the same moment)") from None


class DeploymentService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ---- reads -------------------------------------------------------------
    def serving(self, environment: str | None = None) -> builtins.list[Deployment]:
        """Every pointer, by environment order then pipeline name."""
        with UnitOfWork(self.ctx, write=False) as uow:
            db = uow.session
            query = (
                select(DeploymentRow, EnvironmentRow, PipelineRow.name, PipelineVersionRow.artifact_sha256)
                .join(EnvironmentRow, EnvironmentRow.id == DeploymentRow.environment_id)
                .join(PipelineRow, PipelineRow.id == DeploymentRow.pipeline_id)
                .join(PipelineVersionRow, PipelineVersionRow.id == DeploymentRow.version_id)
                .order_by(EnvironmentRow.position, PipelineRow.name)
            )
            if environment is not None:
                query = query.where(EnvironmentRow.name == environment)
            rows = db.execute(query).all()
            numbers = queries.version_numbers(
                db, [r[0].version_id for r in rows] + [r[0].fallback_version_id for r in rows]
            )
            origins = {
                e.id: e
                for e in db.scalars(
                    select(LedgerEntryRow).where(LedgerEntryRow.id.in_([r[0].ledger_entry_id for r in rows]))
                )
            }
            return [
                to_deployment(pointer, env, name, numbers, digest, origins.get(pointer.ledger_entry_id))
                for pointer, env, name, digest in rows
            ]

    def ledger(
        self, environment: str | None = None, pipeline: str | None = None, *, limit: int = 500
    ) -> builtins.list[LedgerEntry]:
        """Newest first; each entry knows when the next one replaced it."""
        conditions = []
        if environment is not None:
            conditions.append(EnvironmentRow.name == environment)
        if pipeline is not None:
            conditions.append(PipelineRow.name == pipeline)
        with UnitOfWork(self.ctx, write=False) as uow:
            return entries(uow.session, queries.ledger_rows(uow.session, *conditions, limit=limit))

    def entry(self, entry_id: int) -> LedgerEntry:
        with UnitOfWork(self.ctx, write=False) as uow:
            return self._entry(uow.session, entry_id)

    def deployed_map(self) -> dict[int, dict[str, int]]:
        """pipeline id -> {environment name: version number serving}, in environment order."""
        with UnitOfWork(self.ctx, write=False) as uow:
            return deployed_map(uow.session)

    def _entry(self, db: Session, entry_id: int) -> LedgerEntry:
        return entries(db, [queries.ledger_row(db, entry_id)])[0]

    # ---- changes -----------------------------------------------------------
    def rollback(
        self, actor: Actor, entry_id: int, reason: str, *, expected_version: int | None = None
    ) -> LedgerEntry:
        """Serve again what a past ledger entry served (a new entry; audited). Prod needs an operator.

        ``expected_version`` is the pointer's version the page showed: if anything
        moved since, nothing changes and StaleState says so.
        """
        target = self.entry(entry_id)
        authz.check(
            self.ctx,
            actor,
            Action.ROLLBACK,
            tier=target.tier,
            object_type="deployment",
            object_id=f"{target.environment_name}/{target.pipeline_name}",
            what=f"roll back {target.pipeline_name}",
        )
        text = validate_comment(reason, "reason")
        if not text:
            raise InvalidInput("a rollback needs a reason")
        return self._restore(
            actor,
            target,
            text,
            LedgerKind.ROLLBACK,
            expected_version=expected_version,
        )

    def failover(
        self,
        actor: Actor,
        environment: str,
        pipeline: str,
        reason: str,
        *,
        expected_version: int | None = None,
    ) -> LedgerEntry:
        """Switch to the armed fallback (what served before); the current version becomes the fallback."""
        return self._swap_to_fallback(
            actor, environment, pipeline, reason, LedgerKind.FAILOVER, expected_version=expected_version
        )

    def failback(
        self,
        actor: Actor,
        environment: str,
        pipeline: str,
        reason: str,
        *,
        expected_version: int | None = None,
    ) -> LedgerEntry:
        """After a fail-over, serve the primary again (a ``failback`` ledger entry; audited).

        Only while the fallback serves because of a fail-over: otherwise there is
        no primary to go back to, and a rollback is the way to choose a version.
        """
        return self._swap_to_fallback(
            actor, environment, pipeline, reason, LedgerKind.FAILBACK, expected_version=expected_version
        )

    def rollback_target(self, environment: str, pipeline: str, to_version: int | None = None) -> LedgerEntry:
        """The ledger entry a rollback restores: the newest that served ``to_version`` there, or, without
        it, the newest that served a version other than the one serving now."""
        current = next((d for d in self.serving(environment) if d.pipeline_name == pipeline), None)
        if current is None:
            raise NotFound(f"nothing serves {str(pipeline)[:100]} in {str(environment)[:64]}")
        for entry in self.ledger(environment, pipeline):
            if to_version is None and entry.version_id != current.version_id:
                return entry
            if to_version is not None and entry.version_number == to_version:
                if entry.version_id == current.version_id:
                    raise InvalidInput(f"{pipeline} v{to_version} already serves in {environment}")
                return entry
        if to_version is None:
            raise InvalidInput(f"only v{current.version_number} ever served {pipeline} in {environment}")
        raise InvalidInput(f"{pipeline} v{to_version} never served in {environment}, so it cannot come back")

    def _swap_to_fallback(
        self,
        actor: Actor,
        environment: str,
        pipeline: str,
        reason: str,
        kind: LedgerKind,
        *,
        expected_version: int | None,
    ) -> LedgerEntry:
        with UnitOfWork(self.ctx, write=False) as uow:
            env = queries.environment_by_name(uow.session, environment)
            tier, env_name = Tier(env.tier), env.name
        what = "fail back" if kind is LedgerKind.FAILBACK else "fail over"
        authz.check(  # failing back needs the same right as failing over
            self.ctx,
            actor,
            Action.FAILOVER,
            tier=tier,
            object_type="deployment",
            object_id=f"{str(environment)[:64]}/{str(pipeline)[:100]}",
            what=f"for {str(pipeline)[:100]}",
        )
        text = validate_comment(reason, "reason")
        if not text:
            raise InvalidInput(f"a {what.replace(' ', '-')} needs a reason")
        current = next((d for d in self.serving(environment) if d.pipeline_name == pipeline), None)
        if current is None:
            raise NotFound(f"nothing serves {str(pipeline)[:100]} in {env_name}")
        if current.fallback_version_id is None:
            raise InvalidInput(f"{pipeline} has no fallback armed in {env_name}")
        if expected_version is not None and current.version != expected_version:
            raise StaleState(f"what serves {pipeline} in {env_name} {STALE}")
        if kind is LedgerKind.FAILBACK and not current.on_fallback:
            raise InvalidInput(
                f"{pipeline} v{current.version_number} in {env_name} is not a fallback serving after a "
                "fail-over, so there is no primary to fail back to"
            )
        with UnitOfWork(self.ctx, write=False) as uow:
            source = uow.session.scalar(
                select(LedgerEntryRow.id)
                .where(
                    LedgerEntryRow.environment_id == current.environment_id,
                    LedgerEntryRow.pipeline_id == current.pipeline_id,
                    LedgerEntryRow.version_id == current.fallback_version_id,
                )
                .order_by(LedgerEntryRow.id.desc())
                .limit(1)
            )
            if source is None:
                raise InvalidInput("the fallback has no ledger entry to restore")
            target = self._entry(uow.session, source)
        return self._restore(actor, target, text, kind, expected_version=expected_version or current.version)

    def _restore(
        self,
        actor: Actor,
        target: LedgerEntry,
        reason: str,
        kind: LedgerKind,
        *,
        expected_version: int | None,
    ) -> LedgerEntry:
        with UnitOfWork(self.ctx, write=False) as uow:
            version = uow.session.get(PipelineVersionRow, target.version_id)
            assert version is not None
            uri, sha, label = version.artifact_uri, version.artifact_sha256, f"v{version.number}"
        try:
            self.ctx.artifacts.read_verified(uri, sha, label)
        except (IntegrityError, NotFound, OSError) as problem:
            record_integrity_alarm(
                self.ctx, target.pipeline_name, target.version_id, label, sha, str(problem)
            )
            raise IntegrityError(
                f"{target.pipeline_name} {label} no longer matches its registered digest: "
                f"{kind.value} refused"
            ) from None

        def work() -> LedgerEntry:
            with UnitOfWork(self.ctx) as uow:
                db = uow.session
                env = queries.lock_environment(db, target.environment_id)
                pipeline = db.get(PipelineRow, target.pipeline_id)
                version_row = db.get(PipelineVersionRow, target.version_id)
                assert pipeline is not None and version_row is not None
                origin = queries.promotion_origin(db, target.id)
                entry, _pointer, superseded = move_pointer(
                    uow,
                    actor,
                    env=env,
                    pipeline=pipeline,
                    version=version_row,
                    kind=kind,
                    reason=reason,
                    rollback_to_entry_id=target.id,
                    policy=policy_record(origin),
                    approvals=signature_records(origin),
                    evidence=RestoreRecord(target.id, origin.id if origin else None),
                    expected_version=expected_version,
                )
                event = uow.record(
                    actor,
                    f"deployment.{kind.value}",
                    object_type="deployment",
                    object_id=f"{env.name}/{pipeline.name}",
                    before={
                        "version": queries.version_numbers(db, [entry.previous_version_id]).get(
                            entry.previous_version_id or ""
                        ),
                        "version_id": entry.previous_version_id,
                    },
                    after={
                        "version": version_row.number,
                        "version_id": version_row.id,
                        "artifact_sha256": version_row.artifact_sha256,
                        "ledger_entry": entry.id,
                        "restores_entry": target.id,
                        "superseded_requests": superseded,
                    },
                    detail=reason,
                )
                entry.audit_seq = event.seq
                db.flush()
                result = self._entry(db, entry.id)
                uow.commit()
            return result

        result = guarded(work)
        self.ctx.notifier.send(
            Notification(
                topic=f"deployment.{kind.value}",
                subject=f"{result.pipeline_name} {result.label} serves again in {result.environment_name}",
                body=f"{result.actor_name} ({kind.value}): {reason}",
                data={"ledger_entry": result.id, "environment": result.environment_name},
            )
        )
        return result


def entries(db: Session, rows: Sequence[queries.LedgerRow]) -> builtins.list[LedgerEntry]:
    """Ledger rows (from :func:`queries.ledger_rows`) as entries, with version numbers in one statement."""
    numbers = queries.version_numbers(
        db, [r[0].version_id for r in rows] + [r[0].previous_version_id for r in rows]
    )
    return [to_entry(row, env, name, numbers, ended) for row, env, name, ended in rows]


def record_integrity_alarm(
    ctx: ServiceContext, pipeline: str, version_id: str, label: str, expected: str, message: str
) -> None:
    """The same alarm the registry raises when an artifact no longer matches (read by the alert gate)."""
    with UnitOfWork(ctx) as uow:
        integrity_alarm(uow, pipeline, version_id, label, expected, message)
        uow.commit()


def integrity_alarm(
    uow: UnitOfWork, pipeline: str, version_id: str, label: str, expected: str, message: str
) -> None:
    """:func:`record_integrity_alarm` inside the caller's transaction (which commits it)."""
    uow.record(
        Actor.system_actor("registry"),
        "artifact.integrity_failed",
        object_type="pipeline_version",
        object_id=f"{pipeline}/{label}",
        outcome=Outcome.FAILED,
        detail=f"{pipeline} {label}: {message}"[:2000],
        after={"version_id": version_id, "expected_sha256": expected, "severity": "critical"},
    )
