"""An incident drills down to its evidence, the ledger just before it began, its runbook and actions;
the event timeline shows deployments, alerts and the rollback in order, filtered by pipeline and environment."""

from __future__ import annotations

import pytest
from test_promotions_support import build_world

from steward.core.domain.accounts import Actor
from steward.core.domain.alert_rules import DRIFT_KIND
from steward.core.services.alerting import raise_alert
from steward.core.services.uow import UnitOfWork

MONITOR = Actor.system_actor("monitor")


@pytest.fixture
def world(steward):
    return build_world(steward, versions=2)


def drift(steward, clock) -> None:
    for _ in range(2):  # the default drift rule wants two consecutive windows
        with UnitOfWork(steward.ctx) as uow:
            raise_alert(uow, MONITOR, DRIFT_KIND, pipeline="toy", environment="Dev", detail="amount moved")
            uow.commit()
        clock.advance(minutes=10)


def test_drilldown_links_evidence_changes_runbook_and_rolls_back(world, clock):
    s, p = world.steward, world.pipeline
    s.promotions.request(world["dana"], p, 1, "Dev", "first")
    clock.advance(hours=1)
    s.promotions.request(world["dana"], p, 2, "Dev", "second")
    clock.advance(minutes=30)
    drift(s, clock)
    [incident] = s.alerts.unresolved()
    view = s.incidents.drilldown(incident.id)
    assert [e.version_number for e in view.changes_before] == [2, 1]  # what changed just before, newest first
    first = view.evidence[0]
    assert (first.page, first.params) == ("drift.py", {"pipeline": "toy", "environment": "Dev"})
    assert "roll back" in view.rule.runbook and view.can_roll_back and view.retrain_link is not None
    assert len(view.timeline) == 2

    otto = world["otto"]
    s.alerts.acknowledge(otto, incident.id, "looking at the overlay")
    target = s.deployments.rollback_target("Dev", "toy")
    s.deployments.rollback(otto, target.id, f"incident #{incident.id}: drift after v2")
    s.alerts.resolve(otto, incident.id, "rolled back to v1")

    entries = s.timeline.entries(pipeline="toy", environment="Dev")
    kinds = [e.category for e in entries]
    assert kinds[0] == "alert" and "deployment" in kinds
    actions = [e.action for e in entries]
    assert (
        actions.index("alert.resolve")
        < actions.index("deployment.rollback")
        < actions.index("alert.acknowledge")
    )
    assert s.timeline.entries(pipeline="toy", environment="Prod") == []
    assert all(e.category == "deployment" for e in s.timeline.entries(categories=frozenset({"deployment"})))
