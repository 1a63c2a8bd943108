"""Reading the prediction log by id: what a deployment logged since a mark, and which requests it answered.

Monitors read the log incrementally, so every read here is bounded by what
is new, never by the log's size: rows above a mark are read in id order
through the primary key (a deployment's rows are picked out with ``CASE``
so the planner cannot swap in the deployment index and scan the whole
version), gaps are looked up by primary-key ranges, and "which of these
request ids were answered?" is one set-based statement (SQLite ``json_each``,
PostgreSQL ``unnest``) instead of hundreds of 500-id ``IN`` lists.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, or_, select, text
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import PredictionRow

_GAPS_PER_QUERY = 100


@dataclass(frozen=True)
class Deployment:
    """Whose rows a monitor reads: one version serving one pipeline in one environment."""

    pipeline_id: int
    environment_id: int
    version_id: str


@dataclass(frozen=True)
class LoggedRow:
    id: int
    request_id: str
    event_time: datetime
    features_json: str
    output_json: str


@dataclass(frozen=True)
class LogChunk:
    """Every id read (for the mark) and the rows among them that are the deployment's."""

    ids: list[int]
    rows: list[LoggedRow]


def _columns(deployment: Deployment) -> tuple[Any, ...]:
    mine = and_(
        PredictionRow.pipeline_id == deployment.pipeline_id,
        PredictionRow.environment_id == deployment.environment_id,
        PredictionRow.version_id == deployment.version_id,
    )
    return (
        PredictionRow.id,
        case((mine, PredictionRow.request_id), else_=None),
        case((mine, PredictionRow.event_time), else_=None),
        case((mine, PredictionRow.features_json), else_=None),
        case((mine, PredictionRow.output_json), else_=None),
    )


def _chunk(result: Iterable[Any]) -> LogChunk:
    ids: list[int] = []
    rows: list[LoggedRow] = []
    for row_id, request_id, event_time, features, output in result:
        ids.append(int(row_id))
        if request_id is not None:
            rows.append(LoggedRow(int(row_id), request_id, event_time, features, output))
    return LogChunk(ids, rows)


def rows_after(session: Session, deployment: Deployment, after_id: int, limit: int) -> LogChunk:
    """The next ``limit`` log rows above ``after_id`` in id order (all ids; the deployment's rows in full)."""
    statement = (
        select(*_columns(deployment))
        .where(PredictionRow.id > after_id)
        .order_by(PredictionRow.id)
        .limit(limit)
    )
    return _chunk(session.execute(statement))


def rows_in_gaps(session: Session, deployment: Deployment, gaps: Sequence[tuple[int, int]]) -> LogChunk:
    """Rows that turned up inside id ranges a reader skipped (looked up by primary key)."""
    ids: list[int] = []
    rows: list[LoggedRow] = []
    for first in range(0, len(gaps), _GAPS_PER_QUERY):
        ranges = [PredictionRow.id.between(low, high) for low, high in gaps[first : first + _GAPS_PER_QUERY]]
        found = _chunk(session.execute(select(*_columns(deployment)).where(or_(*ranges))))
        ids += found.ids
        rows += found.rows
    order = sorted(range(len(rows)), key=lambda i: rows[i].id)
    return LogChunk(sorted(ids), [rows[i] for i in order])


def ids_written_by(session: Session, source: str, after_id: int) -> list[int]:
    """Ids of the rows one writer (``batch:<run>``) logged above ``after_id``: a range scan, not the log."""
    return list(
        session.scalars(
            select(PredictionRow.id).where(PredictionRow.id > after_id, PredictionRow.source == source)
        )
    )


# ``IN (SELECT ...)`` keeps the planner on the unique (pipeline, environment, request) index: one
# probe per wanted id (a plain join with ``json_each`` made SQLite scan the deployment's rows).
_SQLITE_ANSWERED = text(
    "SELECT request_id FROM predictions WHERE pipeline_id = :pipeline AND environment_id = :environment "
    "AND request_id IN (SELECT value FROM json_each(:ids))"
)
_PG_ANSWERED = text(
    "SELECT request_id FROM predictions WHERE pipeline_id = :pipeline AND environment_id = :environment "
    "AND request_id IN (SELECT value FROM unnest(CAST(:ids AS text[])) AS wanted(value))"
)


def answered(session: Session, pipeline_id: int, environment_id: int, request_ids: Sequence[str]) -> set[str]:
    """Which of ``request_ids`` the deployment has answered: one statement joining the ids to the log."""
    if not request_ids:
        return set()
    dialect = session.get_bind().dialect.name
    params: dict[str, Any] = {"pipeline": pipeline_id, "environment": environment_id}
    if dialect == "sqlite":
        statement, params["ids"] = _SQLITE_ANSWERED, json.dumps(list(request_ids))
    elif dialect == "postgresql":
        statement, params["ids"] = _PG_ANSWERED, list(request_ids)
    else:  # pragma: no cover - Steward supports the two
        raise NotImplementedError(f"no answered-ids lookup for {dialect}")
    return set(session.scalars(statement, params))
