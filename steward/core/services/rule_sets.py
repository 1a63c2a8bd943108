"""Fallback rule sets: save a version, arm or disarm it, fail over to it and back (each audited).

A rule set belongs to one deployment (an environment and a pipeline). Saving
checks it against the input schema and task of the version serving there
and writes a new version; if the deployment has a rule set armed, the arm
follows the new version in the same transaction (so what is edited is what
answers). Arming makes the rule set the deployment's fallback: the scoring
service's circuit breaker answers from it instead of from an earlier
version. Failing over to it makes it answer every request until failed back;
the pointer does not move (no model serves instead), so the ledger is
untouched and the audit log records both moves.

Every change needs the right to fail over in the environment's tier
(Prod: operators and admins) and is one transaction with its audit event.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.json_values import decoded
from steward.core.adapters.db.models import (
    EnvironmentRow,
    PipelineRow,
    PipelineVersionRow,
    RuleSetArmRow,
    RuleSetRow,
)
from steward.core.domain.accounts import Actor
from steward.core.domain.names import validate_comment
from steward.core.domain.permissions import Action, Tier
from steward.core.domain.rule_sets import RuleSet, RuleSetArm, RuleSetVersion, from_table
from steward.core.errors import InvalidInput, NotFound, StaleState
from steward.core.pipelines.schema import InputSchema
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork

STALE = "changed since you loaded it; reload and try again"


def _task(version: PipelineVersionRow) -> str:
    return str(decoded(version.spec_json, {}).get("pipeline", {}).get("task", ""))


def _schema(version: PipelineVersionRow) -> InputSchema:
    return InputSchema.from_dict(decoded(version.schema_json, {}))


def _version(row: RuleSetRow, env: str, pipeline: str) -> RuleSetVersion:
    return RuleSetVersion(
        id=row.id,
        environment_name=env,
        pipeline_name=pipeline,
        number=row.number,
        rule_set=RuleSet.from_stored(json.loads(row.body_json)),
        comment=row.comment,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _arm(arm: RuleSetArmRow, version: RuleSetVersion, env: EnvironmentRow, pipeline: str) -> RuleSetArm:
    return RuleSetArm(
        environment_id=env.id,
        environment_name=env.name,
        pipeline_id=arm.pipeline_id,
        pipeline_name=pipeline,
        version=version,
        armed_by=arm.armed_by,
        armed_at=arm.armed_at,
        engaged=arm.engaged,
        engaged_by=arm.engaged_by,
        engaged_at=arm.engaged_at,
        row_version=arm.version,
    )


class RuleSetService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ---- reads -------------------------------------------------------------
    def versions(self, environment: str, pipeline: str) -> builtins.list[RuleSetVersion]:
        """Every saved version of the deployment's rule set, newest first."""
        with UnitOfWork(self.ctx, write=False) as uow:
            env, pipe = self._where(uow.session, environment, pipeline)
            rows = uow.session.scalars(
                select(RuleSetRow)
                .where(RuleSetRow.environment_id == env.id, RuleSetRow.pipeline_id == pipe.id)
                .order_by(RuleSetRow.number.desc())
            )
            return [_version(r, env.name, pipe.name) for r in rows]

    def latest(self, environment: str, pipeline: str) -> RuleSetVersion | None:
        found = self.versions(environment, pipeline)
        return found[0] if found else None

    def arm_of(self, environment: str, pipeline: str) -> RuleSetArm | None:
        """The deployment's armed rule set, or None when it falls back to an earlier version (if any)."""
        with UnitOfWork(self.ctx, write=False) as uow:
            env, pipe = self._where(uow.session, environment, pipeline)
            return self._arms(uow.session, RuleSetArmRow.environment_id == env.id).get((env.name, pipe.name))

    def armed(self) -> dict[tuple[str, str], RuleSetArm]:
        """(environment, pipeline) -> armed rule set, for every deployment: what the scoring service polls."""
        with UnitOfWork(self.ctx, write=False) as uow:
            return self._arms(uow.session)

    def input_contract(self, environment: str, pipeline: str) -> tuple[InputSchema, str]:
        """The schema and task a rule set is checked against: those of the version serving there."""
        with UnitOfWork(self.ctx, write=False) as uow:
            env, pipe = self._where(uow.session, environment, pipeline)
            version = self._serving_version(uow.session, env, pipe)
            return _schema(version), _task(version)

    # ---- changes -----------------------------------------------------------
    def save(
        self,
        actor: Actor,
        environment: str,
        pipeline: str,
        body: Mapping[str, Any],
        comment: str = "",
        *,
        expected_number: int | None = None,
    ) -> RuleSetVersion:
        """Save ``body`` (the JSON form) as the deployment's next rule-set version; audited.

        ``expected_number`` is the latest version the editor showed (0: none):
        if someone saved since, nothing is written and StaleState says so.
        """
        tier = self._check(actor, environment, pipeline, "edit the fallback rule set")
        text = validate_comment(comment, "comment")
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            env, pipe = self._where(db, environment, pipeline)
            queries.lock_environment(db, env.id)
            version = self._serving_version(db, env, pipe)
            rule_set = RuleSet.parse(body, _schema(version), _task(version))
            latest = db.scalar(
                select(func.max(RuleSetRow.number)).where(
                    RuleSetRow.environment_id == env.id, RuleSetRow.pipeline_id == pipe.id
                )
            )
            latest = int(latest or 0)
            if expected_number is not None and latest != expected_number:
                raise StaleState(f"the rule set of {pipe.name} in {env.name} {STALE}")
            row = RuleSetRow(
                environment_id=env.id,
                pipeline_id=pipe.id,
                number=latest + 1,
                body_json=json.dumps(rule_set.to_dict()),
                comment=text,
                created_by=actor.username,
                created_at=self.ctx.clock.now(),
            )
            db.add(row)
            db.flush()
            arm = self._arm_row(db, env.id, pipe.id)
            before = None
            if arm is not None:
                before = arm.rule_set_id
                arm.rule_set_id = row.id
                db.flush()
            uow.record(
                actor,
                "rule_set.save",
                object_type="deployment",
                object_id=f"{env.name}/{pipe.name}",
                after={
                    "rule_set_version": row.number,
                    "rule_set_id": row.id,
                    "rules": len(rule_set.rules),
                    "checked_against_version": version.number,
                    "armed": arm is not None,
                    "tier": tier.value,
                    "replaces_armed_rule_set_id": before,
                },
                detail=text,
            )
            result = _version(row, env.name, pipe.name)
            uow.commit()
        return result

    def save_table(
        self,
        actor: Actor,
        environment: str,
        pipeline: str,
        rows: Sequence[Mapping[str, Any]],
        default_output: Any,
        default_label: Any = None,
        comment: str = "",
        *,
        expected_number: int | None = None,
    ) -> RuleSetVersion:
        """:meth:`save` from the editor's table form (one row per condition)."""
        schema, task = self.input_contract(environment, pipeline)
        rule_set = from_table(rows, default_output, default_label, schema, task)
        return self.save(
            actor, environment, pipeline, rule_set.to_dict(), comment, expected_number=expected_number
        )

    def arm(self, actor: Actor, environment: str, pipeline: str, number: int | None = None) -> RuleSetArm:
        """Make rule-set version ``number`` (default: the latest) the deployment's fallback; audited."""
        self._check(actor, environment, pipeline, "arm a fallback rule set")
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            env, pipe = self._where(db, environment, pipeline)
            queries.lock_environment(db, env.id)
            query = select(RuleSetRow).where(
                RuleSetRow.environment_id == env.id, RuleSetRow.pipeline_id == pipe.id
            )
            query = query.where(RuleSetRow.number == number) if number is not None else query
            row = db.scalar(query.order_by(RuleSetRow.number.desc()).limit(1))
            if row is None:
                which = f"rule set v{number}" if number is not None else "rule set"
                raise NotFound(f"{pipe.name} in {env.name} has no {which} to arm")
            # the version serving may have changed since the rule set was saved: check it again
            RuleSet.parse(json.loads(row.body_json), *self._contract(db, env, pipe))
            arm = self._arm_row(db, env.id, pipe.id)
            before = None
            now = self.ctx.clock.now()
            if arm is None:
                arm = RuleSetArmRow(
                    environment_id=env.id,
                    pipeline_id=pipe.id,
                    rule_set_id=row.id,
                    armed_by=actor.username,
                    armed_at=now,
                    engaged=False,
                )
                db.add(arm)
            else:
                if arm.rule_set_id == row.id:
                    raise InvalidInput(
                        f"rule set v{row.number} is already armed for {pipe.name} in {env.name}"
                    )
                before = arm.rule_set_id
                arm.rule_set_id, arm.armed_by, arm.armed_at = row.id, actor.username, now
            db.flush()
            uow.record(
                actor,
                "rule_set.arm",
                object_type="deployment",
                object_id=f"{env.name}/{pipe.name}",
                before={"rule_set_id": before} if before else None,
                after={"rule_set_version": row.number, "rule_set_id": row.id},
            )
            result = _arm(arm, _version(row, env.name, pipe.name), env, pipe.name)
            uow.commit()
        return result

    def disarm(self, actor: Actor, environment: str, pipeline: str) -> None:
        """The deployment falls back to an earlier version again (if one is armed); audited."""
        self._check(actor, environment, pipeline, "disarm the fallback rule set")
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            env, pipe = self._where(db, environment, pipeline)
            queries.lock_environment(db, env.id)
            arm = self._arm_row(db, env.id, pipe.id)
            if arm is None:
                raise InvalidInput(f"{pipe.name} in {env.name} has no rule set armed")
            if arm.engaged:
                raise InvalidInput(
                    f"the rule set answers every request of {pipe.name} in {env.name} after a fail-over; "
                    "fail back first"
                )
            number = db.scalar(select(RuleSetRow.number).where(RuleSetRow.id == arm.rule_set_id))
            db.delete(arm)
            db.flush()
            uow.record(
                actor,
                "rule_set.disarm",
                object_type="deployment",
                object_id=f"{env.name}/{pipe.name}",
                before={"rule_set_version": number, "rule_set_id": arm.rule_set_id},
            )
            uow.commit()

    def failover(
        self, actor: Actor, environment: str, pipeline: str, reason: str, *, expected: int | None = None
    ) -> RuleSetArm:
        """Answer every request of the deployment from its armed rule set until failed back; audited."""
        return self._engage(actor, environment, pipeline, reason, True, expected)

    def failback(
        self, actor: Actor, environment: str, pipeline: str, reason: str, *, expected: int | None = None
    ) -> RuleSetArm:
        """The primary answers again (the rule set stays armed for the circuit breaker); audited."""
        return self._engage(actor, environment, pipeline, reason, False, expected)

    def _engage(
        self, actor: Actor, environment: str, pipeline: str, reason: str, on: bool, expected: int | None
    ) -> RuleSetArm:
        what = "fail over to the rule set" if on else "fail back from the rule set"
        self._check(actor, environment, pipeline, what, action=Action.FAILOVER)
        text = validate_comment(reason, "reason")
        if not text:
            raise InvalidInput(f"a {'fail-over' if on else 'fail-back'} needs a reason")
        try:
            with UnitOfWork(self.ctx) as uow:
                db = uow.session
                env, pipe = self._where(db, environment, pipeline)
                queries.lock_environment(db, env.id)
                arm = self._arm_row(db, env.id, pipe.id)
                if arm is None:
                    raise InvalidInput(f"{pipe.name} in {env.name} has no rule set armed")
                if expected is not None and arm.version != expected:
                    raise StaleState(f"the fallback of {pipe.name} in {env.name} {STALE}")
                if arm.engaged == on:
                    state = "already answers every request" if on else "does not answer (no fail-over)"
                    raise InvalidInput(f"the rule set of {pipe.name} in {env.name} {state}")
                row = db.get(RuleSetRow, arm.rule_set_id)
                assert row is not None
                now = self.ctx.clock.now()
                arm.engaged = on
                arm.engaged_by, arm.engaged_at = (actor.username, now) if on else (None, None)
                db.flush()
                uow.record(
                    actor,
                    "deployment.failover_rule_set" if on else "deployment.failback_rule_set",
                    object_type="deployment",
                    object_id=f"{env.name}/{pipe.name}",
                    before={"rule_set_engaged": not on},
                    after={"rule_set_engaged": on, "rule_set_version": row.number, "rule_set_id": row.id},
                    detail=text,
                )
                result = _arm(arm, _version(row, env.name, pipe.name), env, pipe.name)
                uow.commit()
        except StaleDataError:
            raise StaleState(f"the fallback of {environment}/{pipeline} {STALE}") from None
        return result

    # ---- helpers -----------------------------------------------------------
    def _check(
        self, actor: Actor, environment: str, pipeline: str, what: str, *, action: Action = Action.FAILOVER
    ) -> Tier:
        with UnitOfWork(self.ctx, write=False) as uow:
            tier = Tier(queries.environment_by_name(uow.session, environment).tier)
        authz.check(
            self.ctx,
            actor,
            action,
            tier=tier,
            object_type="deployment",
            object_id=f"{str(environment)[:64]}/{str(pipeline)[:100]}",
            what=f"(needed to {what} of {str(pipeline)[:100]})",
        )
        return tier

    @staticmethod
    def _where(db: Session, environment: str, pipeline: str) -> tuple[EnvironmentRow, PipelineRow]:
        env = queries.environment_by_name(db, environment)
        pipe = db.scalar(select(PipelineRow).where(PipelineRow.name == str(pipeline)))
        if pipe is None:
            raise NotFound(f"no pipeline named {str(pipeline)[:100]!r}")
        return env, pipe

    @staticmethod
    def _serving_version(db: Session, env: EnvironmentRow, pipe: PipelineRow) -> PipelineVersionRow:
        pointer = queries.pointer(db, env.id, pipe.id)
        if pointer is None:
            raise NotFound(f"nothing serves {pipe.name} in {env.name}, so it has no fallback to set")
        version = db.get(PipelineVersionRow, pointer.version_id)
        assert version is not None
        return version

    def _contract(self, db: Session, env: EnvironmentRow, pipe: PipelineRow) -> tuple[InputSchema, str]:
        version = self._serving_version(db, env, pipe)
        return _schema(version), _task(version)

    @staticmethod
    def _arm_row(db: Session, environment_id: int, pipeline_id: int) -> RuleSetArmRow | None:
        return db.scalar(
            select(RuleSetArmRow).where(
                RuleSetArmRow.environment_id == environment_id, RuleSetArmRow.pipeline_id == pipeline_id
            )
        )

    @staticmethod
    def _arms(db: Session, *conditions: Any) -> dict[tuple[str, str], RuleSetArm]:
        rows = db.execute(
            select(RuleSetArmRow, RuleSetRow, EnvironmentRow, PipelineRow.name)
            .join(RuleSetRow, RuleSetRow.id == RuleSetArmRow.rule_set_id)
            .join(EnvironmentRow, EnvironmentRow.id == RuleSetArmRow.environment_id)
            .join(PipelineRow, PipelineRow.id == RuleSetArmRow.pipeline_id)
            .where(*conditions)
        ).all()
        return {
            (env.name, name): _arm(arm, _version(rule, env.name, name), env, name)
            for arm, rule, env, name in rows
        }
