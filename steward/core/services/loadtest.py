"""Load tests of the running scoring service: request, claim, heartbeat, result; and the gate's query.

Running one is the ``deployment.load_test`` action, checked here for the
tier of the environment whose service takes the traffic (Prod only for
operators and admins). The request writes a queued row with the version
serving at that moment, audited; a runner (the Locust process in
``steward.app.loadtest``) claims it once, reports progress, and hands back
the measurement, which is stored and audited with the verdict against that
environment's SLA. The promotion gate reads the latest completed run of the
candidate version (:func:`latest_load_test`) and judges it against the
*target* environment's targets.
"""

from __future__ import annotations

import builtins
import json
import math
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from steward.core.adapters.db.mappers.json_values import decoded
from steward.core.adapters.db.models import (
    DeploymentRow,
    EnvironmentRow,
    LoadTestRow,
    PipelineRow,
    PipelineVersionRow,
    PredictionRow,
)
from steward.core.adapters.db.queries import display_name
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import Outcome
from steward.core.domain.loadtest import (
    MAX_REPLAY_ROWS,
    LoadPlan,
    LoadResult,
    LoadTestRun,
    LoadTestStatus,
    RowSource,
)
from steward.core.domain.permissions import Action, Tier
from steward.core.domain.sla import judge
from steward.core.errors import InvalidInput, NotFound, StaleState
from steward.core.pipelines.schema import InputSchema
from steward.core.pipelines.sources import make_source
from steward.core.pipelines.spec import PipelineSpec
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.sla import sla_targets
from steward.core.services.uow import UnitOfWork

MAX_ERROR_EXAMPLES = 5
ACTIVE = (LoadTestStatus.QUEUED.value, LoadTestStatus.RUNNING.value)


def _query() -> Select[LoadTestRow, EnvironmentRow, str, int]:
    return (
        select(LoadTestRow, EnvironmentRow, PipelineRow.name, PipelineVersionRow.number)
        .join(EnvironmentRow, EnvironmentRow.id == LoadTestRow.environment_id)
        .join(PipelineRow, PipelineRow.id == LoadTestRow.pipeline_id)
        .join(PipelineVersionRow, PipelineVersionRow.id == LoadTestRow.version_id)
    )


def _entity(row: LoadTestRow, env: EnvironmentRow, pipeline_name: str, number: int) -> LoadTestRun:
    return LoadTestRun(
        id=row.id,
        environment_id=env.id,
        environment_name=env.name,
        tier=Tier(env.tier),
        pipeline_id=row.pipeline_id,
        pipeline_name=pipeline_name,
        version_id=row.version_id,
        version_number=number,
        plan=LoadPlan(row.rps, row.duration_seconds, RowSource(row.rows_source)),
        status=LoadTestStatus(row.status),
        requested_by=row.requested_by,
        requested_by_name=row.requested_by_name or row.requested_by,
        requested_at=row.requested_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        heartbeat_at=row.heartbeat_at,
        target_url=row.target_url,
        rows_used=row.rows_used,
        requests=row.requests,
        errors=row.errors,
        p50_ms=row.p50_ms,
        p95_ms=row.p95_ms,
        p99_ms=row.p99_ms,
        throughput_rps=row.throughput_rps,
        other_answers=row.other_answers,
        answers={str(k): int(v) for k, v in json.loads(row.answers_json or "{}").items()},
        error_examples=tuple(str(e) for e in json.loads(row.errors_json or "[]")),
        detail=row.detail,
        audit_seq=row.audit_seq,
    )


def _one(db: Session, run_id: int) -> LoadTestRun:
    found = db.execute(_query().where(LoadTestRow.id == run_id)).first()
    if found is None:
        raise NotFound(f"no load test #{run_id}")
    return _entity(*found)


def latest_load_test(db: Session, version_id: str, environment_id: int | None = None) -> LoadTestRun | None:
    """The newest completed load test of a version (in one environment, or wherever it ran)."""
    query = _query().where(
        LoadTestRow.version_id == version_id, LoadTestRow.status == LoadTestStatus.COMPLETED.value
    )
    if environment_id is not None:
        query = query.where(LoadTestRow.environment_id == environment_id)
    found = db.execute(query.order_by(LoadTestRow.id.desc()).limit(1)).first()
    return _entity(*found) if found is not None else None


def latest_load_tests(db: Session, version_ids: Collection[str]) -> dict[str, LoadTestRun]:
    """version id -> its newest completed load test, for many versions in one statement."""
    if not version_ids:
        return {}
    query = _query().where(
        LoadTestRow.version_id.in_(list(version_ids)), LoadTestRow.status == LoadTestStatus.COMPLETED.value
    )
    latest: dict[str, LoadTestRun] = {}
    for found in db.execute(query.order_by(LoadTestRow.id)):
        run = _entity(*found)
        latest[run.version_id] = run  # ordered by id: the last one seen is the newest
    return latest


def _clean(value: Any) -> Any:
    """JSON a client can send: NaN and infinities (which JSON has no word for) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def _runner_actor(row: LoadTestRow) -> Actor:
    """The audit trail names the person who asked for the test, acting through the runner."""
    return Actor(username=row.requested_by, source="loadtest-runner", display_name=row.requested_by_name)


class LoadTestService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ---- reads -------------------------------------------------------------
    def get(self, run_id: int) -> LoadTestRun:
        with UnitOfWork(self.ctx, write=False) as uow:
            return _one(uow.session, run_id)

    def list(
        self, environment: str | None = None, pipeline: str | None = None, *, limit: int = 50
    ) -> builtins.list[LoadTestRun]:
        """Newest first."""
        with UnitOfWork(self.ctx, write=False) as uow:
            query = _query().order_by(LoadTestRow.id.desc()).limit(limit)
            if environment is not None:
                query = query.where(EnvironmentRow.name == environment)
            if pipeline is not None:
                query = query.where(PipelineRow.name == pipeline)
            return [_entity(*found) for found in uow.session.execute(query).all()]

    def latest(self, version_id: str, environment_id: int | None = None) -> LoadTestRun | None:
        with UnitOfWork(self.ctx, write=False) as uow:
            return latest_load_test(uow.session, version_id, environment_id)

    # ---- the request (a user action) ---------------------------------------
    def request(
        self, actor: Actor, environment: str, pipeline: str, plan: LoadPlan, *, target_url: str
    ) -> LoadTestRun:
        """Queue a load test of what serves ``pipeline`` in ``environment`` (audited); a runner claims it."""
        where = f"{str(environment)[:64]}/{str(pipeline)[:100]}"
        with UnitOfWork(self.ctx, write=False) as uow:
            env = uow.session.scalar(select(EnvironmentRow).where(EnvironmentRow.name == str(environment)))
            if env is None:
                raise NotFound(f"no environment named {str(environment)[:64]!r}")
            tier, env_id = Tier(env.tier), env.id
        authz.check(
            self.ctx,
            actor,
            Action.LOAD_TEST,
            tier=tier,
            object_type="deployment",
            object_id=where,
            what=f"on {str(pipeline)[:100]}",
        )
        url = str(target_url).strip()
        if not url.startswith(("http://", "https://")) or len(url) > 500:
            raise InvalidInput("the scoring service address must be an http:// or https:// URL")
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            env = db.get(EnvironmentRow, env_id, with_for_update=True, populate_existing=True)
            found = db.scalar(select(PipelineRow).where(PipelineRow.name == str(pipeline)))
            if env is None:
                raise NotFound(f"no environment named {str(environment)[:64]!r}")
            if found is None:
                raise NotFound(f"no pipeline named {str(pipeline)[:100]!r}")
            pointer = db.scalar(
                select(DeploymentRow).where(
                    DeploymentRow.environment_id == env.id, DeploymentRow.pipeline_id == found.id
                )
            )
            if pointer is None:
                raise InvalidInput(
                    f"nothing serves {found.name} in {env.name}, so there is nothing to load-test"
                )
            self._expire_stale(uow, env.id, found.id)
            busy = db.scalar(
                select(LoadTestRow.id).where(
                    LoadTestRow.environment_id == env.id,
                    LoadTestRow.pipeline_id == found.id,
                    LoadTestRow.status.in_(ACTIVE),
                )
            )
            if busy is not None:
                raise InvalidInput(
                    f"load test #{busy} of {found.name} in {env.name} is still running; wait for it to finish"
                )
            if plan.rows is RowSource.LOGGED:
                logged = db.scalar(
                    select(func.count())
                    .select_from(PredictionRow)
                    .where(PredictionRow.pipeline_id == found.id, PredictionRow.environment_id == env.id)
                )
                if not logged:
                    raise InvalidInput(
                        f"{found.name} has answered no request in {env.name} yet, so there are no "
                        "logged rows to replay; use the sample rows"
                    )
            version = db.get(PipelineVersionRow, pointer.version_id)
            assert version is not None
            now = self.ctx.clock.now()
            row = LoadTestRow(
                environment_id=env.id,
                pipeline_id=found.id,
                version_id=version.id,
                status=LoadTestStatus.QUEUED.value,
                rps=plan.rps,
                duration_seconds=plan.duration_seconds,
                rows_source=plan.rows.value,
                target_url=url,
                requested_by=actor.username,
                requested_by_name=actor.display_name or display_name(db, actor.username),
                requested_at=now,
                runner="",
                rows_used=0,
                requests=0,
                errors=0,
                other_answers=0,
                answers_json="{}",
                errors_json="[]",
                detail="",
            )
            db.add(row)
            db.flush()
            event = uow.record(
                actor,
                "loadtest.request",
                object_type="deployment",
                object_id=f"{env.name}/{found.name}",
                after={
                    "load_test": row.id,
                    "version": version.number,
                    "version_id": version.id,
                    "target_url": url,
                    **plan.snapshot(),
                },
                detail=f"load test #{row.id}: {found.name} v{version.number} in {env.name}, "
                f"{plan.rps} req/s for {plan.duration_seconds} s on {plan.rows.value} rows",
            )
            row.audit_seq = event.seq
            db.flush()
            result = _one(db, row.id)
            uow.commit()
        return result

    def _expire_stale(self, uow: UnitOfWork, environment_id: int, pipeline_id: int) -> None:
        """Close runs whose runner died (no heartbeat for a while), so they block nothing."""
        now = self.ctx.clock.now()
        found = uow.session.execute(
            _query().where(
                LoadTestRow.environment_id == environment_id,
                LoadTestRow.pipeline_id == pipeline_id,
                LoadTestRow.status.in_(ACTIVE),
            )
        ).all()
        for row, env, pipeline_name, number in found:
            if not _entity(row, env, pipeline_name, number).stale(now):
                continue
            row.status, row.finished_at = LoadTestStatus.FAILED.value, now
            row.detail = "the runner stopped: no sign of life from it, so nothing was measured"
            uow.record(
                _runner_actor(row),
                "loadtest.fail",
                object_type="deployment",
                object_id=f"{env.name}/{pipeline_name}",
                outcome=Outcome.FAILED,
                after={"load_test": row.id},
                detail=f"load test #{row.id}: {row.detail}",
            )

    # ---- the runner's side ---------------------------------------------------
    def claim(self, run_id: int, runner: str) -> LoadTestRun:
        """Start a queued run; exactly one runner gets it (a conditional update), others get StaleState."""
        with UnitOfWork(self.ctx) as uow:
            now = self.ctx.clock.now()
            claimed = uow.session.execute(
                update(LoadTestRow)
                .where(LoadTestRow.id == run_id, LoadTestRow.status == LoadTestStatus.QUEUED.value)
                .values(
                    status=LoadTestStatus.RUNNING.value, started_at=now, heartbeat_at=now, runner=runner[:200]
                )
            ).rowcount  # type: ignore[attr-defined]
            if not claimed:
                current = _one(uow.session, run_id)
                raise StaleState(f"load test #{run_id} is {current.status.value}, not queued: nothing to run")
            result = _one(uow.session, run_id)
            uow.commit()
        return result

    def replay_rows(self, run_id: int) -> builtins.list[dict[str, Any]]:
        """The records to send, one per request: logged requests of the deployment, or training rows."""
        run = self.get(run_id)
        if run.plan.rows is RowSource.LOGGED:
            with UnitOfWork(self.ctx, write=False) as uow:
                texts = uow.session.scalars(
                    select(PredictionRow.features_json)
                    .where(
                        PredictionRow.pipeline_id == run.pipeline_id,
                        PredictionRow.environment_id == run.environment_id,
                    )
                    .order_by(PredictionRow.id.desc())
                    .limit(MAX_REPLAY_ROWS)
                ).all()
            rows = [{str(k): _clean(v) for k, v in json.loads(text).items()} for text in texts]
        else:
            with UnitOfWork(self.ctx, write=False) as uow:
                version = uow.session.get(PipelineVersionRow, run.version_id)
                assert version is not None
                spec, schema = decoded(version.spec_json, {}), decoded(version.schema_json, {})
            names = list(InputSchema.from_dict(schema).names)
            source = make_source(
                PipelineSpec.from_dict(spec).source,
                data_root=self.ctx.settings.data_dir / "datasets",
                databases=self.ctx.settings.source_databases,
                max_bytes=self.ctx.settings.max_upload_bytes,
            )
            frame = source.load()
            missing = [name for name in names if name not in frame.columns]
            if missing:
                raise InvalidInput(
                    f"the training data of v{run.version_number} lacks input column(s) "
                    + ", ".join(missing[:5])
                )
            records = frame[names].head(MAX_REPLAY_ROWS).to_dict(orient="records")
            rows = [{str(k): _clean(v) for k, v in record.items()} for record in records]
        if not rows:
            raise InvalidInput(f"no {run.plan.rows.value} rows to replay for {run.label}")
        return rows

    def heartbeat(self, run_id: int, requests_so_far: int) -> LoadTestStatus:
        """Progress from the runner (its sign of life); returns the run's status, in case it was closed."""
        with UnitOfWork(self.ctx) as uow:
            uow.session.execute(
                update(LoadTestRow)
                .where(LoadTestRow.id == run_id, LoadTestRow.status == LoadTestStatus.RUNNING.value)
                .values(heartbeat_at=self.ctx.clock.now(), requests=max(0, int(requests_so_far)))
            )
            status = uow.session.scalar(select(LoadTestRow.status).where(LoadTestRow.id == run_id))
            uow.commit()
        if status is None:
            raise NotFound(f"no load test #{run_id}")
        return LoadTestStatus(status)

    def complete(self, run_id: int, result: LoadResult) -> LoadTestRun:
        """Store the measurement (audited with the verdict against the tested environment's SLA)."""
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            row = db.get(LoadTestRow, run_id, with_for_update=True, populate_existing=True)
            if row is None:
                raise NotFound(f"no load test #{run_id}")
            if row.status != LoadTestStatus.RUNNING.value:
                raise StaleState(f"load test #{run_id} is {row.status}: its result was not stored")
            row.status, row.finished_at = LoadTestStatus.COMPLETED.value, self.ctx.clock.now()
            row.heartbeat_at = row.finished_at
            row.requests, row.errors, row.rows_used = result.requests, result.errors, result.rows_used
            row.p50_ms, row.p95_ms, row.p99_ms = result.p50_ms, result.p95_ms, result.p99_ms
            row.throughput_rps, row.other_answers = result.throughput_rps, result.other_answers
            row.answers_json = json.dumps(dict(sorted(result.answers.items())))
            row.errors_json = json.dumps([e[:300] for e in result.error_examples[:MAX_ERROR_EXAMPLES]])
            db.flush()
            run = _one(db, run_id)
            targets = sla_targets(db, row.environment_id, row.pipeline_id)
            verdict = judge(run.measurement, targets) if targets is not None else None
            row.detail = (
                f"against {run.environment_name}'s SLA: {verdict.summary()}"
                if verdict is not None
                else f"{run.environment_name} has no SLA targets for {run.pipeline_name}"
            )
            event = uow.record(
                _runner_actor(row),
                "loadtest.complete",
                object_type="deployment",
                object_id=f"{run.environment_name}/{run.pipeline_name}",
                after={
                    "load_test": run.id,
                    "version": run.version_number,
                    "version_id": run.version_id,
                    **_measured(run),
                    "answers": run.answers,
                    "within_sla": verdict.within if verdict is not None else None,
                    "breaches": [b.message for b in verdict.breaches] if verdict is not None else [],
                },
                detail=f"load test #{run.id} of {run.label}: {row.detail}",
            )
            row.audit_seq = event.seq
            db.flush()
            stored = _one(db, run_id)
            uow.commit()
        return stored

    def fail(self, run_id: int, problem: str) -> LoadTestRun:
        """The runner could not measure (no rows, a crash): recorded and audited as failed."""
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            row = db.get(LoadTestRow, run_id, with_for_update=True, populate_existing=True)
            if row is None:
                raise NotFound(f"no load test #{run_id}")
            if row.status in ACTIVE:
                row.status, row.finished_at = LoadTestStatus.FAILED.value, self.ctx.clock.now()
                row.detail = str(problem)[:2000]
                run = _one(db, run_id)
                event = uow.record(
                    _runner_actor(row),
                    "loadtest.fail",
                    object_type="deployment",
                    object_id=f"{run.environment_name}/{run.pipeline_name}",
                    outcome=Outcome.FAILED,
                    after={"load_test": run.id, "version": run.version_number},
                    detail=f"load test #{run.id} of {run.label}: {row.detail}",
                )
                row.audit_seq = event.seq
                db.flush()
            stored = _one(db, run_id)
            uow.commit()
        return stored


def _measured(run: LoadTestRun) -> Mapping[str, Any]:
    return {
        "requests": run.requests,
        "errors": run.errors,
        "error_rate": run.error_rate,
        "p50_ms": run.p50_ms,
        "p95_ms": run.p95_ms,
        "p99_ms": run.p99_ms,
        "throughput_rps": run.throughput_rps,
        "other_answers": run.other_answers,
    }
