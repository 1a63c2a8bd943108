"""The worker process: the one APScheduler, calling core's jobs on their schedule.

Jobs are defined in code (``steward.core.setup.jobs``) and kept in memory: APScheduler's
SQLAlchemy job store pickles job state, which would make write access to its
table a way to run code. Several workers may run, for availability: they
elect one leader through a lease in the database (``steward.core.services.leases``),
only the leader claims slots, and its claims and writes are fenced by the
lease's token, so each slot of each job runs once and a leader paused past its
lease writes nothing when it wakes. Every worker beats a heartbeat (with its
lead and schedule) and, when ``STEWARD_WORKER_METRICS_PORT`` is set, serves
Prometheus ``/metrics``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from steward.app.worker_metrics import WorkerMetrics
from steward.core.domain.infrastructure import DEFAULT_LEASE
from steward.core.errors import FencedOut
from steward.core.services.fencing import Fence
from steward.core.services.heartbeats import HeartbeatThread
from steward.core.services.leases import LeaderElection
from steward.core.setup.jobs import JobSpec, schedule
from steward.core.setup.readiness import check_ready_to_serve
from steward.core.steward import Steward

log = logging.getLogger("steward.worker")
DRAIN_SECONDS = 30.0  # how long a stopping worker lets running jobs finish before it gives up the lease


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def aligned_start(every: timedelta, now: datetime) -> datetime:
    """The first fire time on the slot grid (epoch-aligned), a little after the boundary.

    Firing just after a slot starts (a tenth of the interval, at most a second)
    means a run delayed by up to most of the interval still computes its own
    slot, not the next one.
    """
    seconds = max(1, int(every.total_seconds()))
    stamp = int(now.timestamp())
    boundary = stamp - stamp % seconds + seconds
    return datetime.fromtimestamp(boundary, tz=UTC) + timedelta(seconds=min(seconds * 0.1, 1.0))


class Worker:
    """One worker process: heartbeat, lease, scheduler and (optionally) ``/metrics``."""

    def __init__(self, steward: Steward, specs: list[JobSpec]) -> None:
        self.steward, self.specs = steward, specs
        self.instance = worker_name()
        settings = steward.settings
        self.election = LeaderElection(
            steward.leases,
            name=DEFAULT_LEASE,
            holder=self.instance,
            ttl=timedelta(seconds=settings.worker_lease_seconds),
            on_change=self._leadership_changed,
        )
        self.metrics = WorkerMetrics(steward, self.election.current)
        self.heartbeat = HeartbeatThread(steward.heartbeats, "worker", "worker", details=self._details)
        self.scheduler = BlockingScheduler(
            timezone="UTC",
            # A stall (laptop asleep, slow job) must not silently drop runs: 10 minutes of grace, merged into
            # one, and the slot claim counts the slots that were merged ("coalesced N missed slots").
            job_defaults={"misfire_grace_time": 600, "coalesce": True, "max_instances": 1},
        )
        now = datetime.now(UTC)
        for spec in specs:
            self.scheduler.add_job(
                self.run_job,
                IntervalTrigger(
                    seconds=spec.every.total_seconds(),
                    start_date=aligned_start(spec.every, now),
                    timezone="UTC",
                ),
                args=(spec,),
                id=spec.name,
                name=spec.why,
            )
        self._running = 0
        self._idle = threading.Condition()

    def _details(self) -> dict[str, Any]:
        fence = self.election.current()
        return {
            "leader": fence is not None,
            "token": fence.token if fence is not None else None,
            "jobs": [
                {"name": s.name, "every_seconds": s.every.total_seconds(), "why": s.why} for s in self.specs
            ],
            "metrics_port": self.metrics.port,
        }

    def _leadership_changed(self, fence: Fence | None) -> None:
        if fence is not None:
            self.catch_up()

    def catch_up(self) -> None:
        """Run every job's current slot now (at start, and when this worker becomes the leader).

        One-off runs beside the interval jobs, so the grid of fire times stays
        aligned to the slots; the slot claim keeps each slot once.
        """
        now = datetime.now(UTC)
        for spec in self.specs:
            self.scheduler.add_job(
                self.run_job,
                args=(spec,),
                id=f"{spec.name}.catch-up",
                name=f"catch up: {spec.why}",
                next_run_time=now,
                replace_existing=True,
            )

    def run_job(self, spec: JobSpec) -> None:
        fence = self.election.current()
        if fence is None:
            self.metrics.outcome(spec.name, "skipped")
            return
        with self._idle:
            self._running += 1
        try:
            self._run_as_leader(spec, fence)
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def _run_as_leader(self, spec: JobSpec, fence: Fence) -> None:
        steward = self.steward
        try:
            run = steward.jobs.run_once(
                spec.name, spec.every, self.instance, lambda: spec.work(steward), fence=fence
            )
        except FencedOut as refused:
            log.warning("%s: refused: %s", spec.name, refused)
            self.metrics.outcome(spec.name, "refused")
            self.election.demote()
            return
        except SQLAlchemyError as problem:
            log.warning(
                "%s: database unavailable (%s); the slot is retried by the next leader", spec.name, problem
            )
            return
        if run is None:
            log.debug("%s: slot already taken", spec.name)
            return
        self.metrics.ran(run)
        log.info("%s: %s %s", spec.name, run.status, run.detail)

    def drain(self, seconds: float = DRAIN_SECONDS) -> None:
        """Wait for running jobs to finish (so their last writes land before the lease is given up)."""
        with self._idle:
            self._idle.wait_for(lambda: self._running == 0, timeout=seconds)

    def serve(self) -> None:
        """Start everything and block until the scheduler is shut down (SIGTERM, Ctrl-C)."""
        settings = self.steward.settings
        if settings.worker_metrics_port is not None:
            port = self.metrics.serve(settings.worker_metrics_port, settings.worker_metrics_address)
            log.info("metrics on http://%s:%d/metrics", settings.worker_metrics_address, port)
        self.heartbeat.start()
        self.election.start()  # leading from the start catches up at once (see catch_up)
        log.info(
            "worker %s started with jobs: %s",
            self.instance,
            ", ".join(job.id for job in self.scheduler.get_jobs()),
        )
        self.scheduler.start()

    def stop(self) -> None:
        """Clean shutdown: jobs drain, the lease is released (another leads at once), the heartbeat ends."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.drain()
        self.election.stop(release=True)
        self.heartbeat.stop()
        self.metrics.stop()


def deliver_notifications(steward: Steward) -> str:
    """The outbox job: send what incidents and promotions decided, never inside a user's request."""
    run = steward.notifications.deliver_due()
    return f"{run.delivered} delivered, {run.failed} failed, {run.given_up} given up"


def schedule_with_outbox(steward: Steward) -> list[JobSpec]:
    every = timedelta(seconds=30)
    return [
        *schedule(steward),
        JobSpec("notifications.deliver", every, deliver_notifications, "send the outbox"),
    ]


def main(schedule_for: Callable[[Steward], list[JobSpec]] = schedule_with_outbox) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    # The schema check at start-up runs Alembic, whose INFO lines tell an operator nothing.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler logs every run of every job; the worker logs each run's outcome itself.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    steward = Steward.open()
    check_ready_to_serve(steward)
    worker = Worker(steward, schedule_for(steward))

    def stop(_signum: int, _frame: FrameType | None) -> None:
        if worker.scheduler.running:
            worker.scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    try:
        worker.serve()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        worker.stop()
        steward.close()


def run() -> None:
    """``python -m app.worker`` (how ``steward demo`` starts it): errors as ``steward worker`` shows them.

    A bad setting or an unreachable database is one ``error: ...`` line and exit
    code 2, not a traceback; the CLI's handler is reused so the two never drift apart.
    """
    from steward.app.cli import friendly

    friendly(main)()


if __name__ == "__main__":
    run()
