"""Scheduled jobs, each slot run once however many workers there are.

The scheduler (APScheduler, in the worker process) only says "it is time";
whether this worker runs the slot is decided here, by inserting the
(job, slot) row: the database's unique constraint lets exactly one worker
win, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from steward.core.adapters.db.models import JobRunRow
from steward.core.clock import utc
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork


@dataclass(frozen=True)
class JobRun:
    id: int
    job: str
    slot: datetime
    worker: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    detail: str


def slot_for(moment: datetime, every: timedelta) -> datetime:
    """The start of the interval ``moment`` falls in (intervals aligned to the Unix epoch)."""
    seconds = int(every.total_seconds())
    stamp = int(utc(moment).timestamp())
    return datetime.fromtimestamp(stamp - stamp % seconds, tz=utc(moment).tzinfo)


def _entity(row: JobRunRow) -> JobRun:
    return JobRun(
        row.id, row.job, row.slot, row.worker, row.status, row.started_at, row.finished_at, row.detail
    )


class JobService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def claim(self, job: str, slot: datetime, worker: str) -> int | None:
        """The run's id if this worker won the slot, None if another already has it."""
        try:
            with UnitOfWork(self.ctx) as uow:
                row = JobRunRow(
                    job=job,
                    slot=slot,
                    worker=worker[:200],
                    status="running",
                    started_at=self.ctx.clock.now(),
                    detail="",
                )
                uow.session.add(row)
                uow.session.flush()
                run_id = row.id
                uow.commit()
                return run_id
        except DBIntegrityError:
            return None

    def finish(self, run_id: int, status: str, detail: str = "") -> None:
        with UnitOfWork(self.ctx) as uow:
            row = uow.session.get(JobRunRow, run_id)
            if row is not None:
                row.status, row.detail, row.finished_at = status, detail[:4000], self.ctx.clock.now()
            uow.commit()

    def run_once(self, job: str, every: timedelta, worker: str, work: Callable[[], str]) -> JobRun | None:
        """Claim the current slot of ``job`` and run ``work`` in it; None when another worker has the slot."""
        slot = slot_for(self.ctx.clock.now(), every)
        run_id = self.claim(job, slot, worker)
        if run_id is None:
            return None
        try:
            detail = work()
        except Exception as problem:  # a job's failure is recorded, never lost, and never kills the worker
            self.finish(run_id, "failed", f"{type(problem).__name__}: {problem}")
        else:
            self.finish(run_id, "ok", detail)
        return self.get(run_id)

    def get(self, run_id: int) -> JobRun:
        with UnitOfWork(self.ctx, write=False) as uow:
            row = uow.session.get(JobRunRow, run_id)
            assert row is not None
            return _entity(row)

    def recent(self, limit: int = 50) -> builtins.list[JobRun]:
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.scalars(select(JobRunRow).order_by(JobRunRow.started_at.desc()).limit(limit))
            return [_entity(row) for row in rows]
