"""Rolling the prediction log up per minute and per hour, reading only rows it has not read before.

The job keeps a high-water mark (the largest log row id it has read) and, per
run, reads rows above it in id order, adds each to its minute and its hour
(request count, errors, fallback answers, latency histogram; per environment,
pipeline, version and channel) and moves the mark, all in one transaction.

On PostgreSQL ids are handed out before commit, so a row with a smaller id
can become visible after a larger one was read (and ``ON CONFLICT DO
NOTHING`` burns ids that never appear). The ids skipped below the mark are
kept as gap ranges and looked up by primary key on later runs; a row that
turns up in a gap is added then ("late"), and a gap nobody filled within
``GAP_PATIENCE`` is dropped. On SQLite writers are serialised, so gaps stay
empty in practice. Pages and the SLA evaluation read rollups only.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import RequestRollupRow, RollupMarkRow
from steward.core.adapters.db.rollup_queries import Group, aggregate_new, aggregate_ranges, upsert_rollups
from steward.core.clock import utc
from steward.core.domain.latency import Histogram, Tally
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork

MARK = "predictions"
MINUTE, HOUR = 60, 3600
SPANS = (MINUTE, HOUR)
ONLINE, BATCH = "online", "batch"
CHUNK_ROWS = 50_000  # rows per transaction: a writer waits at most one chunk on SQLite
GAP_PATIENCE = timedelta(minutes=15)  # longer than any transaction that logs requests
MAX_GAPS = 2_000
_KEY_CHUNK = 400


def channel_of(source: str) -> str:
    """A batch run's rows (``batch:<run>``) are counted apart from online requests."""
    return BATCH if source.startswith("batch:") else ONLINE


def floor_to(moment: datetime, span_seconds: int) -> datetime:
    stamp = int(utc(moment).timestamp())
    return datetime.fromtimestamp(stamp - stamp % span_seconds, tz=utc(moment).tzinfo)


Key = tuple[int, datetime, int, int, str, str]  # span, start, environment, pipeline, version, channel


@dataclass(frozen=True)
class RollupRun:
    rows: int
    late: int
    last_id: int
    gaps: int
    rollups_written: int

    def summary(self) -> str:
        late = f", {self.late} late" if self.late else ""
        return (
            f"rolled up {self.rows} new log row(s){late} into {self.rollups_written} rollup(s); "
            f"read up to id {self.last_id}, {self.gaps} gap(s) watched"
        )


@dataclass(frozen=True)
class RollupPoint:
    """One rollup row as the pages read it."""

    start: datetime
    span_seconds: int
    version_id: str
    channel: str
    tally: Tally


def _remove_found(gaps: list[tuple[int, int, str]], found: Collection[int]) -> list[tuple[int, int, str]]:
    """Split each gap around the ids that turned up in it."""
    kept: list[tuple[int, int, str]] = []
    ordered = sorted(found)
    for low, high, seen in gaps:
        inside = [i for i in ordered if low <= i <= high]
        cursor = low
        for row_id in inside:
            if row_id > cursor:
                kept.append((cursor, row_id - 1, seen))
            cursor = row_id + 1
        if cursor <= high:
            kept.append((cursor, high, seen))
    return kept


def _tally_of(row: RequestRollupRow) -> Tally:
    return Tally(
        requests=row.requests,
        errors=row.errors,
        fallbacks=row.fallbacks,
        latency_sum_ms=row.latency_sum_ms,
        histogram=Histogram.from_json(row.histogram_json, row.latency_max_ms),
    )


def _add(deltas: dict[Key, Tally], group: Group) -> None:
    """Add one aggregated group to its minute and to its hour (a batch row has no latency)."""
    for span in SPANS:
        start = group.minute if span == MINUTE else group.minute.replace(minute=0)
        key = (span, start, group.environment_id, group.pipeline_id, group.version_id, group.channel)
        tally = deltas.get(key)
        if tally is None:
            tally = deltas[key] = Tally()
        tally.requests += group.requests
        tally.errors += group.errors
        tally.fallbacks += group.fallbacks
        if group.bucket is not None and group.channel == ONLINE:
            histogram = tally.histogram
            histogram.counts[group.bucket] = histogram.counts.get(group.bucket, 0) + group.requests
            tally.latency_sum_ms += group.latency_sum_ms
            top = group.latency_max_ms
            if top is not None and (histogram.max_ms is None or top > histogram.max_ms):
                histogram.max_ms = top


def _write(db: Session, deltas: dict[Key, Tally]) -> int:
    """Add each delta to its stored rollup (or insert it) in one upsert: exact counts and histograms."""
    upsert_rollups(
        db,
        [
            {
                "span_seconds": span,
                "start": start,
                "environment_id": env,
                "pipeline_id": pipeline,
                "version_id": version,
                "channel": channel,
                "requests": tally.requests,
                "errors": tally.errors,
                "fallbacks": tally.fallbacks,
                "latency_count": tally.latency_count,
                "latency_sum_ms": tally.latency_sum_ms,
                "latency_max_ms": tally.histogram.max_ms,
                "histogram_json": tally.histogram.to_json(),
            }
            for (span, start, env, pipeline, version, channel), tally in deltas.items()
        ],
    )
    return len(deltas)


class RollupService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ---- the job ------------------------------------------------------------------------------
    def run(self, *, max_rows: int = 2_000_000) -> RollupRun:
        """Roll up what the log gained since the last run (at most ``max_rows``, in chunks)."""
        rows = late = written = 0
        last = gaps = 0
        while True:
            step = self._step(min(CHUNK_ROWS, max_rows - rows))
            rows, late, written = rows + step.rows, late + step.late, written + step.rollups_written
            last, gaps = step.last_id, step.gaps
            if step.rows < CHUNK_ROWS or rows >= max_rows:
                return RollupRun(rows, late, last, gaps, written)

    def _step(self, limit: int) -> RollupRun:
        now = self.ctx.clock.now()
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            mark = db.get(RollupMarkRow, MARK, with_for_update=True)
            if mark is None:
                mark = RollupMarkRow(name=MARK, last_id=0, gaps_json="[]", rows_read=0, late_rows=0)
                db.add(mark)
                db.flush()
            watched = [(int(a), int(b), str(c)) for a, b, c in json.loads(mark.gaps_json or "[]")]
            late = aggregate_ranges(db, [(low, high) for low, high, _ in watched])
            fresh = aggregate_new(db, mark.last_id, limit) if limit > 0 else None
            deltas: dict[Key, Tally] = {}
            for group in (*late.groups, *(fresh.groups if fresh else ())):
                _add(deltas, group)
            written = _write(db, deltas)
            watched = _remove_found(watched, late.ids)
            read = fresh.rows if fresh is not None else 0
            if fresh is not None and fresh.first_id is not None and fresh.last_id is not None:
                stamp = now.isoformat()
                # The very first run has no earlier mark: ids below its first row are not a gap.
                previous = mark.last_id if mark.last_id > 0 else fresh.first_id - 1
                before = [(previous + 1, fresh.first_id - 1)] if fresh.first_id > previous + 1 else []
                holes = before + fresh.holes
                watched.extend((low, high, stamp) for low, high in holes)
                mark.last_id = fresh.last_id
            cutoff = now - GAP_PATIENCE
            watched = [g for g in watched if datetime.fromisoformat(g[2]) >= cutoff][-MAX_GAPS:]
            mark.gaps_json = json.dumps(watched)
            mark.rows_read += read + late.rows
            mark.late_rows += late.rows
            mark.updated_at = now
            result = RollupRun(read, late.rows, mark.last_id, len(watched), written)
            uow.commit()
        return result

    # ---- reading ------------------------------------------------------------------------------
    @staticmethod
    def points(
        db: Session,
        environment_id: int,
        pipeline_id: int,
        *,
        since: datetime,
        until: datetime,
        span_seconds: int,
        channels: Iterable[str] = (ONLINE,),
    ) -> builtins.list[RollupPoint]:
        """The rollups of one deployment starting in [since, until), oldest first (an index range)."""
        rows = db.scalars(
            select(RequestRollupRow)
            .where(
                RequestRollupRow.environment_id == environment_id,
                RequestRollupRow.pipeline_id == pipeline_id,
                RequestRollupRow.span_seconds == span_seconds,
                RequestRollupRow.start >= since,
                RequestRollupRow.start < until,
                RequestRollupRow.channel.in_(list(channels)),
            )
            .order_by(RequestRollupRow.start, RequestRollupRow.version_id)
        )
        return [
            RollupPoint(utc(r.start), r.span_seconds, r.version_id, r.channel, _tally_of(r)) for r in rows
        ]

    @staticmethod
    def window(db: Session, environment_id: int, pipeline_id: int, *, until: datetime, minutes: int) -> Tally:
        """Every online request of the deployment in the ``minutes`` whole minutes before ``until``, merged.

        Whole hours inside the window are read from hour rollups, the edges from minutes.
        """
        end = floor_to(until, MINUTE)
        start = end - timedelta(minutes=minutes)
        first_hour = floor_to(start + timedelta(seconds=HOUR - 1), HOUR)
        last_hour = floor_to(end, HOUR)
        total = Tally()
        if last_hour - first_hour >= timedelta(hours=1):
            pieces = [
                (start, first_hour, MINUTE),
                (first_hour, last_hour, HOUR),
                (last_hour, end, MINUTE),
            ]
        else:
            pieces = [(start, end, MINUTE)]
        for since, until_, span in pieces:
            if since >= until_:
                continue
            for point in RollupService.points(
                db, environment_id, pipeline_id, since=since, until=until_, span_seconds=span
            ):
                total.merge(point.tally)
        return total

    def mark(self) -> tuple[int, int]:
        """(last id read, ranges watched for late rows)."""
        with UnitOfWork(self.ctx, write=False) as uow:
            mark = uow.session.get(RollupMarkRow, MARK)
            if mark is None:
                return 0, 0
            return mark.last_id, len(json.loads(mark.gaps_json or "[]"))
