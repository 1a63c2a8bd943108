"""The prediction log: what each deployment answered, written by batch runs (and later by HTTP scoring).

Drift and performance monitors read their windows from here, so a monitor
judges what production actually saw and labels join on the id each request
was answered under. Inputs are stored as JSON exactly as they arrived (after
the schema check): text stays text and a type error stays visible to the
data-quality checks.
"""

from __future__ import annotations

import builtins
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from steward.core.adapters.db.bulk import append_predictions
from steward.core.adapters.db.log_reads import answered
from steward.core.adapters.db.models import (
    EnvironmentRow,
    PipelineRow,
    PipelineVersionRow,
    PredictionRow,
    RequestRollupRow,
    RollupMarkRow,
)
from steward.core.domain.predictions import PredictionLogSummary
from steward.core.errors import InvalidInput, NotFound
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork

# Columns the log adds beside a request's own inputs (named so no input column can clash).
REQUEST_ID = "__steward_request_id"
EVENT_TIME = "__steward_event_time"
PREDICTED_LABEL = "__steward_label"
HOUR_SECONDS = 3600  # the rollups' hour span (every logged row is in exactly one hour rollup)


def request_ids(values: pd.Series) -> pd.Series:
    """Request ids as text; whole numbers lose a trailing ".0", so an id column read as floats still joins."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = pd.to_numeric(values)
        if numbers.notna().all() and (numbers == numbers.round()).all():
            return numbers.astype("int64").astype(str)
    if values.isna().any():
        raise InvalidInput(f"id column {values.name!r} has an empty value: each request needs an id")
    return values.astype(str)


def _json_value(value: Any) -> Any:
    """Plain JSON types; NaN and infinities kept as the tokens Python's json reads back."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _dumps(record: Mapping[Any, Any]) -> str:
    return json.dumps({str(k): _json_value(v) for k, v in record.items()}, allow_nan=True)


def _json_lines(frame: pd.DataFrame) -> builtins.list[str]:
    """One JSON object per row, encoded by pandas in C (the per-row ``json.dumps`` was the ingest's cost)."""
    if frame.empty:
        return [_dumps({}) for _ in range(len(frame))]
    text = frame.rename(columns=str).to_json(
        orient="records", lines=True, double_precision=15, date_format="iso", date_unit="us"
    )
    return text.rstrip("\n").split("\n") if text else []


def _json_number(value: float | None) -> str:
    """``json.dumps(value, allow_nan=True)`` for a float or None, without its per-call overhead."""
    if value is None:
        return "null"
    if isinstance(value, float) and math.isfinite(value):
        return repr(float(value))  # numpy floats too (their own repr is "np.float64(...)")
    return json.dumps(_json_value(value), allow_nan=True)


@dataclass(frozen=True)
class ScoredBatch:
    """Requests a batch run scored, held until the run's transaction logs them."""

    request_ids: Sequence[str]
    event_times: Sequence[datetime]
    features: pd.DataFrame  # the inputs as they arrived, one row per request
    predictions: Sequence[float | None]
    labels: Sequence[Any] | None  # the predicted class, for classifiers

    def __len__(self) -> int:
        return len(self.request_ids)

    def rows(
        self, *, pipeline_id: int, environment_id: int, version_id: str, source: str, scored_at: datetime
    ) -> builtins.list[builtins.list[Any]]:
        """The batch as log rows in ``PREDICTION_COLUMNS`` order, ready for the bulk path.

        Inputs become compact JSON in one vectorised pass (pandas' encoder, 15
        significant digits: every value a CSV holds with up to 15 digits comes
        back exactly) instead of one ``json.dumps`` per row.
        """
        features = _json_lines(self.features)
        # Answers exactly: a float's repr is its JSON (json.dumps calls the same repr), labels once each.
        answers = [_json_number(p) for p in self.predictions]
        if self.labels is None:
            encoded = [f'{{"prediction": {a}}}' for a in answers]
        else:
            labels: dict[Any, str] = {}
            for label in self.labels:
                if label not in labels:
                    labels[label] = json.dumps(_json_value(label))
            encoded = [
                f'{{"prediction": {a}, "label": {labels[t]}}}'
                for a, t in zip(answers, self.labels, strict=True)
            ]
        clean = [p if p is not None and math.isfinite(p) else None for p in self.predictions]
        return [
            [
                pipeline_id,
                environment_id,
                version_id,
                rid,
                source,
                when,
                scored_at,
                f,
                p,
                o,
                None,
                "ok",
                False,
            ]
            for rid, when, f, p, o in zip(
                self.request_ids, self.event_times, features, clean, encoded, strict=True
            )
        ]

    def frame(self, prediction_column: str) -> pd.DataFrame:
        """The batch as the log will read it back (for analysis before the commit)."""
        frame = self.features.reset_index(drop=True).copy()
        frame[prediction_column] = np.asarray(self.predictions, dtype="float64")
        frame[REQUEST_ID] = list(self.request_ids)
        frame[EVENT_TIME] = pd.to_datetime(list(self.event_times), utc=True)
        if self.labels is not None:
            frame[PREDICTED_LABEL] = list(self.labels)
        return frame


class PredictionLog:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    @staticmethod
    def _ids(session: Session, pipeline: str, environment: str) -> tuple[int, int]:
        pipeline_id = session.scalar(select(PipelineRow.id).where(PipelineRow.name == pipeline))
        environment_id = session.scalar(select(EnvironmentRow.id).where(EnvironmentRow.name == environment))
        if pipeline_id is None:
            raise NotFound(f"no pipeline named {pipeline[:100]!r}")
        if environment_id is None:
            raise NotFound(f"no environment named {environment[:64]!r}")
        return pipeline_id, environment_id

    def known(self, pipeline: str, environment: str, request_ids: Iterable[str]) -> set[str]:
        """Which of these requests the deployment has answered already (one set-based statement)."""
        wanted = list(dict.fromkeys(request_ids))
        with UnitOfWork(self.ctx, write=False) as uow:
            pipeline_id, environment_id = self._ids(uow.session, pipeline, environment)
            return answered(uow.session, pipeline_id, environment_id, wanted)

    def append(
        self,
        uow: UnitOfWork,
        batch: ScoredBatch,
        *,
        pipeline: str,
        environment: str,
        version_id: str,
        source: str,
    ) -> None:
        """Log a batch in the caller's transaction; a request another run logged meanwhile is kept once."""
        pipeline_id, environment_id = self._ids(uow.session, pipeline, environment)
        rows = batch.rows(
            pipeline_id=pipeline_id,
            environment_id=environment_id,
            version_id=version_id,
            source=source,
            scored_at=self.ctx.clock.now(),
        )
        append_predictions(uow.session, rows)

    def frame(self, pipeline: str, environment: str, version_id: str, prediction_column: str) -> pd.DataFrame:
        """Everything ``version_id`` answered in the deployment, in event order, as the analysis reads it."""
        with UnitOfWork(self.ctx, write=False) as uow:
            pipeline_id, environment_id = self._ids(uow.session, pipeline, environment)
            rows = uow.session.execute(
                select(
                    PredictionRow.request_id,
                    PredictionRow.event_time,
                    PredictionRow.features_json,
                    PredictionRow.output_json,
                )
                .where(
                    PredictionRow.pipeline_id == pipeline_id,
                    PredictionRow.environment_id == environment_id,
                    PredictionRow.version_id == version_id,
                )
                .order_by(PredictionRow.event_time, PredictionRow.id)
            ).all()
        if not rows:
            return pd.DataFrame()
        features = pd.DataFrame.from_records([json.loads(row.features_json) for row in rows])
        outputs = [json.loads(row.output_json) for row in rows]
        features[prediction_column] = pd.Series(
            [o.get("prediction") for o in outputs], dtype="float64", index=features.index
        )
        features[REQUEST_ID] = [row.request_id for row in rows]
        features[EVENT_TIME] = pd.to_datetime([row.event_time for row in rows], utc=True)
        if any("label" in o for o in outputs):
            features[PREDICTED_LABEL] = [o.get("label") for o in outputs]
        return features

    def summary(self, pipeline: str, environment: str) -> PredictionLogSummary:
        """How much the deployment logged, per version, and when: rollups plus the rows not rolled up yet.

        Counts are the rollups' hour rows (every channel) plus a count of the
        log rows the rollup job has not read (above its mark or in its watched
        gaps), so the figure is exact without scanning the log; first/last
        event and last scored time are index seeks.
        """
        with UnitOfWork(self.ctx, write=False) as uow:
            db = uow.session
            pipeline_id, environment_id = self._ids(db, pipeline, environment)
            where = (PredictionRow.pipeline_id == pipeline_id, PredictionRow.environment_id == environment_id)
            counts: dict[str, int] = {}
            for version, requests in db.execute(
                select(RequestRollupRow.version_id, func.sum(RequestRollupRow.requests))
                .where(
                    RequestRollupRow.pipeline_id == pipeline_id,
                    RequestRollupRow.environment_id == environment_id,
                    RequestRollupRow.span_seconds == HOUR_SECONDS,
                )
                .group_by(RequestRollupRow.version_id)
            ):
                counts[version] = counts.get(version, 0) + int(requests or 0)
            mark = db.get(RollupMarkRow, "predictions")
            unread = PredictionRow.id > (mark.last_id if mark is not None else 0)
            if mark is not None:
                gaps = [
                    PredictionRow.id.between(int(a), int(b)) for a, b, _ in json.loads(mark.gaps_json or "[]")
                ]
                unread = or_(unread, *gaps) if gaps else unread
            # "+ 0" keeps the planner off the deployment indexes: only the id range (new rows) is read.
            fresh = (
                PredictionRow.pipeline_id + 0 == pipeline_id,
                PredictionRow.environment_id + 0 == environment_id,
            )
            for version, requests in db.execute(
                select(PredictionRow.version_id, func.count(PredictionRow.id))
                .where(*fresh, unread)
                .group_by(PredictionRow.version_id)
            ):
                counts[version] = counts.get(version, 0) + int(requests or 0)
            versions = list(counts)
            first = last = None
            for version in versions:  # each an index seek on (pipeline, environment, version, event_time)
                scope = (*where, PredictionRow.version_id == version)
                low = db.scalar(select(func.min(PredictionRow.event_time)).where(*scope))
                high = db.scalar(select(func.max(PredictionRow.event_time)).where(*scope))
                first = low if first is None or (low is not None and low < first) else first
                last = high if last is None or (high is not None and high > last) else last
            scored = db.scalar(select(func.max(PredictionRow.scored_at)).where(*where))
            numbers = dict(
                db.execute(
                    select(PipelineVersionRow.id, PipelineVersionRow.number).where(
                        PipelineVersionRow.id.in_(versions)
                    )
                ).all()
            )
        by_number: dict[int, int] = {}
        for version, count in counts.items():
            if version in numbers and count:
                by_number[int(numbers[version])] = by_number.get(int(numbers[version]), 0) + count
        return PredictionLogSummary(
            pipeline_name=pipeline,
            environment=environment,
            predictions=sum(counts.values()),
            by_version=tuple(sorted(by_number.items(), reverse=True)),
            first_event=first,
            last_event=last,
            last_scored_at=scored,
        )
