"""A real worker process (``steward.app.worker.main``) whose schedule is a one-second test job.

Run by tests/integration/test_worker_leader.py, three at a time on one
database. The job ``test.tick`` writes a marker file while it works (so the
test can stop or kill the leader in the middle of a slot), sleeps a little,
then records one audit event naming its slot through an ordinary unit of work:
the write a fenced-out leader must not be able to make. ``infrastructure.check``
runs every second too (``STEWARD_INFRA_CHECK_SECONDS``), so lost heartbeats open
their alert from the leader, as in production.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from steward.app.worker import main
from steward.core.domain.accounts import Actor
from steward.core.services.jobs import running_job
from steward.core.services.uow import UnitOfWork
from steward.core.setup.jobs import JobSpec, check_infrastructure
from steward.core.steward import Steward

TICK = "test.tick"
ACTOR = Actor.system_actor("fleet")


def tick(steward: Steward) -> str:
    run = running_job()
    assert run is not None
    slot = run.slot.isoformat()
    marker = Path(os.environ["FLEET_DIR"]) / f"{os.getpid()}.inwork"
    marker.write_text(slot)
    try:
        time.sleep(float(os.environ.get("FLEET_WORK_SECONDS", "0.4")))
        with UnitOfWork(steward.ctx) as uow:
            uow.record(ACTOR, TICK, object_type="slot", object_id=slot, detail=f"pid {os.getpid()}")
            uow.commit()
    finally:
        marker.unlink(missing_ok=True)
    return f"ticked {slot}"


def fleet_schedule(steward: Steward) -> list[JobSpec]:
    return [
        JobSpec(TICK, timedelta(seconds=1), tick, "a one-second job that records its slot"),
        JobSpec(
            "infrastructure.check",
            timedelta(seconds=steward.settings.infra_check_seconds),
            check_infrastructure,
            "probes and lost heartbeats",
        ),
    ]


if __name__ == "__main__":
    main(fleet_schedule)
