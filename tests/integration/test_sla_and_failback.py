"""SLA targets stored per deployment (audited, stale edits refused) and fail-back, on both databases."""

from __future__ import annotations

import pytest
from test_promotions_support import build_world

from steward.core.domain.promotions import LedgerKind
from steward.core.domain.sla import SlaTargets
from steward.core.errors import InvalidInput, NotFound, PermissionDenied, StaleState


@pytest.fixture
def world(steward):
    return build_world(steward, versions=2)


def test_targets_are_set_read_and_audited_with_before_and_after(world):
    s, otto = world.steward, world["otto"]
    assert s.sla.get("Prod", "toy") is None  # settable before anything serves there
    first = s.sla.set(otto, "Prod", "toy", SlaTargets(p95_ms=50, max_error_rate=0.01), expected_version=0)
    assert first.updated_by == "otto" and first.version == 1
    event = s.audit.recent(1)[0]
    assert (event.action, event.object_id, event.before) == ("sla.set", "Prod/toy", None)
    assert event.after == SlaTargets(p95_ms=50, max_error_rate=0.01).snapshot()
    second = s.sla.set(otto, "Prod", "toy", SlaTargets(p95_ms=40), expected_version=first.version)
    assert second.targets == SlaTargets(p95_ms=40) and second.version == 2
    event = s.audit.recent(1)[0]
    assert event.before and event.before["p95_ms"] == 50 and event.after and event.after["p95_ms"] == 40
    with pytest.raises(StaleState, match="changed since you loaded it"):
        s.sla.set(otto, "Prod", "toy", SlaTargets(p95_ms=10), expected_version=first.version)
    assert [(t.environment_name, t.pipeline_name) for t in s.sla.list()] == [("Prod", "toy")]
    with pytest.raises(NotFound, match="no pipeline named 'nope'"):
        s.sla.set(otto, "Prod", "nope", SlaTargets(p95_ms=10))
    with pytest.raises(PermissionDenied):
        s.sla.set(world["dana"], "Dev", "toy", SlaTargets(p95_ms=10))
    assert s.sla.get("Prod", "toy").targets.p95_ms == 40  # type: ignore[union-attr]


def test_fail_over_then_back_restores_the_primary_and_rearms_the_fallback(world):
    s, otto = world.steward, world["otto"]
    for number in (1, 2):
        s.promotions.request(world["dana"], "toy", number, "Dev", "try")
    with pytest.raises(InvalidInput, match="no primary to fail back to"):
        s.deployments.failback(otto, "Dev", "toy", "nothing failed")
    over = s.deployments.failover(otto, "Dev", "toy", "v2 errors")
    assert over.kind is LedgerKind.FAILOVER and over.version_number == 1
    [serving] = s.deployments.serving("Dev")
    assert serving.on_fallback and serving.fallback_number == 2
    back = s.deployments.failback(otto, "Dev", "toy", "fixed", expected_version=serving.version)
    assert back.kind is LedgerKind.FAILBACK and back.version_number == 2 and back.previous_number == 1
    [serving] = s.deployments.serving("Dev")
    assert not serving.on_fallback and (serving.version_number, serving.fallback_number) == (2, 1)
    assert s.audit.recent(1)[0].action == "deployment.failback"
    with pytest.raises(StaleState):
        s.deployments.failover(otto, "Dev", "toy", "from a stale page", expected_version=serving.version - 1)
    assert s.deployments.rollback_target("Dev", "toy").version_number == 1
    assert s.deployments.rollback_target("Dev", "toy", 1).version_number == 1
    with pytest.raises(InvalidInput, match="already serves"):
        s.deployments.rollback_target("Dev", "toy", 2)
