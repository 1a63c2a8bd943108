"""``batch.late`` on SQLite and PostgreSQL with an injected clock: a monitor that misses its interval plus the
rule's grace opens one incident through the rules table (the worker's job), and a run landing resolves it."""

from __future__ import annotations

import pytest
from test_promotions_support import build_world

from steward.core.domain.accounts import Actor
from steward.core.domain.alert_rules import BATCH_LATE_KIND
from steward.core.domain.alerts import AlertStatus
from steward.core.setup.jobs import WORKER, schedule
from steward.core.steward import Steward
from testkit import sign_in

SYSTEM = Actor.system_actor("test")


@pytest.fixture
def monitor(steward: Steward) -> int:
    """An hourly monitor on the toy pipeline (runs fail fast where nothing serves it, but they do land)."""
    world = build_world(steward, versions=1)
    path = steward.datasets.resolve("toy/production.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("amount,colour\n1.0,red\n2.0,blue\n")
    steward.datasets.register(SYSTEM, "toy/production", "toy/production.csv", role="production")
    return steward.monitoring.add_monitor(
        world["dana"],
        pipeline="toy",
        environment="Test",
        dataset="toy/production",
        window="rows:10",
        every_minutes=60,
    ).id


def late_job(steward: Steward) -> str:
    [job] = [spec for spec in schedule(steward) if spec.name == "batch.late"]
    return job.work(steward)


def late_incidents(steward: Steward) -> list:
    return [a for a in steward.alerts.list(limit=50) if a.kind == BATCH_LATE_KIND]


def test_a_late_monitor_opens_one_incident_and_a_run_landing_resolves_it(steward, clock, monitor):
    clock.advance(minutes=60 + 59)  # due at 60 min, grace 60 min past due: not yet
    assert late_job(steward).startswith("0 late")
    assert late_incidents(steward) == []

    clock.advance(minutes=2)  # 61 min past due
    assert late_job(steward).startswith("1 late (toy/Test)")
    [incident] = late_incidents(steward)
    assert (incident.status, incident.pipeline, incident.environment) == (AlertStatus.OPEN, "toy", "Test")
    assert incident.where == "toy in Test, monitor 'toy/production'"
    assert "expects a run every 60 min" in incident.detail and "never ran" in incident.detail
    opened = steward.audit.recent(1)[0]
    assert (opened.action, opened.object_id) == ("alert.open", str(incident.id))

    for _ in range(3):  # still late: no new firing, no audit noise while it is open
        clock.advance(minutes=15)
        late_job(steward)
    assert steward.audit.recent(1)[0].seq == opened.seq
    assert steward.alerts.get(incident.id).count == 1

    steward.monitoring.run(WORKER, monitor)  # a run lands (it fails: nothing serves toy in Test)
    assert late_job(steward).endswith("1 back on time")
    back = steward.alerts.get(incident.id)
    assert back.status is AlertStatus.RESOLVED and back.resolved_by == WORKER.username
    assert "monitor 'toy/production' ran at" in back.resolution
    assert steward.audit.recent(1)[0].action == "alert.resolve"

    clock.advance(minutes=121)  # late again after the run: the same incident reopens
    late_job(steward)
    again = steward.alerts.get(incident.id)
    assert (again.status, again.reopened_count) == (AlertStatus.REOPENED, 1)


def test_the_rules_table_decides_grace_and_on_off(steward, clock, monitor):
    otto = sign_in(steward, "otto")  # the world's operator
    steward.alert_rules.update(otto, BATCH_LATE_KIND, threshold=5, windows=2)
    clock.advance(minutes=60 + 6)
    late_job(steward)  # one breaching check: pending (the rule wants two)
    assert late_incidents(steward) == []
    clock.advance(minutes=5)
    late_job(steward)
    [incident] = late_incidents(steward)
    assert incident.count == 2
    steward.alerts.resolve(otto, incident.id, "worker restarted")
    steward.alert_rules.update(otto, BATCH_LATE_KIND, enabled=False)
    clock.advance(minutes=30)
    late_job(steward)
    assert steward.alerts.get(incident.id).status is AlertStatus.RESOLVED  # disabled: nothing fires
