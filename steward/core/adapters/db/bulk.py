"""Bulk inserts that skip rows already present, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from steward.core.adapters.db.models.base import Base


def insert_new(
    session: Session, table: type[Base], rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """INSERT ... ON CONFLICT (keys) DO NOTHING, in one executemany.

    Two writers logging the same request keep one row and neither fails,
    which a plain insert after a "does it exist?" read cannot promise.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        statement: Any = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    elif dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    else:  # pragma: no cover - Steward supports the two
        raise NotImplementedError(f"no insert-if-new for {dialect}")
    session.execute(statement, list(rows))


# The prediction log's bulk path -------------------------------------------------------------------
# Columns in the order ``append_predictions`` takes each row's values.
PREDICTION_COLUMNS = (
    "pipeline_id",
    "environment_id",
    "version_id",
    "request_id",
    "source",
    "event_time",
    "scored_at",
    "features_json",
    "prediction",
    "output_json",
    "latency_ms",
    "status",
    "fallback",
)
_TIMES = (PREDICTION_COLUMNS.index("event_time"), PREDICTION_COLUMNS.index("scored_at"))
_PAGE = 50_000
# Statements built once from the constant column names above (no value is ever formatted into SQL).
_COLUMNS = ", ".join(PREDICTION_COLUMNS)
_CONFLICT = "ON CONFLICT (pipeline_id, environment_id, request_id) DO NOTHING"
_SQLITE_INSERT = (
    f"INSERT INTO predictions ({_COLUMNS}) VALUES ({', '.join('?' * len(PREDICTION_COLUMNS))}) {_CONFLICT}"  # noqa: S608
)
_PG_COPY = f"COPY steward_predictions_in ({_COLUMNS}) FROM STDIN"
_PG_MOVE = f"INSERT INTO predictions ({_COLUMNS}) SELECT {_COLUMNS} FROM steward_predictions_in {_CONFLICT}"  # noqa: S608


def _sqlite_time(value: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text (microseconds always), so ranges compare with what it wrote."""
    if value.tzinfo is UTC:  # the common case, without a conversion: drop the "+00:00"
        return value.isoformat(" ", "microseconds")[:26]
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def append_predictions(session: Session, rows: Iterable[Sequence[Any]], *, page: int = _PAGE) -> int:
    """Append prediction-log rows in the caller's transaction, fast; a request logged before is skipped.

    Each row holds the values of ``PREDICTION_COLUMNS`` in that order (times
    UTC-aware; ``latency_ms`` None for batch rows, ``status`` "ok" or "error").
    This is the one write path of the log, batch runs and the scoring service
    alike: SQLAlchemy's per-row statement building costs more than SQLite's
    insert, so rows go to the driver directly, in pages (SQLite executemany
    with ``ON CONFLICT DO NOTHING``; PostgreSQL ``COPY`` into a temporary
    table, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``).
    Returns how many rows were offered (duplicates skipped silently).
    """
    connection = session.connection()
    dialect = connection.dialect.name
    raw: Any = connection.connection.driver_connection
    offered = 0
    if dialect == "sqlite":
        cursor = raw.cursor()
        for chunk in _pages(rows, page):
            last: tuple[Any, str] = (None, "")
            for row in chunk:
                row[_TIMES[0]] = _sqlite_time(row[_TIMES[0]])
                if row[_TIMES[1]] is not last[0]:  # scored_at is one stamp for a whole batch
                    last = (row[_TIMES[1]], _sqlite_time(row[_TIMES[1]]))
                row[_TIMES[1]] = last[1]
            cursor.executemany(_SQLITE_INSERT, chunk)
            offered += len(chunk)
        return offered
    if dialect == "postgresql":
        with raw.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS steward_predictions_in "
                "(LIKE predictions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            cursor.execute("ALTER TABLE steward_predictions_in ALTER COLUMN id DROP NOT NULL")
            for chunk in _pages(rows, page):
                with cursor.copy(_PG_COPY) as copy:
                    for row in chunk:
                        copy.write_row(row)
                cursor.execute(_PG_MOVE)
                cursor.execute("DELETE FROM steward_predictions_in")
                offered += len(chunk)
        return offered
    raise NotImplementedError(f"no bulk log path for {dialect}")  # pragma: no cover


def _pages(rows: Iterable[Sequence[Any]], page: int) -> Iterator[list[list[Any]]]:
    chunk: list[list[Any]] = []
    for row in rows:
        chunk.append(row if type(row) is list else list(row))
        if len(chunk) >= page:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
