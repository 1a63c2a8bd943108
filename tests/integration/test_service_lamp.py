"""The Overview's service light counts the deployments that serve, not the targets set where nothing does."""

from __future__ import annotations

from datetime import timedelta

from test_promotions_support import build_world
from test_service_levels import traffic

from steward.core.domain.signals import Light
from steward.core.domain.sla import SlaTargets
from steward.core.setup.jobs import roll_up_requests


def test_a_breach_is_counted_among_serving_deployments_only(steward, clock):
    world = build_world(steward, versions=2)
    s, otto = world.steward, world["otto"]
    s.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    s.sla.set(otto, "Dev", "toy", SlaTargets(p95_ms=100, window_minutes=5))
    s.sla.set(otto, "Test", "toy", SlaTargets(p95_ms=100, window_minutes=5))  # nothing serves in Test
    traffic(s, clock.now() - timedelta(minutes=2), 100, 450.0, prefix="slow")
    assert "Dev/toy breached" in roll_up_requests(s)
    [service] = [lamp for lamp in s.signals.lamps() if lamp.page == "Service health"]
    assert service.light is Light.RED
    assert service.summary == "1 of 1 serving deployment(s) in breach of their SLA"
