"""The rollup job's two statements: a GROUP BY over new log rows, and one upsert that merges into rollups.

Both run in the database, not row by row in Python, so a catch-up over
millions of log rows costs a few statements per chunk. The aggregate groups
rows by minute, deployment, version, channel and latency bucket (the bucket
computed in SQL with the same arithmetic as ``domain.latency.bucket_of``), and
in the same statement (one snapshot, so no row is both counted and taken for a
gap) reports the id range it covered and the ids missing inside it. The
upsert adds counts and merges histograms exactly (bucket counts summed) in
``INSERT ... ON CONFLICT DO UPDATE``, on SQLite (JSON1) and PostgreSQL alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, literal_column, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import RequestRollupRow
from steward.core.domain.latency import GROWTH, LOWEST_MS, TOP_BUCKET

_LOG_GROWTH = math.log(GROWTH)  # the same double bucket_of divides by


@dataclass(frozen=True)
class Group:
    """Log rows of one minute, deployment, version, channel and latency bucket (None: no latency)."""

    minute: datetime
    environment_id: int
    pipeline_id: int
    version_id: str
    channel: str
    bucket: int | None
    requests: int
    errors: int
    fallbacks: int
    latency_sum_ms: float
    latency_max_ms: float | None


@dataclass(frozen=True)
class Chunk:
    """What one aggregate read: its groups, how many rows, the id range, and the ids missing inside it."""

    groups: list[Group]
    rows: int
    first_id: int | None
    last_id: int | None
    holes: list[tuple[int, int]]  # inclusive id ranges between first_id and last_id that hold no row
    ids: list[int]  # the ids read (only for reads of watched gaps, which are small)


def _dialect_bits(dialect: str) -> tuple[str, str, str, str]:
    """(minute of scored_at, float cast, least, greatest) in the dialect's words."""
    if dialect == "sqlite":
        # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC): the minute is a prefix.
        return "substr(scored_at, 1, 16)", "{}", "min", "max"
    if dialect == "postgresql":
        return (
            "date_trunc('minute', scored_at AT TIME ZONE 'UTC')",
            "CAST({} AS DOUBLE PRECISION)",
            "LEAST",
            "GREATEST",
        )
    raise NotImplementedError(f"no rollup statements for {dialect}")  # pragma: no cover


def _select(dialect: str) -> str:
    minute, num, least, greatest = _dialect_bits(dialect)
    batch = "substr(source, 1, 6) = 'batch:'"
    finite = f"latency_ms BETWEEN {num.format('-1e308')} AND {num.format('1e308')}"
    # bucket_of: 0 up to LOWEST_MS (NaN too), else ceil(log(l / LOWEST) / log(GROWTH) - 1e-9) in [1, TOP].
    index = (
        f"CAST(ceil(ln(latency_ms / {num.format(repr(LOWEST_MS))}) / {num.format(repr(_LOG_GROWTH))}"
        f" - {num.format('1e-9')}) AS INTEGER)"
    )
    bucket = (
        f"CASE WHEN {batch} OR latency_ms IS NULL THEN NULL "
        f"WHEN latency_ms > {num.format(repr(LOWEST_MS))} AND {finite} "
        f"THEN {least}({greatest}({index}, 1), {TOP_BUCKET}) ELSE 0 END"
    )
    timed = f"CASE WHEN NOT ({batch}) AND {finite} THEN latency_ms END"
    return (
        f"SELECT 'g' AS kind, environment_id AS a, pipeline_id AS b, version_id, "  # noqa: S608
        f"CASE WHEN {batch} THEN 'batch' ELSE 'online' END AS channel, {minute} AS minute, "
        f"{bucket} AS bucket, count(*) AS n, "
        "sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END) AS errors, "
        "sum(CASE WHEN fallback THEN 1 ELSE 0 END) AS fallbacks, "
        f"sum({timed}) AS latency_sum, max({timed}) AS latency_max "
        "FROM chunk GROUP BY environment_id, pipeline_id, version_id, 5, 6, 7"
    )


_COLUMNS = "id, environment_id, pipeline_id, version_id, source, scored_at, latency_ms, status, fallback"


def _nulls(count: int) -> str:
    return ", ".join(["NULL"] * count)


def _new_rows_sql(dialect: str) -> str:
    return (
        f"WITH chunk AS MATERIALIZED (SELECT {_COLUMNS} FROM predictions "  # noqa: S608 - constants only
        "WHERE id > :after ORDER BY id LIMIT :limit) "
        f"{_select(dialect)} "
        f"UNION ALL SELECT 'r', min(id), max(id), {_nulls(4)}, count(*), {_nulls(4)} FROM chunk "
        f"UNION ALL SELECT 'h', prev + 1, id - 1, {_nulls(9)} FROM "
        "(SELECT id, lag(id) OVER (ORDER BY id) AS prev FROM chunk) AS seq WHERE id > prev + 1"
    )


def _gap_rows_sql(dialect: str, ranges: int) -> str:
    where = " OR ".join(f"id BETWEEN :low{i} AND :high{i}" for i in range(ranges))
    return (
        f"WITH chunk AS MATERIALIZED (SELECT {_COLUMNS} FROM predictions WHERE {where}) "  # noqa: S608
        f"{_select(dialect)} "
        f"UNION ALL SELECT 'i', id, {_nulls(10)} FROM chunk"
    )


def _chunk(rows: Sequence[Any]) -> Chunk:
    groups: list[Group] = []
    holes: list[tuple[int, int]] = []
    ids: list[int] = []
    count, first, last = 0, None, None
    for kind, a, b, version, channel, minute, bucket, n, errors, fallbacks, lsum, lmax in rows:
        if kind == "g":
            when = datetime.fromisoformat(minute) if isinstance(minute, str) else minute
            groups.append(
                Group(
                    when.replace(second=0, microsecond=0, tzinfo=UTC),
                    int(a),
                    int(b),
                    str(version),
                    str(channel),
                    None if bucket is None else int(bucket),
                    int(n),
                    int(errors or 0),
                    int(fallbacks or 0),
                    float(lsum or 0.0),
                    None if lmax is None else float(lmax),
                )
            )
        elif kind == "r":
            count = int(n or 0)
            first, last = (int(a), int(b)) if count else (None, None)
        elif kind == "h":
            holes.append((int(a), int(b)))
        else:
            ids.append(int(a))
    return Chunk(groups, count, first, last, sorted(holes), sorted(ids))


def aggregate_new(db: Session, after: int, limit: int) -> Chunk:
    """Group the next ``limit`` log rows above id ``after`` (one statement, one snapshot)."""
    dialect = db.get_bind().dialect.name
    return _chunk(db.execute(text(_new_rows_sql(dialect)), {"after": after, "limit": limit}).all())


def aggregate_ranges(db: Session, ranges: Sequence[tuple[int, int]]) -> Chunk:
    """Group the log rows whose ids fall in ``ranges`` (the watched gaps), with their ids."""
    if not ranges:
        return Chunk([], 0, None, None, [], [])
    dialect = db.get_bind().dialect.name
    params: dict[str, int] = {}
    for i, (low, high) in enumerate(ranges):
        params[f"low{i}"], params[f"high{i}"] = low, high
    result = _chunk(db.execute(text(_gap_rows_sql(dialect, len(ranges))), params).all())
    return Chunk(result.groups, len(result.ids), None, None, [], result.ids)


def _merge_histograms(dialect: str) -> str:
    """Bucket counts of the stored row and the incoming one, summed per bucket, as a JSON object."""
    if dialect == "sqlite":
        return (
            "(SELECT coalesce(json_group_object(key, v), '{}') FROM (SELECT key, sum(value) AS v FROM "
            "(SELECT key, value FROM json_each(request_rollups.histogram_json) UNION ALL "
            "SELECT key, value FROM json_each(excluded.histogram_json)) GROUP BY key "
            "ORDER BY CAST(key AS INTEGER)))"
        )
    return (
        "(SELECT coalesce(json_object_agg(key, v ORDER BY CAST(key AS INTEGER)), '{}')::text FROM "
        "(SELECT key, sum(CAST(value AS BIGINT)) AS v FROM "
        "(SELECT key, value FROM json_each_text(CAST(request_rollups.histogram_json AS JSON)) UNION ALL "
        "SELECT key, value FROM json_each_text(CAST(excluded.histogram_json AS JSON))) AS u "
        "GROUP BY key) AS g)"
    )


def upsert_rollups(db: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Add each row to the stored rollup with its key, or insert it: one executemany, exact merge."""
    if not rows:
        return
    dialect = db.get_bind().dialect.name
    insert: Any = sqlite.insert if dialect == "sqlite" else postgresql.insert
    table = RequestRollupRow.__table__
    statement = insert(table)
    new = statement.excluded
    stored_max, new_max = table.c.latency_max_ms, new.latency_max_ms
    statement = statement.on_conflict_do_update(
        index_elements=["span_seconds", "environment_id", "pipeline_id", "version_id", "channel", "start"],
        set_={
            "requests": table.c.requests + new.requests,
            "errors": table.c.errors + new.errors,
            "fallbacks": table.c.fallbacks + new.fallbacks,
            "latency_count": table.c.latency_count + new.latency_count,
            "latency_sum_ms": table.c.latency_sum_ms + new.latency_sum_ms,
            "latency_max_ms": case(
                (stored_max.is_(None), new_max),
                (new_max.is_(None), stored_max),
                (new_max > stored_max, new_max),
                else_=stored_max,
            ),
            "histogram_json": literal_column(_merge_histograms(dialect)),
        },
    )
    db.execute(statement, list(rows))
