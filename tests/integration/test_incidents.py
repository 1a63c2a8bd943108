"""Incidents on SQLite and PostgreSQL: firings of one cause group into one incident with a timeline,
rules as data decide when a firing opens one, and people own, snooze, resolve and see them reopen."""

from __future__ import annotations

from datetime import timedelta

import pytest

from steward.core.domain.accounts import Actor
from steward.core.domain.alert_rules import SLA_KIND
from steward.core.domain.alerts import AlertStatus
from steward.core.domain.signals import Severity
from steward.core.errors import InvalidInput, PermissionDenied, StaleState
from steward.core.services.alerting import raise_alert
from steward.core.services.uow import UnitOfWork
from steward.core.steward import Steward
from testkit import add_user, sign_in

MONITOR = Actor.system_actor("sla")


def fire(
    steward: Steward,
    kind: str = SLA_KIND,
    *,
    pipeline: str = "bike-demand",
    environment: str = "Prod",
    value: float | None = None,
    detail: str = "p95 420 ms over 300 ms",
) -> None:
    with UnitOfWork(steward.ctx) as uow:
        raise_alert(
            uow, MONITOR, kind, pipeline=pipeline, environment=environment, value=value, detail=detail
        )
        uow.commit()


@pytest.fixture
def people(steward: Steward) -> dict[str, Actor]:
    for name, role in (("otto", "operator"), ("ada", "admin"), ("vic", "viewer"), ("dana", "data_scientist")):
        add_user(steward, name, role)
    return {name: sign_in(steward, name) for name in ("otto", "ada", "vic", "dana")}


def test_a_hundred_firings_of_one_cause_are_one_incident_with_a_hundred_entries(steward, clock):
    for _ in range(100):
        fire(steward)
        clock.advance(minutes=1)
    fire(steward, environment="Test")  # another environment: another incident
    incidents = steward.alerts.unresolved()
    prod = [a for a in incidents if a.environment == "Prod"]
    assert len(incidents) == 2 and len(prod) == 1
    [incident] = prod
    assert (incident.kind, incident.pipeline, incident.count, incident.severity) == (
        SLA_KIND,
        "bike-demand",
        100,
        Severity.CRITICAL,
    )
    timeline = steward.alerts.timeline(incident.id)
    assert len(timeline) == 100
    assert [o.occurred_at for o in timeline] == sorted(o.occurred_at for o in timeline)
    assert timeline[0].seq == incident.first_seq and timeline[-1].seq == incident.last_seq
    actions = [e.action for e in steward.audit.recent(200)]
    assert actions.count("alert.fire") == 101  # each firing is audited
    assert actions.count("alert.open") == 2  # and each opening once, by the rules, after its cause
    opened = next(e for e in steward.audit.recent(200) if e.object_id == str(incident.id))
    assert (opened.action, opened.actor, opened.after["cause_seq"]) == (
        "alert.open",
        "system:alerts",
        incident.first_seq,
    )


def test_the_rule_condition_needs_n_consecutive_breaching_windows_within_the_minutes(steward, people, clock):
    rule = steward.alert_rules.update(
        people["otto"], SLA_KIND, comparison="above", threshold=300, windows=3, minutes=30
    )
    assert rule.describe() == "value above 300 for 3 consecutive window(s) within 30 min"
    assert steward.audit.recent(1)[0].action == "alert_rule.update"
    fire(steward, value=420)
    fire(steward, value=450)
    fire(steward, value=250)  # fine again: the streak is broken
    fire(steward, value=420)
    fire(steward, value=430)
    assert steward.alerts.unresolved() == []
    clock.advance(minutes=45)
    fire(steward, value=440)  # three in a row, but the first two are older than 30 minutes
    assert steward.alerts.unresolved() == []
    fire(steward, value=441)
    fire(steward, value=442)
    [incident] = steward.alerts.unresolved()
    assert incident.count == 5 and len(steward.alerts.timeline(incident.id)) == 5


def test_a_disabled_rule_opens_nothing_and_bad_edits_save_nothing(steward, people):
    steward.alert_rules.update(people["ada"], SLA_KIND, enabled=False)
    fire(steward)
    assert steward.alerts.unresolved() == []
    before = steward.alert_rules.get(SLA_KIND)
    for bad in (
        {"windows": 0},
        {"minutes": -1},
        {"comparison": "above", "threshold": None},
        {"severity": "apocalyptic"},
        {"threshold": float("nan")},
    ):
        with pytest.raises(InvalidInput):
            steward.alert_rules.update(people["otto"], SLA_KIND, **bad)
    assert steward.alert_rules.get(SLA_KIND) == before
    for who in ("vic", "dana"):
        with pytest.raises(PermissionDenied):
            steward.alert_rules.update(people[who], SLA_KIND, enabled=True)
    assert steward.audit.recent(1)[0].action == "permission.denied"
    assert len(steward.alert_rules.list()) >= 12


def test_lifecycle_assign_snooze_resolve_reopen_each_audited_and_ranked(steward, people, clock):
    fire(steward, "batch.late", pipeline="credit-default", environment="Prod", value=90)  # a warning
    clock.advance(minutes=5)
    fire(steward)  # critical, newer
    warning, critical = sorted(steward.alerts.unresolved(), key=lambda a: a.id)
    assert [a.id for a in steward.alerts.unresolved()] == [critical.id, warning.id]  # severity before age
    otto = people["otto"]
    steward.alerts.acknowledge(otto, critical.id, "looking")
    assigned = steward.alerts.assign(otto, critical.id, "ada", "ada owns the serving tier")
    assert assigned.assigned_to == "ada"
    with pytest.raises(InvalidInput):
        steward.alerts.assign(otto, critical.id, "vic")  # may not manage alerts
    snoozed = steward.alerts.snooze(otto, critical.id, clock.now() + timedelta(hours=1), "after the deploy")
    assert snoozed.snoozed(clock.now())
    assert [a.id for a in steward.alerts.unresolved()] == [warning.id, critical.id]  # snoozed ranks last
    with pytest.raises(InvalidInput):
        steward.alerts.snooze(otto, critical.id, clock.now() - timedelta(minutes=1))
    steward.alerts.resolve(otto, critical.id, "scaled the serving pool")
    with pytest.raises(StaleState):
        steward.alerts.assign(otto, critical.id, "ada")
    fire(steward)  # fires again after the resolve: the same incident, reopened
    reopened = steward.alerts.get(critical.id)
    assert (reopened.status, reopened.reopened_count, reopened.count) == (AlertStatus.REOPENED, 1, 2)
    events = [
        e for e in steward.audit.recent(50) if e.object_type == "alert" and e.object_id == str(critical.id)
    ]
    assert [e.action for e in events] == [
        "alert.reopen",  # its own event, right after the firing that reopened it
        "alert.resolve",
        "alert.snooze",
        "alert.assign",
        "alert.acknowledge",
        "alert.open",
    ]
    assert events[0].after["cause_seq"] == reopened.last_seq and events[0].actor == "system:alerts"
    assert events[0].seq == reopened.last_seq + 1
