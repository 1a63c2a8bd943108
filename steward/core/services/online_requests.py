"""Appending online requests to the prediction log: the one row shape the rollups and monitors read.

The scoring service owns how it logs (batching, back-pressure); this is the
smallest correct writer of that shape, for tools and tests that must put
online traffic into the log without running a scoring service: one insert
per call, a request id answered twice in a deployment kept once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from steward.core.adapters.db.bulk import PREDICTION_COLUMNS, append_predictions
from steward.core.adapters.db.models import EnvironmentRow, PipelineRow
from steward.core.errors import InvalidInput, NotFound
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork

ONLINE_SOURCE = "http"


@dataclass(frozen=True)
class OnlineRequest:
    """One answered (or failed) HTTP request, as the log keeps it."""

    request_id: str
    version_id: str
    latency_ms: float
    scored_at: datetime
    status: str = "ok"  # ok | error
    fallback: bool = False
    prediction: float | None = None
    features: Mapping[str, Any] = field(default_factory=dict)


def append_online_requests(
    ctx: ServiceContext, pipeline: str, environment: str, requests: Sequence[OnlineRequest]
) -> int:
    """Log ``requests`` in one transaction (a repeated request id is kept once); how many were given."""
    for request in requests:
        if request.status not in ("ok", "error"):
            raise InvalidInput(f"request {request.request_id[:100]!r}: status must be 'ok' or 'error'")
        if request.scored_at.tzinfo is None:
            raise InvalidInput(f"request {request.request_id[:100]!r}: scored_at must be timezone-aware")
    with UnitOfWork(ctx) as uow:
        db = uow.session
        pipeline_id = db.scalar(select(PipelineRow.id).where(PipelineRow.name == pipeline))
        environment_id = db.scalar(select(EnvironmentRow.id).where(EnvironmentRow.name == environment))
        if pipeline_id is None:
            raise NotFound(f"no pipeline named {pipeline[:100]!r}")
        if environment_id is None:
            raise NotFound(f"no environment named {environment[:64]!r}")
        rows = [
            {
                "pipeline_id": pipeline_id,
                "environment_id": environment_id,
                "version_id": r.version_id,
                "request_id": r.request_id,
                "source": ONLINE_SOURCE,
                "event_time": r.scored_at,
                "scored_at": r.scored_at,
                "features_json": json.dumps(dict(r.features)),
                "prediction": r.prediction,
                "output_json": json.dumps({"prediction": r.prediction, "fallback": r.fallback}),
                "latency_ms": r.latency_ms,
                "status": r.status,
                "fallback": r.fallback,
            }
            for r in requests
        ]
        append_predictions(db, [tuple(row[column] for column in PREDICTION_COLUMNS) for row in rows])
        uow.commit()
    return len(rows)
