"""The pipeline registry: register specs, train immutable versions, load them safely.

Training is slow and happens outside any transaction: load and check the data,
fit, evaluate, profile the training data for drift, write the artifact
atomically. Only then does one short transaction add the version row, its
reference profile and the audit event. If that transaction fails, the
artifact is discarded, so there is never a row without its file, and a crash
before it leaves at worst an unreferenced file (never a half-written one).
"""

from __future__ import annotations

import builtins
import dataclasses
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline as SkPipeline
from sqlalchemy import func, select

from steward.core.adapters.artifacts import (
    SAFE_TEMP_AGE,
    Upload,
    first_prediction,
    loads_pipeline,
    read_upload,
)
from steward.core.adapters.db.mappers.registry import to_pipeline, to_version
from steward.core.adapters.db.models import PipelineRow, PipelineVersionRow, ReferenceProfileRow
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import Outcome
from steward.core.domain.environments import Environment
from steward.core.domain.permissions import Action
from steward.core.domain.pipelines_page import PipelinesPage
from steward.core.domain.registry import Pipeline, PipelineOverview, PipelineVersion
from steward.core.drift.kinds import ColumnKind
from steward.core.drift.profile import Profile, build_profile
from steward.core.errors import IntegrityError, InvalidInput, NotFound, StewardError
from steward.core.pipelines.provenance import git_commit
from steward.core.pipelines.schema import InputSchema
from steward.core.pipelines.sources import DataSource, make_source
from steward.core.pipelines.spec import PipelineSpec, parse_spec
from steward.core.pipelines.training import TrainingResult, evaluate_fitted, train
from steward.core.services import authz
from steward.core.services.catalog import DatasetService
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import deployed_map
from steward.core.services.environments import EnvironmentService
from steward.core.services.predictions import request_ids
from steward.core.services.registry_page import latest_versions, read_pipelines_page
from steward.core.services.uow import UnitOfWork

PREDICTION_COLUMN = "prediction"
MAX_SPEC_BYTES = 256 * 1024
MAX_LISTED = 100
# Where a retrained version's lineage (and its audit event) says which production data it learned from.
RETRAINED_FROM = "retrained_from"
AUDIT_ACTIONS = {"trained": "pipeline.train", "uploaded": "pipeline.upload", "retrained": "pipeline.retrain"}


def drift_kinds(schema: InputSchema) -> dict[str, ColumnKind]:
    """Declared categories stay categories; numbers are left to the drift engine (few values: categorical)."""
    return {
        column.name: ColumnKind.CATEGORICAL
        for column in schema.columns
        if column.kind in ("categorical", "boolean")
    }


def predictions(pipeline: SkPipeline, frame: pd.DataFrame, task: str) -> np.ndarray[Any, Any]:
    """The model's output as drift sees it: the positive-class probability, or the predicted value."""
    if task == "classification" and hasattr(pipeline, "predict_proba"):
        probabilities = pipeline.predict_proba(frame)
        return np.asarray(probabilities[:, -1], dtype=float)
    return np.asarray(pipeline.predict(frame), dtype=float)


def reference_profile(spec: PipelineSpec, pipeline: SkPipeline, data: pd.DataFrame) -> Profile:
    """Profile of the training inputs and of the model's outputs on them (for prediction drift).

    The training data's other columns (the target, ids, columns the schema
    leaves out) are recorded as known but ignored: production data carrying
    them is not a schema change; a column training never had is.
    """
    inputs = spec.schema.coerce(data)
    frame = inputs.copy()
    frame[PREDICTION_COLUMN] = predictions(pipeline, inputs, spec.task)
    profile = build_profile(frame, kinds=drift_kinds(spec.schema), prediction_columns=[PREDICTION_COLUMN])
    known = tuple(str(c) for c in data.columns if str(c) not in frame.columns)
    return dataclasses.replace(profile, ignored_columns=profile.ignored_columns + known)


class PipelineService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ---- reads -------------------------------------------------------------
    def list(self) -> builtins.list[PipelineOverview]:
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.scalars(select(PipelineRow).order_by(PipelineRow.name)).all()
            counts = dict(
                uow.session.execute(
                    select(PipelineVersionRow.pipeline_id, func.count()).group_by(
                        PipelineVersionRow.pipeline_id
                    )
                ).all()
            )
            latest_rows = latest_versions(uow.session)  # only the newest rows, not every version's charts
            deployed = deployed_map(uow.session)
            return [
                PipelineOverview(
                    pipeline=to_pipeline(row),
                    latest=to_version(latest_rows[row.id], row.name) if row.id in latest_rows else None,
                    version_count=int(counts.get(row.id, 0)),
                    deployed=deployed.get(row.id, {}),
                )
                for row in rows
            ]

    def page(self, actor: Actor, *, pipeline: str | None = None, version: object = None) -> PipelinesPage:
        """The Pipelines page in one read (see :mod:`steward.core.services.registry_page`)."""
        return read_pipelines_page(self.ctx, actor, pipeline=pipeline, version=version)

    def get(self, name: str) -> Pipeline:
        with UnitOfWork(self.ctx, write=False) as uow:
            return to_pipeline(self._pipeline_row(uow, name))

    def versions(self, name: str) -> builtins.list[PipelineVersion]:
        with UnitOfWork(self.ctx, write=False) as uow:
            row = self._pipeline_row(uow, name)
            versions = uow.session.scalars(
                select(PipelineVersionRow)
                .where(PipelineVersionRow.pipeline_id == row.id)
                .order_by(PipelineVersionRow.number)
            )
            return [to_version(version, row.name) for version in versions]

    def version(self, name: str, number: int) -> PipelineVersion:
        with UnitOfWork(self.ctx, write=False) as uow:
            row = self._pipeline_row(uow, name)
            version = uow.session.scalar(
                select(PipelineVersionRow).where(
                    PipelineVersionRow.pipeline_id == row.id, PipelineVersionRow.number == number
                )
            )
            if version is None:
                raise NotFound(f"pipeline {row.name} has no version {number}")
            return to_version(version, row.name)

    def version_by_id(self, version_id: str) -> PipelineVersion:
        with UnitOfWork(self.ctx, write=False) as uow:
            version = uow.session.get(PipelineVersionRow, version_id)
            if version is None:
                raise NotFound(f"no pipeline version {version_id[:40]!r}")
            pipeline = uow.session.get(PipelineRow, version.pipeline_id)
            assert pipeline is not None
            return to_version(version, pipeline.name)

    def reference_profile(self, version_id: str) -> Profile:
        with UnitOfWork(self.ctx, write=False) as uow:
            row = uow.session.get(ReferenceProfileRow, version_id)
            if row is None:
                raise NotFound(f"version {version_id[:40]} has no reference profile")
            return Profile.from_bytes(row.profile)

    # ---- registering -------------------------------------------------------
    def register(self, actor: Actor, spec_text: str | bytes) -> Pipeline:
        """Register a pipeline from its TOML spec, or update the spec of an existing one (audited)."""
        authz.check(
            self.ctx, actor, Action.REGISTER_PIPELINE, object_type="pipeline", what="register a pipeline"
        )
        if len(spec_text) > MAX_SPEC_BYTES:
            raise InvalidInput(f"the spec is larger than {MAX_SPEC_BYTES // 1024} kB")
        spec = parse_spec(spec_text)
        spec_json, digest, now = (
            spec.to_dict(),
            spec.digest(),
            self.ctx.clock.now(),
        )
        with UnitOfWork(self.ctx) as uow:
            row = uow.session.scalar(select(PipelineRow).where(PipelineRow.name == spec.name))
            if row is None:
                row = PipelineRow(
                    name=spec.name,
                    owner=spec.owner,
                    task=spec.task,
                    target=spec.target,
                    description=spec.description,
                    spec_json=spec_json,
                    spec_digest=digest,
                    created_at=now,
                    created_by=actor.username,
                    updated_at=now,
                )
                uow.session.add(row)
                uow.session.flush()
                uow.record(
                    actor,
                    "pipeline.register",
                    object_type="pipeline",
                    object_id=spec.name,
                    after={
                        "owner": spec.owner,
                        "task": spec.task,
                        "target": spec.target,
                        "spec_digest": digest,
                    },
                )
            elif row.spec_digest != digest:
                if (row.task, row.target) != (spec.task, spec.target):
                    raise InvalidInput(
                        f"pipeline {row.name} predicts {row.target!r} ({row.task}); a spec for "
                        f"{spec.target!r} ({spec.task}) needs a new pipeline name"
                    )
                before = {"spec_digest": row.spec_digest, "owner": row.owner}
                row.spec_json, row.spec_digest, row.owner = spec_json, digest, spec.owner
                row.description, row.updated_at = spec.description, now
                uow.record(
                    actor,
                    "pipeline.spec_update",
                    object_type="pipeline",
                    object_id=spec.name,
                    before=before,
                    after={"spec_digest": digest, "owner": spec.owner},
                )
            pipeline = to_pipeline(row)
            uow.commit()
        return pipeline

    # ---- training ----------------------------------------------------------
    def train(self, actor: Actor, name: str, *, importances: bool = True) -> PipelineVersion:
        """Train the pipeline's current spec into a new immutable version."""
        authz.check(
            self.ctx,
            actor,
            Action.TRAIN_PIPELINE,
            object_type="pipeline",
            object_id=str(name)[:100],
            what=f"train {str(name)[:100]}",
        )
        pipeline = self.get(name)
        spec = PipelineSpec.from_dict(pipeline.spec)

        def spec_source() -> tuple[pd.DataFrame, str]:
            source = self._source(spec)
            return source.load(), source.describe()

        return self._fit_and_add(
            actor, pipeline, spec, spec_source, origin="trained", importances=importances
        )

    def retrain(
        self,
        actor: Actor,
        name: str,
        *,
        environment: str | None = None,
        dataset: str,
        labels: str | None = None,
        id_column: str | None = None,
        importances: bool = True,
    ) -> PipelineVersion:
        """Train the pipeline's current spec on a registered production data set into a new version.

        The data set belongs to an environment (recorded at registration):
        retraining on it is checked at that environment's tier (Prod's data:
        operators and admins). ``environment``, when given, must be that one:
        naming another is refused, so nobody trains on Prod's rows as "Dev data".
        The target comes with the data set, or from a ``labels`` data
        set joined on ``id_column`` (delayed labels, as monitors join them);
        rows whose label has not arrived are left out. Without a target it is
        refused like bad training data, naming the column, and nothing is
        registered. The version's lineage records the data sets, their SHA-256
        and the environment.
        """
        environments = EnvironmentService(self.ctx)
        if environment is not None:  # the tier named is checked before anything is looked up
            where = environments.get(str(environment))
            self._check_retrain(actor, name, where)
        try:
            owner = DatasetService(self.ctx).get(str(dataset)).environment
        except NotFound as missing:
            self._record_failure(actor, "pipeline.retrain", str(name)[:100], str(missing))
            raise
        if environment is None:
            if owner is None:
                raise InvalidInput(
                    f"data set {str(dataset)[:64]!r} belongs to no environment: it is not production data"
                )
            where = environments.get(owner)
            self._check_retrain(actor, name, where)
        elif owner is not None and owner != where.name:
            problem = (
                f"data set {str(dataset)[:64]!r} is {owner}'s production data: retraining on it is checked "
                f"at {owner}, not {where.name}"
            )
            self._record_failure(actor, "pipeline.retrain", str(name)[:100], problem)
            raise InvalidInput(problem)
        pipeline = self.get(name)
        spec = PipelineSpec.from_dict(pipeline.spec)
        # Completed with the data set's name, digest and rows once they are read (inside the training path).
        provenance: dict[str, Any] = {"environment": where.name, "environment_id": where.id}

        def production_data() -> tuple[pd.DataFrame, str]:
            found = DatasetService(self.ctx).get(str(dataset))
            if found.role != "production":
                raise InvalidInput(
                    f"data set {found.name!r} is a {found.role} data set; retraining takes a production one"
                )
            with_labels = [*found.columns, *([spec.target] if labels else [])]
            absent = [column for column in (*spec.schema.names, spec.target) if column not in with_labels]
            if spec.target in absent:
                raise InvalidInput(
                    f"data set {found.name!r} has no target column {spec.target!r}: its labels have not "
                    "arrived (name a labels data set and the id column to join them), so it cannot be "
                    "trained on"
                )
            required = [c for c in absent if spec.schema.column(c).required]
            if required:
                raise InvalidInput(f"data set {found.name!r} lacks the schema column {required[0]!r}")
            found, frame = DatasetService(self.ctx).read_frame(
                found.name, max_bytes=self.ctx.settings.max_upload_bytes
            )
            provenance.update(dataset=found.name, dataset_sha256=found.sha256, dataset_rows=len(frame))
            if labels:
                frame = self._join_labels(frame, found.name, labels, id_column, spec.target, provenance)
            return frame, f"file:{found.path}"

        return self._fit_and_add(
            actor,
            pipeline,
            spec,
            production_data,
            origin="retrained",
            importances=importances,
            provenance=provenance,
        )

    def _check_retrain(self, actor: Actor, name: str, where: Environment) -> None:
        authz.check(
            self.ctx,
            actor,
            Action.RETRAIN,
            tier=where.tier,
            object_type="pipeline",
            object_id=str(name)[:100],
            what=f"{str(name)[:100]} from {where.name}",
        )

    def _join_labels(
        self,
        frame: pd.DataFrame,
        dataset: str,
        labels: str,
        id_column: str | None,
        target: str,
        provenance: dict[str, Any],
    ) -> pd.DataFrame:
        """Production rows with their delayed labels, joined on the request id; unlabelled rows left out."""
        if not id_column:
            raise InvalidInput("joining labels needs the id column they share with the production data")
        if target in frame.columns:
            raise InvalidInput(f"data set {dataset!r} already holds the target {target!r}: name no labels")
        catalog = DatasetService(self.ctx)
        if catalog.get(labels).role != "labels":
            raise InvalidInput(f"data set {labels!r} is not a labels data set")
        found, outcomes = catalog.read_frame(labels, max_bytes=self.ctx.settings.max_upload_bytes)
        for column, table, where in (
            (id_column, frame, dataset),
            (id_column, outcomes, labels),
            (target, outcomes, labels),
        ):
            if column not in table.columns:
                raise InvalidInput(f"data set {where!r} has no column {column!r}")
        keys = request_ids(outcomes[id_column])
        if keys.duplicated().any():
            raise InvalidInput(f"labels {labels!r} repeat the id {keys[keys.duplicated()].iloc[0][:40]!r}")
        label_of = pd.Series(outcomes[target].to_numpy(), index=keys.to_numpy())
        joined = frame.assign(**{target: request_ids(frame[id_column]).map(label_of).to_numpy()})
        labelled = joined[joined[target].notna()].reset_index(drop=True)
        provenance.update(
            labels=found.name,
            labels_sha256=found.sha256,
            id_column=id_column,
            labelled_rows=len(labelled),
            unlabelled_rows=len(joined) - len(labelled),
        )
        return labelled

    def _fit_and_add(
        self,
        actor: Actor,
        pipeline: Pipeline,
        spec: PipelineSpec,
        load: Callable[[], tuple[pd.DataFrame, str]],
        *,
        origin: str,
        importances: bool,
        provenance: Mapping[str, Any] | None = None,
    ) -> PipelineVersion:
        """The one training path: load, train, profile outside any transaction, then add the version.

        A refusal on the way (bad data, a missing column, one class) is audited
        as a failed attempt and nothing is written.
        """
        try:
            data, described = load()
            result = train(spec, data, source=described, code_version=git_commit(), importances=importances)
            profile = reference_profile(spec, result.pipeline, data)
        except StewardError as problem:
            self._record_failure(actor, AUDIT_ACTIONS[origin], pipeline.name, str(problem))
            raise
        return self._add_version(actor, pipeline, spec, result, profile, origin=origin, provenance=provenance)

    def _add_version(
        self,
        actor: Actor,
        pipeline: Pipeline,
        spec: PipelineSpec,
        result: TrainingResult,
        profile: Profile,
        *,
        origin: str,
        provenance: Mapping[str, Any] | None = None,
    ) -> PipelineVersion:
        version_id = uuid.uuid4().hex
        stored = self.ctx.artifacts.put(pipeline.name, version_id, result.pipeline)
        try:
            with UnitOfWork(self.ctx) as uow:
                row = uow.session.get(PipelineRow, pipeline.id, with_for_update=True)
                if row is None:
                    raise NotFound(f"pipeline {pipeline.name} was removed while training")
                number = (
                    uow.session.scalar(
                        select(func.max(PipelineVersionRow.number)).where(
                            PipelineVersionRow.pipeline_id == row.id
                        )
                    )
                    or 0
                ) + 1
                lineage = result.lineage.to_dict()
                if provenance is not None:
                    lineage[RETRAINED_FROM] = dict(provenance)
                version_row = PipelineVersionRow(
                    id=version_id,
                    pipeline_id=row.id,
                    number=number,
                    origin=origin,
                    status="ready",
                    artifact_uri=stored.uri,
                    artifact_sha256=stored.sha256,
                    artifact_size=stored.size,
                    spec_json=spec.to_dict(),
                    spec_digest=spec.digest(),
                    schema_json=spec.schema.to_dict(),
                    data_digest=result.lineage.data_digest,
                    data_rows=result.lineage.data_rows,
                    metrics_json=dict(result.metrics),
                    lineage_json=dict(lineage),
                    charts_json=result.charts.to_dict(),
                    warnings_json=list(result.warnings),
                    trained_by=actor.username,
                    trained_at=self.ctx.clock.now(),
                )
                uow.session.add(version_row)
                uow.session.flush()
                uow.session.add(
                    ReferenceProfileRow(
                        version_id=version_id,
                        profile=profile.to_bytes(),
                        rows=profile.rows,
                        created_at=self.ctx.clock.now(),
                    )
                )
                version = to_version(version_row, row.name)
                after = version.summary()
                if provenance is not None:
                    after[RETRAINED_FROM] = dict(provenance)
                uow.record(
                    actor,
                    AUDIT_ACTIONS[origin],
                    object_type="pipeline_version",
                    object_id=f"{row.name}/v{number}",
                    after=after,
                )
                uow.commit()
        except BaseException:
            self.ctx.artifacts.discard(stored.uri)  # no row refers to it: never leave it behind
            raise
        return version

    def _record_failure(self, actor: Actor, action: str, name: str, problem: str) -> None:
        with UnitOfWork(self.ctx) as uow:
            uow.record(
                actor, action, object_type="pipeline", object_id=name, outcome=Outcome.FAILED, detail=problem
            )
            uow.commit()

    # ---- artifacts ---------------------------------------------------------
    def load_model(self, version: PipelineVersion) -> SkPipeline:
        """The fitted pipeline, only if its bytes still hash to what was registered."""
        try:
            return self.ctx.artifacts.load(version.artifact_uri, version.artifact_sha256, version.label)
        except IntegrityError as problem:
            self._artifact_alarm(version, str(problem))
            raise IntegrityError(f"{version.pipeline_name} {version.label}: {problem}") from None

    def score(self, version: PipelineVersion, frame: pd.DataFrame) -> pd.DataFrame:
        """Predictions for ``frame``, which is first checked against the version's input schema.

        scikit-learn silently accepts reordered or extra columns and numbers sent
        as text; the schema check refuses them, naming the column, before predict.
        """
        model = self.load_model(version)
        inputs = InputSchema.from_dict(version.schema).coerce(frame)
        result = pd.DataFrame(index=frame.index)
        result[PREDICTION_COLUMN] = predictions(model, inputs, version.task)
        if version.task == "classification":
            result["label"] = model.predict(inputs)
        return result

    def verify_artifacts(self, actor: Actor) -> builtins.list[str]:
        """Check every stored artifact's digest; each mismatch is an alarm event. Returns the problems."""
        problems = []
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.execute(
                select(PipelineVersionRow, PipelineRow.name)
                .join(PipelineRow)
                .order_by(PipelineRow.name, PipelineVersionRow.number)
            ).all()
            versions = [to_version(row, name) for row, name in rows]
        for version in versions:
            try:
                self.ctx.artifacts.read_verified(version.artifact_uri, version.artifact_sha256, version.label)
            except (IntegrityError, NotFound, OSError) as problem:
                message = f"{version.pipeline_name} {version.label}: {problem}"
                self._artifact_alarm(version, message)
                problems.append(message)
        return problems

    def _artifact_alarm(self, version: PipelineVersion, message: str) -> None:
        """An artifact that no longer matches is an alert-worthy event, recorded for the alerts monitor."""
        with UnitOfWork(self.ctx) as uow:
            uow.record(
                Actor.system_actor("registry"),
                "artifact.integrity_failed",
                object_type="pipeline_version",
                object_id=f"{version.pipeline_name}/{version.label}",
                outcome=Outcome.FAILED,
                detail=message,
                after={
                    "version_id": version.id,
                    "expected_sha256": version.artifact_sha256,
                    "severity": "critical",
                },
            )
            uow.commit()

    def import_artifact(
        self, actor: Actor, name: str, upload: Upload, *, filename: str = "upload"
    ) -> PipelineVersion:
        """Register an uploaded skops pipeline as a new version, evaluated on the pipeline's own hold-out.

        ``upload`` is the file's bytes, its path or an open binary file. One
        over ``max_upload_bytes`` is refused by its size before it is read (a
        path or an open file is never read whole). The file is then inspected
        as data: a pickle, a joblib file or a skops file naming a type outside
        Steward's allow-list is refused (and the refusal audited) before
        anything in it could run.
        """
        authz.check(
            self.ctx,
            actor,
            Action.TRAIN_PIPELINE,
            object_type="pipeline",
            object_id=str(name)[:100],
            what=f"upload a version of {str(name)[:100]}",
        )
        pipeline = self.get(name)
        limit = self.ctx.settings.max_upload_bytes
        try:
            data = read_upload(upload, max_bytes=limit, what=filename)
            fitted = loads_pipeline(data, what=filename, max_bytes=limit)
            spec = PipelineSpec.from_dict(pipeline.spec)
            source = self._source(spec)
            frame = source.load()
            # A crash or hang of the first prediction takes down a child process, not this one.
            first_prediction(data, spec.schema.coerce(frame), what=filename)
            result = evaluate_fitted(spec, frame, fitted, source=source.describe())
            profile = reference_profile(spec, fitted, frame)
        except StewardError as problem:
            self._record_failure(
                actor, "pipeline.upload", pipeline.name, f"refused {filename[:100]}: {problem}"
            )
            raise
        return self._add_version(actor, pipeline, spec, result, profile, origin="uploaded")

    def sweep_temporary_artifacts(self, actor: Actor, *, older_than: timedelta = SAFE_TEMP_AGE) -> str:
        """Remove temporary artifact files a crash left behind, if older than ``older_than``; a summary.

        Younger ones may be a write in progress and are kept. Committed artifacts
        are never touched. Removals are audited (a sweep that removes nothing
        writes no event, so the worker's regular runs do not fill the log).
        """
        authz.check(
            self.ctx,
            actor,
            Action.TRAIN_PIPELINE,
            object_type="artifact_store",
            what="remove leftover temporary artifact files",
        )
        if older_than < SAFE_TEMP_AGE:
            raise InvalidInput(
                f"older_than must be at least {SAFE_TEMP_AGE.total_seconds() / 60:g} min: "
                "a younger temporary file may be a write in progress"
            )
        swept = self.ctx.artifacts.sweep(older_than=older_than, now=self.ctx.clock.now())
        age = f"{older_than.total_seconds() / 60:g} min"
        summary = (
            f"removed {len(swept.removed)} temporary artifact file(s) older than {age}; "
            f"kept {len(swept.kept)} younger (possibly still being written)"
        )
        if swept.removed:
            with UnitOfWork(self.ctx) as uow:
                uow.record(
                    actor,
                    "artifact.sweep",
                    object_type="artifact_store",
                    detail=summary,
                    after={
                        "removed": list(swept.removed[:MAX_LISTED]),
                        "removed_count": len(swept.removed),
                        "kept_count": len(swept.kept),
                        "older_than_seconds": int(older_than.total_seconds()),
                    },
                )
                uow.commit()
        return summary

    # ---- helpers -----------------------------------------------------------
    def _source(self, spec: PipelineSpec) -> DataSource:
        """The spec's training data: a file under the data folder, or a query on a configured database."""
        return make_source(
            spec.source,
            data_root=self.ctx.settings.data_dir / "datasets",
            databases=self.ctx.settings.source_databases,
            max_bytes=self.ctx.settings.max_upload_bytes,
        )

    @staticmethod
    def _pipeline_row(uow: UnitOfWork, name: str) -> PipelineRow:
        row = uow.session.scalar(select(PipelineRow).where(PipelineRow.name == name))
        if row is None:
            raise NotFound(f"no pipeline named {str(name)[:100]!r}")
        return row


def metrics_table(versions: builtins.list[PipelineVersion]) -> builtins.list[Mapping[str, Any]]:
    """Versions side by side, for pages and reports."""
    return [
        {
            "version": v.label,
            **{k: v.metrics.get(k) for k in sorted(v.metrics)},
            "data digest": v.data_digest[:12],
            "rows": v.data_rows,
            "by": v.trained_by,
            "at": v.trained_at,
        }
        for v in versions
    ]
