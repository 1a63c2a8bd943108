"""Alerts on SQLite and PostgreSQL: opened with their evidence, deduplicated, closed by the right people.

Alerts are raised by the real services (a tampered artifact found by the
registry or by a promotion, a failed batch run) and closed through the alert
service; the promotion gate reads them.
"""

from __future__ import annotations

import contextlib
import threading

import pytest
from sqlalchemy import func, select
from test_promotions_support import artifact_path, build_world

from steward.core.adapters.db.models import AlertRow
from steward.core.adapters.notifiers import MemoryNotifier
from steward.core.domain.accounts import Actor
from steward.core.domain.alerts import AlertStatus
from steward.core.domain.audit import Outcome
from steward.core.domain.gates import GateStatus
from steward.core.domain.permissions import Action, is_allowed
from steward.core.domain.roles import Role
from steward.core.domain.signals import Severity
from steward.core.errors import IntegrityError, InvalidInput, NotFound, PermissionDenied, StaleState
from steward.core.services.uow import UnitOfWork
from steward.core.steward import Steward
from testkit import add_user, make_settings, sign_in

SYSTEM = Actor.system_actor("test")


@pytest.fixture
def world(steward):
    return build_world(steward, versions=1)


def tamper(world) -> bytes:
    """Append to v1's artifact; returns the original bytes so a test can put them back."""
    path = artifact_path(world.steward, world.versions[0])
    original = path.read_bytes()
    path.write_bytes(original + b"tampered")
    return original


def batch_monitor(steward: Steward, actor: Actor, environment: str = "Test") -> int:
    """A monitor on the toy pipeline where nothing serves it: every run fails, quickly."""
    path = steward.datasets.resolve("toy/production.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("amount,colour\n1.0,red\n2.0,blue\n")
    if "toy/production" not in {d.name for d in steward.datasets.list()}:
        steward.datasets.register(SYSTEM, "toy/production", "toy/production.csv", role="production")
    return steward.monitoring.add_monitor(
        actor, pipeline="toy", environment=environment, dataset="toy/production", window="rows:10"
    ).id


def alert_count(steward: Steward) -> int:
    with UnitOfWork(steward.ctx, write=False) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(AlertRow)) or 0)


# ---- opening ------------------------------------------------------------------------------------
def test_a_tampered_artifact_opens_one_critical_alert_naming_its_evidence(world):
    s = world.steward
    tamper(world)
    assert s.pipelines.verify_artifacts(SYSTEM)
    event = s.audit.recent(2)[1]  # the evidence, then the incident's own alert.open
    assert event.action == "artifact.integrity_failed"
    [alert] = s.alerts.list()
    assert (alert.kind, alert.severity, alert.status) == ("artifact.integrity", Severity.CRITICAL, "open")
    assert (alert.pipeline, alert.object_type, alert.object_id) == ("toy", "pipeline_version", "toy/v1")
    assert alert.first_seq == alert.last_seq == event.seq and alert.count == 1
    assert alert.opened_at == event.occurred_at and "toy v1" in alert.detail
    assert alert.audit_ref == f"audit #{event.seq}" and alert.page == "Pipelines"
    assert s.alerts.get(alert.id) == alert


def test_a_repeat_counts_on_the_same_alert_and_after_resolving_reopens_it(world, clock):
    s = world.steward
    tamper(world)
    s.pipelines.verify_artifacts(SYSTEM)
    first = s.alerts.list()[0]
    clock.advance(hours=24)
    s.pipelines.verify_artifacts(SYSTEM)
    [bumped] = s.alerts.list()
    assert bumped.id == first.id and bumped.count == 2
    assert bumped.first_seq == first.first_seq and bumped.last_seq == s.audit.recent(1)[0].seq
    assert bumped.last_seen_at == clock.now() and bumped.opened_at == first.opened_at

    s.alerts.resolve(world["otto"], first.id, "restored from backup")
    s.pipelines.verify_artifacts(SYSTEM)  # still tampered: the same incident comes back, reopened
    [reopened] = s.alerts.unresolved()
    assert (reopened.id, reopened.status, reopened.reopened_count) == (first.id, AlertStatus.REOPENED, 1)
    assert reopened.count == 3 and alert_count(s) == 1
    assert len(s.alerts.timeline(first.id)) == 3  # every firing on the one timeline


def test_failed_batch_runs_are_one_alert_per_monitor(world):
    s, dana = world.steward, world["dana"]
    test_monitor, prod_monitor = batch_monitor(s, dana, "Test"), batch_monitor(s, dana, "Prod")
    for _ in range(3):
        assert s.monitoring.run(dana, test_monitor).status == "failed"
    assert s.monitoring.run(world["otto"], prod_monitor).status == "failed"
    alerts = {a.environment: a for a in s.alerts.list(severity=Severity.CRITICAL, pipeline="toy")}
    assert set(alerts) == {"Test", "Prod"}  # one per monitor (the fingerprint keeps the monitor's id)
    assert alerts["Test"].count == 3 and alerts["Prod"].count == 1
    assert alerts["Test"].kind == "batch.failed" and alerts["Test"].page == "Drift"
    assert alerts["Test"].where == "toy in Test, monitor 'toy/production'"  # in words, not a monitor id
    assert "nothing serves toy in Test" in alerts["Test"].detail


def test_events_that_match_no_rule_open_nothing(world):
    s = world.steward
    s.promotions.request(world["dana"], "toy", 1, "Dev", "try")  # promotion events, a successful deploy
    with pytest.raises(PermissionDenied):  # a refusal, audited in its own transaction
        s.alerts.resolve(world["vera"], 1, "not mine to close")
    assert alert_count(s) == 0


def test_an_alert_opens_in_the_transaction_of_its_evidence(tmp_path, database_url, clock):
    notifier = MemoryNotifier()
    steward = Steward(make_settings(tmp_path, database_url), clock=clock, notifier=notifier)
    steward.upgrade_database()
    try:
        head = steward.audit.recent(1)[0].seq

        def raise_alarm(uow: UnitOfWork) -> None:
            uow.record(
                Actor.system_actor("registry"),
                "artifact.integrity_failed",
                object_type="pipeline_version",
                object_id="toy/v1",
                outcome=Outcome.FAILED,
                detail="toy v1: digest mismatch",
            )

        failing = pytest.raises(RuntimeError, match="the action failed after its event")
        with failing, UnitOfWork(steward.ctx) as uow:
            raise_alarm(uow)
            assert uow.session.scalar(select(func.count()).select_from(AlertRow)) == 1  # same session
            raise RuntimeError("the action failed after its event")
        assert alert_count(steward) == 0 and steward.audit.recent(1)[0].seq == head
        assert notifier.sent == []  # nothing was said about what never happened

        with UnitOfWork(steward.ctx) as uow:
            raise_alarm(uow)
            assert notifier.sent == []  # not before the commit
            uow.commit()
        [alert] = steward.alerts.list()
        assert alert.first_seq == head + 1 and steward.audit.recent(1)[0].seq == head + 2  # then alert.open
        [sent] = notifier.sent
        assert sent.topic == "alert.opened" and sent.data["alert"] == alert.id
    finally:
        steward.close()


def test_opening_notifies_the_people_who_manage_alerts_once(tmp_path, database_url, clock):
    notifier = MemoryNotifier()
    steward = Steward(make_settings(tmp_path, database_url), clock=clock, notifier=notifier)
    steward.upgrade_database()
    try:
        world = build_world(steward, versions=1)
        tamper(world)
        steward.pipelines.verify_artifacts(SYSTEM)
        steward.pipelines.verify_artifacts(SYSTEM)  # a repeat bumps the count, and says nothing new
        opened = [n for n in notifier.sent if n.topic == "alert.opened"]
        assert len(opened) == 1
        assert opened[0].recipients == ("ada", "opal", "otto")  # admins and operators, by name
        assert "toy, version v1" in opened[0].subject and "audit #" in opened[0].body
    finally:
        steward.close()


# ---- closing ------------------------------------------------------------------------------------
@pytest.mark.parametrize("verb", ["acknowledge", "resolve"])
def test_who_may_acknowledge_and_resolve_is_exactly_the_matrix(world, verb):
    s = world.steward
    tamper(world)
    people = {}
    for role in Role:
        name = f"{verb[:3]}-{role.value.replace('_', '-')}"
        add_user(s, name, role.value)
        people[role] = sign_in(s, name)
    outcomes = {}
    for role, actor in people.items():
        s.pipelines.verify_artifacts(SYSTEM)  # an unresolved alert to act on (a new one after a resolve)
        [alert] = s.alerts.unresolved()
        try:
            getattr(s.alerts, verb)(actor, alert.id, f"{role.value} checked the artifact store")
        except PermissionDenied:
            outcomes[role] = False
            denied = s.audit.recent(1)[0]
            assert (denied.action, denied.actor, denied.outcome) == (
                "permission.denied",
                actor.username,
                "denied",
            )
            assert denied.detail.startswith("alert.manage:") and denied.object_id == str(alert.id)
            assert s.alerts.get(alert.id) == alert  # nothing changed
        else:
            outcomes[role] = True
            done = s.alerts.get(alert.id)
            event = s.audit.recent(1)[0]
            assert (event.action, event.actor, event.object_id) == (
                f"alert.{verb}",
                actor.username,
                str(alert.id),
            )
            assert (
                event.before["status"] in ("open", "reopened") and event.after["status"] == done.status.value
            )
            if verb == "resolve":
                assert (done.status, done.resolved_by) == (AlertStatus.RESOLVED, actor.username)
                assert done.resolution == f"{role.value} checked the artifact store"
            else:
                assert (done.status, done.acknowledged_by) == (AlertStatus.ACKNOWLEDGED, actor.username)
                s.alerts.resolve(SYSTEM, alert.id, "closed between roles")
    assert outcomes == {role: is_allowed({role}, Action.MANAGE_ALERTS) for role in Role}
    assert any(outcomes.values()) and not all(outcomes.values())


def test_resolving_needs_a_comment_and_a_stale_transition_is_refused(world):
    s, otto, opal = world.steward, world["otto"], world["opal"]
    tamper(world)
    s.pipelines.verify_artifacts(SYSTEM)
    [alert] = s.alerts.list()
    head = s.audit.recent(1)[0].seq
    for empty in ("", "   \n"):
        with pytest.raises(InvalidInput, match="needs a comment"):
            s.alerts.resolve(otto, alert.id, empty)
    with pytest.raises(InvalidInput, match="control or invisible character"):
        s.alerts.resolve(otto, alert.id, "fixed\u202e")
    with pytest.raises(InvalidInput, match="alert id"):
        s.alerts.resolve(otto, "1; drop table alerts", "x")  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="no alert #999"):
        s.alerts.acknowledge(otto, 999)
    assert s.audit.recent(1)[0].seq == head and s.alerts.get(alert.id) == alert

    acknowledged = s.alerts.acknowledge(otto, alert.id, "looking at the artifact store")
    assert acknowledged.acknowledge_comment == "looking at the artifact store"
    with pytest.raises(StaleState, match=f"alert #{alert.id} was already acknowledged by otto"):
        s.alerts.acknowledge(opal, alert.id, "me too")
    resolved = s.alerts.resolve(opal, alert.id, "artifact restored from the backup")
    assert resolved.acknowledged_by == "otto" and resolved.resolved_by == "opal"
    for again in (
        lambda: s.alerts.resolve(otto, alert.id, "again"),
        lambda: s.alerts.acknowledge(otto, alert.id),
    ):
        with pytest.raises(StaleState, match="already resolved by opal; nothing was changed"):
            again()
    assert [e.action for e in s.audit.recent(2)] == ["alert.resolve", "alert.acknowledge"]
    assert s.alerts.get(alert.id) == resolved


def test_listing_filters_by_status_severity_and_pipeline(world):
    s, dana = world.steward, world["dana"]
    tamper(world)
    s.pipelines.verify_artifacts(SYSTEM)
    s.monitoring.run(dana, batch_monitor(s, dana))
    integrity, batch = sorted(s.alerts.list(), key=lambda a: a.kind)
    s.alerts.acknowledge(world["otto"], batch.id)
    assert [a.id for a in s.alerts.list(status=AlertStatus.ACKNOWLEDGED)] == [batch.id]
    assert [a.id for a in s.alerts.list(status=AlertStatus.OPEN)] == [integrity.id]
    assert {a.id for a in s.alerts.unresolved()} == {integrity.id, batch.id}
    assert s.alerts.list(severity=Severity.WARNING) == [] and s.alerts.list(pipeline="other") == []
    assert len(s.alerts.list(severity=Severity.CRITICAL, pipeline="toy")) == 2
    s.alerts.resolve(world["otto"], integrity.id, "restored")
    assert [a.id for a in s.alerts.recently_resolved()] == [integrity.id]
    assert [a.id for a in s.alerts.open_critical("toy")] == [batch.id]


# ---- the promotion gate -------------------------------------------------------------------------
def test_the_gate_blocks_on_an_unresolved_critical_alert_and_a_resolve_unblocks_it(world):
    s = world.steward
    s.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    request = s.promotions.request(world["dana"], "toy", 1, "Test", "checks")
    s.promotions.approve(world["sam"], request.id, "fine")
    original = tamper(world)
    with pytest.raises(IntegrityError, match="changed after it was requested"):
        s.promotions.execute(world["otto"], request.id)
    [alert] = s.alerts.open_critical("toy")
    gate = {g.gate: g for g in s.promotions.evidence(request.id).gates}["critical_alerts"]
    assert gate.status is GateStatus.FAILED
    assert f"alert #{alert.id}" in gate.detail and f"audit #{alert.first_seq}" in gate.detail

    artifact_path(s, world.versions[0]).write_bytes(original)  # the bytes are right again...
    with pytest.raises(InvalidInput, match=f"no open critical alert.*alert #{alert.id}"):
        s.promotions.execute(world["otto"], request.id)  # ...but nobody has looked yet
    s.alerts.acknowledge(world["otto"], alert.id, "restoring the artifact")
    with pytest.raises(InvalidInput, match="acknowledged"):
        s.promotions.execute(world["otto"], request.id)  # acknowledged is not fixed
    s.alerts.resolve(world["otto"], alert.id, "artifact restored and re-hashed")
    assert s.alerts.open_critical("toy") == []
    gate = {g.gate: g for g in s.promotions.evidence(request.id).gates}["critical_alerts"]
    assert gate.status is GateStatus.PASSED
    entry = s.promotions.execute(world["otto"], request.id)
    assert entry.version_number == 1 and [d.version_number for d in s.deployments.serving("Test")] == [1]


def test_a_critical_alert_on_another_pipeline_does_not_block(world):
    s = world.steward
    with UnitOfWork(s.ctx) as uow:
        uow.record(
            SYSTEM,
            "artifact.integrity_failed",
            object_type="pipeline_version",
            object_id="toy-other/v1",
            outcome=Outcome.FAILED,
            detail="another pipeline's artifact",
        )
        uow.commit()
    assert [a.pipeline for a in s.alerts.list()] == ["toy-other"]
    s.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    assert [d.version_number for d in s.deployments.serving("Dev")] == [1]


def test_repeats_and_resolves_racing_neither_deadlock_nor_leave_two_unresolved(steward):
    """Two writers repeat the event while a third acknowledges and resolves: every writer locks the audit
    head before an alert, so they queue (without that order PostgreSQL reported deadlocks here)."""
    problems: list[str] = []

    def repeat() -> None:
        try:
            for i in range(30):
                with UnitOfWork(steward.ctx) as uow:
                    uow.record(
                        SYSTEM,
                        "artifact.integrity_failed",
                        object_type="pipeline_version",
                        object_id="toy/v1",
                        outcome=Outcome.FAILED,
                        detail=f"check {i}",
                    )
                    uow.commit()
        except Exception as problem:  # any failure is the finding
            problems.append(repr(problem))

    def close() -> None:
        try:
            for i in range(30):
                for alert in steward.alerts.unresolved():
                    with contextlib.suppress(StaleState):
                        if i % 2:
                            steward.alerts.acknowledge(SYSTEM, alert.id, "looking")
                        steward.alerts.resolve(SYSTEM, alert.id, "restored")
        except Exception as problem:
            problems.append(repr(problem))

    threads = [threading.Thread(target=work) for work in (repeat, repeat, close)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    alerts = steward.alerts.list(limit=1000)
    assert sum(a.count for a in alerts) == 60  # every event counted on exactly one alert
    assert len([a for a in alerts if a.unresolved]) <= 1
    assert steward.audit.verify().chain.ok
