"""Scheduled jobs, each slot run once however many workers there are.

The scheduler (APScheduler, in the worker process) only says "it is time";
whether this worker runs the slot is decided here. Only the leader (see
:mod:`steward.core.services.leases`) claims, and its claim is one transaction
that checks its fencing token and inserts the (job, slot) row: the database's
unique constraint lets exactly one claim win, and a leader that lost its lease
while paused is refused (:class:`~steward.core.errors.FencedOut`).

A slot is a point on a grid aligned to the Unix epoch, so every worker agrees
on it. When the grid moved on without a run (the worker was down, or a
handover took a few seconds), the next run records how many slots it
coalesced ("coalesced 3 missed slots") instead of running them all. A slot
left ``running`` by a leader that lost its lease is taken over by the next
leader while it is still the current slot, or marked ``abandoned`` once a
later slot runs.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError as DBIntegrityError
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import JobRunRow
from steward.core.clock import utc
from steward.core.errors import FencedOut
from steward.core.services.context import ServiceContext
from steward.core.services.fencing import Fence, fenced, verify_fence
from steward.core.services.uow import UnitOfWork

log = logging.getLogger(__name__)

RUNNING, OK, FAILED, ABANDONED = "running", "ok", "failed", "abandoned"


@dataclass(frozen=True)
class JobRun:
    id: int
    job: str
    slot: datetime
    worker: str
    status: str  # running | ok | failed | abandoned
    started_at: datetime
    finished_at: datetime | None
    detail: str
    token: int | None = None  # the lease token it was claimed under (None: claimed without a leader)
    missed: int = 0  # earlier slots nobody ran, coalesced into this run
    attempt: int = 1  # 2 or more: taken over from a leader that lost its lease while running it


_RUNNING: ContextVar[JobRun | None] = ContextVar("steward_running_job", default=None)


def running_job() -> JobRun | None:
    """The slot this thread is running a job in (for a job that wants to know its slot), or None."""
    return _RUNNING.get()


def slot_for(moment: datetime, every: timedelta) -> datetime:
    """The start of the interval ``moment`` falls in (intervals aligned to the Unix epoch)."""
    seconds = max(1, int(every.total_seconds()))
    stamp = int(utc(moment).timestamp())
    return datetime.fromtimestamp(stamp - stamp % seconds, tz=utc(moment).tzinfo)


def missed_words(count: int) -> str:
    return f"coalesced {count} missed slot{'s' if count != 1 else ''}"


def _entity(row: JobRunRow) -> JobRun:
    return JobRun(
        row.id,
        row.job,
        utc(row.slot),
        row.worker,
        row.status,
        utc(row.started_at),
        utc(row.finished_at) if row.finished_at else None,
        row.detail,
        row.token,
        row.missed,
        row.attempt,
    )


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


class JobService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def claim(
        self,
        job: str,
        slot: datetime,
        worker: str,
        *,
        every: timedelta | None = None,
        fence: Fence | None = None,
    ) -> int | None:
        """The run's id if this worker won the slot, None if another already has it.

        With a ``fence`` the claim is refused (FencedOut) unless the lease is
        still this worker's, in the same transaction as the insert. ``every``
        lets the claim count the slots missed since the previous run.
        """
        worker = worker[:200]
        try:
            with UnitOfWork(self.ctx) as uow:
                db = uow.session
                now = self.ctx.clock.now()
                if fence is not None:
                    verify_fence(db, now, fence)
                existing = db.scalar(select(JobRunRow).where(JobRunRow.job == job, JobRunRow.slot == slot))
                if existing is not None:
                    if not self._takes_over(existing, fence):
                        return None
                    assert fence is not None
                    previous = existing.worker
                    existing.worker, existing.token, existing.started_at = worker, fence.token, now
                    existing.attempt += 1
                    existing.detail = f"taken over from {previous}, whose lease ended while it ran this slot"
                    uow.commit()
                    return existing.id
                missed = self._missed_before(db, job, slot, every)
                if fence is not None:
                    self._abandon_stale(db, job, slot, fence, now)
                row = JobRunRow(
                    job=job,
                    slot=slot,
                    worker=worker,
                    status=RUNNING,
                    started_at=now,
                    detail=missed_words(missed) if missed else "",
                    token=fence.token if fence is not None else None,
                    missed=missed,
                    attempt=1,
                )
                db.add(row)
                db.flush()
                run_id = row.id
                uow.commit()
                return run_id
        except DBIntegrityError:
            return None

    @staticmethod
    def _takes_over(existing: JobRunRow, fence: Fence | None) -> bool:
        """A slot still ``running`` under an older tenure: its leader lost the lease, will not finish it."""
        return (
            fence is not None
            and existing.status == RUNNING
            and (existing.token is None or existing.token < fence.token)
        )

    @staticmethod
    def _missed_before(db: Session, job: str, slot: datetime, every: timedelta | None) -> int:
        if every is None or every.total_seconds() <= 0:
            return 0
        previous = db.scalar(
            select(func.max(JobRunRow.slot)).where(JobRunRow.job == job, JobRunRow.slot < slot)
        )
        if previous is None:
            return 0
        gap = (slot - utc(previous)) / every
        return max(0, round(gap) - 1)

    @staticmethod
    def _abandon_stale(db: Session, job: str, slot: datetime, fence: Fence, now: datetime) -> None:
        stale = db.scalars(
            select(JobRunRow).where(
                JobRunRow.job == job,
                JobRunRow.status == RUNNING,
                JobRunRow.slot < slot,
                or_(JobRunRow.token.is_(None), JobRunRow.token < fence.token),
            )
        )
        for row in stale:
            row.status, row.finished_at = ABANDONED, now
            row.detail = _join(
                row.detail,
                f"abandoned: {row.worker} lost the lease while running it; a later slot ran instead",
            )

    def finish(self, run_id: int, status: str, detail: str = "", *, fence: Fence | None = None) -> None:
        """Record the result; under a ``fence`` only while the lease is still the claimer's."""
        with UnitOfWork(self.ctx) as uow:
            if fence is not None:
                verify_fence(uow.session, self.ctx.clock.now(), fence)
            row = uow.session.get(JobRunRow, run_id)
            if row is not None and (fence is None or row.token == fence.token):
                row.status, row.finished_at = status, self.ctx.clock.now()
                row.detail = _join(row.detail, detail)[:4000]
            uow.commit()

    def run_once(
        self,
        job: str,
        every: timedelta,
        worker: str,
        work: Callable[[], str],
        *,
        fence: Fence | None = None,
    ) -> JobRun | None:
        """Claim the current slot of ``job`` and run ``work`` in it; None when another worker has the slot.

        Under a ``fence`` every write ``work`` makes through a unit of work is
        fenced too: a paused leader that wakes up after losing its lease gets
        FencedOut from its first write, and nothing it tries lands.
        """
        slot = slot_for(self.ctx.clock.now(), every)
        with fenced(fence) if fence is not None else nullcontext():
            run_id = self.claim(job, slot, worker, every=every, fence=fence)
            if run_id is None:
                return None
            with self._running(self.get(run_id)):
                try:
                    detail = work()
                except FencedOut:  # the lease moved on mid-run: the new leader owns the slot now
                    raise
                except Exception as problem:  # recorded, never lost, never kills the worker
                    log.exception("job %s failed", job, extra={"job": job, "run_id": run_id})
                    self.finish(run_id, FAILED, f"{type(problem).__name__}: {problem}", fence=fence)
                else:
                    self.finish(run_id, OK, detail, fence=fence)
        return self.get(run_id)

    @staticmethod
    @contextmanager
    def _running(run: JobRun) -> Iterator[JobRun]:
        reset = _RUNNING.set(run)
        try:
            yield run
        finally:
            _RUNNING.reset(reset)

    # ---- reading ------------------------------------------------------------------------------
    def get(self, run_id: int) -> JobRun:
        with UnitOfWork(self.ctx, write=False) as uow:
            row = uow.session.get(JobRunRow, run_id)
            assert row is not None
            return _entity(row)

    def recent(self, limit: int = 50) -> builtins.list[JobRun]:
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.scalars(
                select(JobRunRow).order_by(JobRunRow.started_at.desc(), JobRunRow.id.desc()).limit(limit)
            )
            return [_entity(row) for row in rows]

    def runs(self, job: str, *, since: datetime | None = None) -> builtins.list[JobRun]:
        """Every retained run of ``job`` (since ``since``), oldest slot first."""
        with UnitOfWork(self.ctx, write=False) as uow:
            query = select(JobRunRow).where(JobRunRow.job == job).order_by(JobRunRow.slot)
            if since is not None:
                query = query.where(JobRunRow.slot >= since)
            return [_entity(row) for row in uow.session.scalars(query)]

    def latest(self) -> dict[str, JobRun]:
        """The latest slot of each job that ever ran."""
        with UnitOfWork(self.ctx, write=False) as uow:
            newest = (
                select(JobRunRow.job, func.max(JobRunRow.slot).label("slot"))
                .group_by(JobRunRow.job)
                .subquery()
            )
            rows = uow.session.scalars(
                select(JobRunRow).join(
                    newest, (JobRunRow.job == newest.c.job) & (JobRunRow.slot == newest.c.slot)
                )
            )
            return {row.job: _entity(row) for row in rows}

    def tallies(self, since: datetime) -> dict[str, dict[str, int]]:
        """Per job since ``since``: runs by status, and ``missed`` (slots coalesced)."""
        with UnitOfWork(self.ctx, write=False) as uow:
            counted = uow.session.execute(
                select(
                    JobRunRow.job,
                    JobRunRow.status,
                    func.count(),
                    func.coalesce(func.sum(JobRunRow.missed), 0),
                )
                .where(JobRunRow.slot >= since)
                .group_by(JobRunRow.job, JobRunRow.status)
            ).all()
        tallies: dict[str, dict[str, int]] = {}
        for job, status, count, missed in counted:
            entry = tallies.setdefault(job, {"missed": 0})
            entry[status] = int(count)
            entry["missed"] += int(missed)
        return tallies

    def prune(self, before: datetime) -> int:
        """Delete finished runs whose slot is older than ``before`` (the latest of each job is kept)."""
        keep = {run.id for run in self.latest().values()}
        with UnitOfWork(self.ctx) as uow:
            query = delete(JobRunRow).where(JobRunRow.slot < before, JobRunRow.status != RUNNING)
            if keep:
                query = query.where(JobRunRow.id.not_in(sorted(keep)))
            removed = uow.session.execute(query).rowcount  # type: ignore[attr-defined]
            uow.commit()
            return int(removed or 0)
