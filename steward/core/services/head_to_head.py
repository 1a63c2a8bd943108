"""Score a challenger and the champion on the same labelled production rows, and record the result.

One comparison is one job: read the data set (its digest checked), join the
delayed labels, keep only rows neither version trained on, score both
versions (each artifact verified), compare with paired intervals and tests,
and write the result and its audit event in one transaction. The promotion's
champion gate then reads the newest comparison of that pair in the target
environment instead of two hold-outs that cannot be compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import VersionComparisonRow
from steward.core.domain.accounts import Actor
from steward.core.domain.head_to_head import DecisionDiff, HeadToHead, MetricComparison
from steward.core.domain.permissions import Action
from steward.core.domain.registry import PipelineVersion
from steward.core.errors import InvalidInput, NotFound
from steward.core.pipelines.schema import InputSchema
from steward.core.pipelines.spec import PipelineSpec
from steward.core.services import authz
from steward.core.services.catalog import DatasetService
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import DeploymentService
from steward.core.services.environments import EnvironmentService
from steward.core.services.registry import RETRAINED_FROM, PipelineService
from steward.core.services.uow import UnitOfWork

MIN_ROWS = 30
SEGMENT_COLUMNS = 3  # categorical schema columns the decision diff is broken down by


def to_head_to_head(
    row: VersionComparisonRow, pipeline: str, environment: str, numbers: Mapping[str, int]
) -> HeadToHead:
    return HeadToHead(
        id=row.id,
        pipeline_name=pipeline,
        environment_name=environment,
        challenger_version_id=row.challenger_version_id,
        challenger_number=numbers.get(row.challenger_version_id, 0),
        champion_version_id=row.champion_version_id,
        champion_number=numbers.get(row.champion_version_id, 0),
        dataset=row.dataset,
        dataset_sha256=row.dataset_sha256,
        labels=row.labels,
        rows=row.rows,
        rows_rule=row.rows_rule,
        metrics=tuple(MetricComparison.from_dict(m) for m in row.metrics),
        decisions=DecisionDiff.from_dict(row.decisions),
        compared_by=row.compared_by,
        compared_at=row.compared_at,
    )


def latest_comparisons(
    db: Session, pairs: set[tuple[str, str, int]]
) -> dict[tuple[str, str, int], VersionComparisonRow]:
    """The newest comparison row per (challenger, champion, environment), in one query."""
    if not pairs:
        return {}
    key = tuple_(
        VersionComparisonRow.challenger_version_id,
        VersionComparisonRow.champion_version_id,
        VersionComparisonRow.environment_id,
    )
    found: dict[tuple[str, str, int], VersionComparisonRow] = {}
    for row in db.scalars(
        select(VersionComparisonRow).where(key.in_(list(pairs))).order_by(VersionComparisonRow.id)
    ):
        found[(row.challenger_version_id, row.champion_version_id, row.environment_id)] = row
    return found


def _lineage_holdout(version: PipelineVersion, dataset_sha256: str) -> set[int] | None:
    """The hold-out rows of ``version`` if it was trained on this very data set, else None."""
    source = version.lineage.get(RETRAINED_FROM)
    if not isinstance(source, Mapping) or source.get("dataset_sha256") != dataset_sha256:
        return None
    split = version.lineage.get("split")
    positions = split.get("holdout_positions") if isinstance(split, Mapping) else None
    return {int(p) for p in positions} if isinstance(positions, Sequence) else set()


def _answers(
    model: Any, frame: pd.DataFrame, schema: Mapping[str, Any], spec: PipelineSpec
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None]:
    """Predictions, and for a binary classifier the probability of the positive class."""
    inputs = InputSchema.from_dict(schema).coerce(frame)
    predicted = np.asarray(model.predict(inputs))
    if spec.task != "classification" or not hasattr(model, "predict_proba"):
        return predicted, None
    classes = [str(c) for c in getattr(model, "classes_", [])]
    if len(classes) != 2:
        return predicted, None
    positive = str(spec.positive_class) if spec.positive_class is not None else classes[1]
    column = classes.index(positive) if positive in classes else 1
    return predicted, np.asarray(model.predict_proba(inputs))[:, column].astype(np.float64)


class HeadToHeadService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def compare(
        self,
        actor: Actor,
        pipeline: str,
        challenger: int,
        environment: str,
        *,
        dataset: str,
        labels: str | None = None,
        id_column: str | None = None,
        resamples: int = 400,
    ) -> HeadToHead:
        """Score ``challenger`` and what serves in ``environment`` on the same labelled rows; record it.

        Checked at the environment's tier like a retrain (it reads that
        environment's production data). Rows either version was trained on
        are left out (a retrained version's own training rows would flatter it).
        """
        from steward.core.drift.comparison import compare, decision_diff

        where = EnvironmentService(self.ctx).get(str(environment))
        authz.check(
            self.ctx,
            actor,
            Action.RETRAIN,
            tier=where.tier,
            object_type="pipeline",
            object_id=str(pipeline)[:100],
            what=f"compare {str(pipeline)[:100]} v{challenger} in {where.name}",
        )
        registry = PipelineService(self.ctx)
        found_pipeline = registry.get(pipeline)
        candidate = registry.version(pipeline, challenger)
        serving = [
            d for d in DeploymentService(self.ctx).serving(where.name) if d.pipeline_id == found_pipeline.id
        ]
        if not serving:
            raise InvalidInput(
                f"nothing serves {pipeline} in {where.name}: there is no champion to compare with"
            )
        champion = registry.version_by_id(serving[0].version_id)
        if champion.id == candidate.id:
            raise InvalidInput(
                f"{pipeline} v{challenger} is what serves in {where.name}: compare another version"
            )
        spec = PipelineSpec.from_dict(candidate.spec)

        catalog = DatasetService(self.ctx)
        listed = catalog.get(str(dataset))
        if listed.role != "production":
            raise InvalidInput(
                f"data set {listed.name!r} is a {listed.role} data set; compare on a production one"
            )
        found, frame = catalog.read_frame(listed.name, max_bytes=self.ctx.settings.max_upload_bytes)
        if labels:
            frame = registry._join_labels(frame, found.name, labels, id_column, spec.target, {})
        if spec.target not in frame.columns:
            raise InvalidInput(
                f"data set {found.name!r} has no target column {spec.target!r}: name the labels data set "
                "and the id column to join them"
            )
        frame = frame[frame[spec.target].notna()].reset_index(drop=True)
        keep, rule = set(range(len(frame))), "every labelled row"
        for role, version in (("challenger", candidate), ("champion", champion)):
            holdout = _lineage_holdout(version, found.sha256)
            if holdout is not None:
                keep &= holdout
                rule = f"rows neither version trained on: the {role}'s hold-out of this data set"
        if len(keep) < MIN_ROWS:
            raise InvalidInput(
                f"only {len(keep)} labelled rows of {found.name!r} were seen by neither version in training; "
                f"a comparison needs at least {MIN_ROWS}"
            )
        rows = frame.iloc[sorted(keep)].reset_index(drop=True)
        truth = rows[spec.target].to_numpy()
        champ_pred, champ_score = _answers(registry.load_model(champion), rows, champion.schema, spec)
        chall_pred, chall_score = _answers(registry.load_model(candidate), rows, candidate.schema, spec)
        results = compare(
            "classification" if spec.task == "classification" else "regression",
            truth,
            champ_pred,
            chall_pred,
            champion_score=champ_score,
            challenger_score=chall_score,
            resamples=resamples,
        )
        segments = [c.name for c in spec.schema.columns if c.kind in ("categorical", "boolean")][
            :SEGMENT_COLUMNS
        ]
        tolerance = (
            0.0 if spec.task == "classification" else round(0.1 * float(np.std(truth.astype(float))), 6)
        )
        decisions = decision_diff(champ_pred, chall_pred, rows[segments], tolerance=tolerance)

        with UnitOfWork(self.ctx) as uow:
            row = VersionComparisonRow(
                pipeline_id=found_pipeline.id,
                environment_id=where.id,
                challenger_version_id=candidate.id,
                champion_version_id=champion.id,
                dataset=found.name,
                dataset_sha256=found.sha256,
                labels=labels,
                rows=len(rows),
                rows_rule=rule,
                metrics=[m.to_dict() for m in results],
                decisions=decisions.to_dict(),
                compared_by=actor.username,
                compared_at=self.ctx.clock.now(),
            )
            uow.session.add(row)
            uow.session.flush()
            primary = results[0].sentence() if results else "no metric in common"
            uow.record(
                actor,
                "version.compare",
                object_type="pipeline_version",
                object_id=f"{pipeline} v{challenger}",
                detail=(
                    f"against v{champion.number} in {where.name} on {len(rows)} rows of {found.name}: "
                    + primary
                ),
                after={"comparison": row.id, "dataset_sha256": found.sha256, "rows": len(rows)},
            )
            uow.commit()
            numbers = {candidate.id: candidate.number, champion.id: champion.number}
            return to_head_to_head(row, found_pipeline.name, where.name, numbers)

    def latest(self, pipeline: str, challenger: int, environment: str) -> HeadToHead | None:
        """The newest comparison of ``challenger`` with what serves in ``environment`` now, if any."""
        where = EnvironmentService(self.ctx).get(str(environment))
        registry = PipelineService(self.ctx)
        found_pipeline = registry.get(pipeline)
        candidate = registry.version(pipeline, challenger)
        serving = [
            d for d in DeploymentService(self.ctx).serving(where.name) if d.pipeline_id == found_pipeline.id
        ]
        if not serving:
            return None
        champion = serving[0]
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = latest_comparisons(uow.session, {(candidate.id, champion.version_id, where.id)})
            row = rows.get((candidate.id, champion.version_id, where.id))
            if row is None:
                return None
            numbers = {candidate.id: candidate.number, champion.version_id: champion.version_number}
            return to_head_to_head(row, found_pipeline.name, where.name, numbers)

    def of_version(self, pipeline: str, challenger: int) -> list[HeadToHead]:
        """The newest comparison of ``challenger`` in each environment, for its card (newest first)."""
        registry = PipelineService(self.ctx)
        candidate = registry.version(pipeline, challenger)
        environments = {e.id: e.name for e in EnvironmentService(self.ctx).list()}
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.scalars(
                select(VersionComparisonRow)
                .where(VersionComparisonRow.challenger_version_id == candidate.id)
                .order_by(VersionComparisonRow.id.desc())
            ).all()
            newest: dict[int, VersionComparisonRow] = {}
            for row in rows:
                newest.setdefault(row.environment_id, row)
            champions = {row.champion_version_id for row in newest.values()}
            numbers = {candidate.id: candidate.number} | {
                v: registry.version_by_id(v).number for v in champions
            }
            return [
                to_head_to_head(
                    row, candidate.pipeline_name, environments.get(row.environment_id, "?"), numbers
                )
                for row in newest.values()
            ]

    def get(self, comparison_id: int) -> HeadToHead:
        with UnitOfWork(self.ctx, write=False) as uow:
            row = uow.session.get(VersionComparisonRow, comparison_id)
            if row is None:
                raise NotFound(f"no comparison #{comparison_id}")
            registry = PipelineService(self.ctx)
            challenger = registry.version_by_id(row.challenger_version_id)
            champion = registry.version_by_id(row.champion_version_id)
            environment = next(e for e in EnvironmentService(self.ctx).list() if e.id == row.environment_id)
            numbers = {challenger.id: challenger.number, champion.id: champion.number}
            return to_head_to_head(row, challenger.pipeline_name, environment.name, numbers)
