"""The worker process: the one APScheduler, calling core's jobs on their schedule.

Jobs are defined in code (``steward.core.setup.jobs``) and kept in memory: APScheduler's
SQLAlchemy job store pickles job state, which would make write access to its
table a way to run code. Several workers may run; each slot of each job still
runs once, because claiming it is a unique row in ``job_runs``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from steward.core.setup.jobs import JobSpec, schedule
from steward.core.setup.readiness import check_ready_to_serve
from steward.core.steward import Steward

log = logging.getLogger("steward.worker")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(steward: Steward, spec: JobSpec) -> None:
    run = steward.jobs.run_once(spec.name, spec.every, worker_name(), lambda: spec.work(steward))
    if run is None:
        log.info("%s: slot already taken by another worker", spec.name)
    else:
        log.info("%s: %s %s", spec.name, run.status, run.detail)


def build_scheduler(steward: Steward) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        timezone="UTC",
        # A stall (laptop asleep, slow job) must not silently drop runs: 10 minutes of grace, merged into one.
        job_defaults={"misfire_grace_time": 600, "coalesce": True, "max_instances": 1},
    )
    for spec in schedule(steward):
        scheduler.add_job(
            run_job,
            IntervalTrigger(seconds=spec.every.total_seconds(), timezone="UTC"),
            args=(steward, spec),
            id=spec.name,
            name=spec.why,
        )
        run_job(steward, spec)  # catch up at start: the slot claim keeps it once per interval
    return scheduler


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    # The schema check at start-up runs Alembic, whose INFO lines tell an operator nothing.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    steward = Steward.open()
    check_ready_to_serve(steward)
    scheduler = build_scheduler(steward)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    log.info(
        "worker %s started with jobs: %s", worker_name(), ", ".join(job.id for job in scheduler.get_jobs())
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
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
