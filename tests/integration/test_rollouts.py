"""Shadow and canary rollouts in the service layer, on both databases.

Who may start one (the deploy permission; a canary also needs the version's
sign-offs where the environment asks for them), that start and end are
audited, that a rollout ends by itself when its time runs out, and that a
canary whose own requests breach the SLA is rolled back with an alert. The
canary's requests go in through the prediction log's online path
(``append_online_requests``); the scoring service's part is in
tests/serving/test_serving_rollouts.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_promotions_support import build_world

from steward.core.domain.accounts import Actor
from steward.core.domain.alert_rules import CANARY_ROLLBACK_KIND
from steward.core.domain.rollouts import RolloutKind, RolloutStatus
from steward.core.domain.sla import SlaTargets
from steward.core.errors import InvalidInput, PermissionDenied, StaleState
from steward.core.services.online_requests import OnlineRequest, append_online_requests
from steward.core.services.rollouts import RolloutService
from steward.core.services.sla import SlaService

SERVING = Actor.system_actor("serving")


@pytest.fixture
def world(steward):
    world = build_world(steward, versions=2)
    steward.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    return world


def canary_traffic(world, rollout, count: int, *, errors: int, start=0) -> None:
    s = world.steward
    now = s.ctx.clock.now()
    requests = [
        OnlineRequest(
            request_id=f"canary-{start + i}",
            version_id=rollout.challenger_version_id,
            latency_ms=5.0,
            scored_at=now,
            status="error" if i < errors else "ok",
            fallback=False,
        )
        for i in range(count)
    ]
    append_online_requests(s.ctx, "toy", rollout.environment_name, requests)


def test_starting_needs_the_deploy_permission_and_both_ends_are_audited(world):
    s, rollouts = world.steward, RolloutService(world.steward.ctx)
    with pytest.raises(PermissionDenied):
        rollouts.start(world["vera"], RolloutKind.SHADOW, "Dev", "toy", 2, minutes=30)
    denied = s.audit.recent(1)[0]
    assert denied.outcome.value == "denied" and denied.object_id == "Dev/toy"
    with pytest.raises(InvalidInput, match="already serves"):
        rollouts.start(world["dana"], RolloutKind.SHADOW, "Dev", "toy", 1, minutes=30)
    with pytest.raises(InvalidInput, match="takes no share"):
        rollouts.start(world["dana"], RolloutKind.SHADOW, "Dev", "toy", 2, minutes=30, share=0.1)
    with pytest.raises(InvalidInput, match="duration"):
        rollouts.start(world["dana"], RolloutKind.SHADOW, "Dev", "toy", 2, minutes=0)
    shadow = rollouts.start(world["dana"], RolloutKind.SHADOW, "Dev", "toy", 2, minutes=30, reason="compare")
    assert (shadow.challenger_number, shadow.champion_number, shadow.status) == (2, 1, RolloutStatus.ACTIVE)
    assert [r.id for r in rollouts.active()] == [shadow.id]
    with pytest.raises(StaleState, match="already running"):
        rollouts.start(world["dana"], RolloutKind.SHADOW, "Dev", "toy", 2, minutes=30)
    started = s.audit.recent(1)[0]
    assert started.action == "rollout.started" and started.actor == "dana"
    assert started.after is not None and started.after["challenger"] == 2
    with pytest.raises(PermissionDenied):
        rollouts.end(world["vera"], shadow.id, "no")
    ended = rollouts.end(world["dana"], shadow.id, "seen enough")
    assert ended.status is RolloutStatus.ENDED and ended.ended_by == "dana"
    assert s.audit.recent(1)[0].action == "rollout.ended"
    assert rollouts.active() == []
    with pytest.raises(StaleState):
        rollouts.end(world["dana"], shadow.id)
    assert s.audit.verify().chain.ok


def test_a_rollout_ends_by_itself_when_its_time_runs_out(world, clock):
    rollouts = RolloutService(world.steward.ctx)
    shadow = rollouts.start(world["dana"], RolloutKind.SHADOW, "Dev", "toy", 2, minutes=5)
    clock.advance(minutes=4)
    assert rollouts.supervise(SERVING) == [] and rollouts.active()
    clock.advance(minutes=2)
    assert rollouts.active() == []  # the scoring service stops routing at once...
    assert rollouts.supervise(SERVING) == ["Dev/toy shadow expired"]  # ...and the row is closed once
    assert rollouts.supervise(SERVING) == []
    expired = rollouts.get(shadow.id)
    assert expired.status is RolloutStatus.EXPIRED and expired.ended_by == "system:serving"
    event = world.steward.audit.recent(1)[0]
    assert event.action == "rollout.ended" and "time ran out" in event.detail


def test_a_canary_breaching_the_error_rate_is_rolled_back_with_an_alert(world):
    s, rollouts = world.steward, RolloutService(world.steward.ctx)
    with pytest.raises(InvalidInput, match="has none"):  # nothing to roll back against
        rollouts.start(world["dana"], RolloutKind.CANARY, "Dev", "toy", 2, minutes=30, share=0.2)
    SlaService(s.ctx).set(world["otto"], "Dev", "toy", SlaTargets(max_error_rate=0.05))
    canary = rollouts.start(world["dana"], RolloutKind.CANARY, "Dev", "toy", 2, minutes=30, share=0.2)
    canary_traffic(world, canary, 10, errors=5)  # 50 % failing, but ten requests judge nothing yet
    assert rollouts.supervise(SERVING) == []
    assert rollouts.watch(canary.id).verdict == "too few canary requests to judge yet"
    canary_traffic(world, canary, 30, errors=0, start=10)  # 5 of 40: 12.5 % > 5 %
    assert rollouts.supervise(SERVING) == ["Dev/toy canary rolled back"]
    rolled = rollouts.get(canary.id)
    assert rolled.status is RolloutStatus.ROLLED_BACK and rolled.ended_by == "system:serving"
    assert "error rate 12.5 %" in rolled.end_reason
    # the rollback, then the alert it opened (audited as alert.open right after its cause)
    event, opened = s.audit.recent(2)[1], s.audit.recent(2)[0]
    assert event.action == "rollout.rolled_back" and event.outcome.value == "failed"
    assert opened.action == "alert.open"
    [alert] = [a for a in s.alerts.list() if a.kind == CANARY_ROLLBACK_KIND]
    assert alert.where.endswith("toy") or "toy" in alert.title + alert.where
    watch = rollouts.watch(canary.id)
    assert (watch.challenger.requests, watch.challenger.errors) == (40, 5)
    assert rollouts.supervise(SERVING) == []  # once


def test_a_healthy_canary_keeps_running(world):
    s, rollouts = world.steward, RolloutService(world.steward.ctx)
    SlaService(s.ctx).set(world["otto"], "Dev", "toy", SlaTargets(max_error_rate=0.05, p95_ms=50))
    canary = rollouts.start(world["dana"], RolloutKind.CANARY, "Dev", "toy", 2, minutes=30, share=0.2)
    canary_traffic(world, canary, 100, errors=1)
    assert rollouts.supervise(SERVING) == []
    assert rollouts.watch(canary.id).verdict.startswith("within every target")


def test_a_canary_needs_the_versions_sign_offs_where_the_environment_asks_for_them(world):
    s, rollouts = world.steward, RolloutService(world.steward.ctx)
    first = s.promotions.request(
        world["dana"], "toy", 1, "Test", "checks"
    )  # v1 serves Dev (fixture) and Test
    s.promotions.approve(world["sam"], first.id, "fine")
    s.promotions.execute(world["otto"], first.id)
    s.promotions.request(world["dana"], "toy", 2, "Dev", "next")
    request = s.promotions.request(world["dana"], "toy", 2, "Test", "next")
    SlaService(s.ctx).set(world["otto"], "Test", "toy", SlaTargets(max_error_rate=0.05))
    with pytest.raises(InvalidInput, match="sign-offs complete"):
        rollouts.start(world["otto"], RolloutKind.CANARY, "Test", "toy", 2, minutes=30, share=0.1)
    refused = s.audit.recent(1)[0]
    assert refused.action == "rollout.started" and refused.outcome.value == "denied"
    # A shadow answers nobody: the deploy permission is enough.
    shadow = rollouts.start(world["otto"], RolloutKind.SHADOW, "Test", "toy", 2, minutes=30)
    rollouts.end(world["otto"], shadow.id)
    s.promotions.approve(world["sam"], request.id, "fine")
    canary = rollouts.start(world["otto"], RolloutKind.CANARY, "Test", "toy", 2, minutes=30, share=0.1)
    assert canary.promotion_request_id == request.id and canary.share == pytest.approx(0.1)
    rollouts.end(world["otto"], canary.id)
    with pytest.raises(PermissionDenied):  # data scientists do not deploy to Prod, so no rollout there
        rollouts.start(world["dana"], RolloutKind.SHADOW, "Prod", "toy", 2, minutes=30)


def test_the_watch_compares_the_shadow_with_the_champion(world):
    from steward.core.adapters.db.models import ShadowPredictionRow
    from steward.core.services.uow import UnitOfWork

    s, rollouts = world.steward, RolloutService(world.steward.ctx)
    shadow = rollouts.start(world["dana"], RolloutKind.SHADOW, "Dev", "toy", 2, minutes=30)
    now = s.ctx.clock.now()
    with UnitOfWork(s.ctx) as uow:
        for i in range(10):
            uow.session.add(
                ShadowPredictionRow(
                    rollout_id=shadow.id,
                    request_id=f"r{i}",
                    version_id=shadow.challenger_version_id,
                    champion_version_id=shadow.champion_version_id,
                    prediction=0.7 if i < 8 else 0.2,
                    champion_prediction=0.6,
                    label="1" if i < 8 else "0",
                    champion_label="1",
                    latency_ms=2.0,
                    status="ok",
                    scored_at=now + timedelta(seconds=i),
                )
            )
        uow.commit()
    watch = rollouts.watch(shadow.id)
    assert watch.agreement is not None
    assert (watch.agreement.compared, watch.agreement.agreeing) == (10, 8)
    assert watch.agreement.mean_delta == pytest.approx((8 * 0.1 - 2 * 0.4) / 10)
    assert watch.challenger.requests == 10
