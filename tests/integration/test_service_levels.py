"""Rollups read only new log rows, and slow requests breach the p95 target: an alert opens, recovery closes it.

Both databases. Online rows go in through ``append_online_requests`` (the
prediction log's online shape); the rollup job and the SLA evaluation are the
worker's ``rollups.run`` job, called directly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select
from test_promotions_support import build_world

from steward.core.adapters.db.models import EnvironmentRow, PipelineRow, PredictionRow, RequestRollupRow
from steward.core.domain.alerts import SLA_BREACH_KIND
from steward.core.domain.sla import SlaTargets
from steward.core.services.online_requests import OnlineRequest, append_online_requests
from steward.core.services.rollups import HOUR, MINUTE, ONLINE
from steward.core.services.uow import UnitOfWork
from steward.core.setup.jobs import roll_up_requests, schedule
from steward.core.steward import Steward


@pytest.fixture
def world(steward):
    world = build_world(steward, versions=2)
    steward.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    return world


def version_id(steward: Steward, environment: str = "Dev") -> str:
    [serving] = steward.deployments.serving(environment)
    return serving.version_id


def traffic(
    steward: Steward, start: datetime, count: int, latency: float, *, prefix: str, errors: int = 0
) -> None:
    vid = version_id(steward)
    requests = [
        OnlineRequest(
            request_id=f"{prefix}-{i}",
            version_id=vid,
            latency_ms=latency + (i % 7),
            scored_at=start + timedelta(seconds=(i * 59) // max(count, 1)),
            status="error" if i < errors else "ok",
            fallback=i % 10 == 0,
        )
        for i in range(count)
    ]
    append_online_requests(steward.ctx, "toy", "Dev", requests)


def minute_totals(steward: Steward) -> dict[tuple[int, str], int]:
    with UnitOfWork(steward.ctx, write=False) as uow:
        rows = uow.session.scalars(select(RequestRollupRow).where(RequestRollupRow.channel == ONLINE))
        totals: dict[tuple[int, str], int] = {}
        for row in rows:
            key = (row.span_seconds, row.start.isoformat())
            totals[key] = totals.get(key, 0) + row.requests
        return totals


def test_the_job_reads_only_rows_it_has_not_read(world, clock):
    s = world.steward
    assert "rollups.run" in {spec.name for spec in schedule(s)}
    start = clock.now() - timedelta(minutes=3)
    traffic(s, start, 120, 20.0, prefix="a")
    first = s.rollups.run()
    assert (first.rows, first.late) == (120, 0)
    again = s.rollups.run()
    assert again.rows == 0 and again.rollups_written == 0, "nothing new: nothing read, nothing written"
    traffic(s, start + timedelta(minutes=1), 30, 20.0, prefix="b")
    third = s.rollups.run()
    assert third.rows == 30
    with UnitOfWork(s.ctx, write=False) as uow:
        newest = uow.session.scalar(select(PredictionRow.id).order_by(PredictionRow.id.desc()).limit(1))
    assert s.rollups.mark()[0] == newest == third.last_id
    totals = minute_totals(s)
    minute = start.replace(second=0, microsecond=0)
    assert totals[(MINUTE, minute.isoformat())] == 120
    assert totals[(MINUTE, (minute + timedelta(minutes=1)).isoformat())] == 30
    assert sum(v for (span, _), v in totals.items() if span == HOUR) == 150, "hours are the sum of minutes"


def test_a_row_committed_late_below_the_mark_is_counted_once(world, clock):
    """PostgreSQL hands out ids before commit: a smaller id can appear after a larger one was read."""
    s = world.steward
    vid = version_id(s)
    with UnitOfWork(s.ctx) as uow:
        pipeline = uow.session.scalar(select(PipelineRow.id).where(PipelineRow.name == "toy"))
        env = uow.session.scalar(select(EnvironmentRow.id).where(EnvironmentRow.name == "Dev"))
        uow.commit()

    def row(row_id: int) -> dict[str, object]:
        at = clock.now() - timedelta(minutes=2)
        return {
            "id": row_id,
            "pipeline_id": pipeline,
            "environment_id": env,
            "version_id": vid,
            "request_id": f"r{row_id}",
            "source": "http",
            "event_time": at,
            "scored_at": at,
            "features_json": "{}",
            "output_json": "{}",
            "latency_ms": 10.0,
            "status": "ok",
            "fallback": False,
        }

    def put(*ids: int) -> None:
        with UnitOfWork(s.ctx) as uow:
            uow.session.execute(insert(PredictionRow), [row(i) for i in ids])
            uow.commit()

    put(900_001, 900_002, 900_005)
    first = s.rollups.run()
    assert (first.rows, first.gaps) == (3, 1)
    put(900_003)  # the slower transaction commits now
    second = s.rollups.run()
    assert (second.rows, second.late, second.gaps) == (0, 1, 1), "900004 is still watched"
    assert s.rollups.run().late == 0, "a late row is counted once"
    assert sum(v for (span, _), v in minute_totals(s).items() if span == MINUTE) == 4
    clock.advance(minutes=20)
    assert s.rollups.run().gaps == 0, "a gap nobody filled is dropped after its patience"


def test_slow_requests_breach_p95_an_alert_opens_and_recovery_closes_it(world, clock):
    s, otto = world.steward, world["otto"]
    s.sla.set(otto, "Dev", "toy", SlaTargets(p95_ms=100, max_error_rate=0.05, window_minutes=5))
    now = clock.now()
    traffic(s, now - timedelta(minutes=4), 200, 20.0, prefix="fast")
    assert "judged 1 SLA(s), no change" in roll_up_requests(s)  # the first verdict: within, no event
    health = s.service_health.view(hours=1)
    [dev] = [h for h in health.deployments if h.deployment.environment_name == "Dev"]
    assert dev.state == "within" and dev.window.requests == 200
    assert not [a for a in s.alerts.unresolved() if a.kind == SLA_BREACH_KIND]

    traffic(s, now - timedelta(minutes=2), 100, 450.0, prefix="slow")
    detail = roll_up_requests(s)
    assert "Dev/toy breached" in detail, detail
    [alert] = [a for a in s.alerts.unresolved() if a.kind == SLA_BREACH_KIND]
    assert alert.pipeline == "toy" and alert.object_id == "Dev/toy" and "p95 latency" in alert.detail
    event = next(e for e in s.audit.recent(5) if e.action == "sla.breached")
    assert event.after and event.after["requests"] == 300 and event.after["p95_ms"] > 100
    health = s.service_health.view(hours=1)
    [dev] = [h for h in health.deployments if h.deployment.environment_name == "Dev"]
    assert dev.state == "breached" and "p95 latency" in dev.state_detail
    assert dev.window.p95_ms is not None and dev.window.p95_ms > 400
    assert len(dev.slowest) == 10 and {x.latency_ms for x in dev.slowest} == {456.0}, "the slowest first"
    assert all(x.request_id.startswith("slow-") and int(x.request_id[5:]) % 7 == 6 for x in dev.slowest)
    assert sum(p.requests for p in dev.series) == 300 and {p.version_number for p in dev.series} == {1}

    assert "no change" in roll_up_requests(s), "still in breach: no second event"
    assert s.alerts.get(alert.id).count == 1

    clock.advance(minutes=10)
    traffic(s, clock.now() - timedelta(minutes=3), 200, 15.0, prefix="calm")
    assert "Dev/toy recovered" in roll_up_requests(s)
    closed = s.alerts.get(alert.id)
    assert closed.status.value == "resolved" and closed.resolution.startswith("recovered:")
    assert s.audit.recent(1)[0].action == "sla.recovered"


def test_failing_requests_are_listed_by_id_and_count_as_errors(world, clock):
    s, otto = world.steward, world["otto"]
    s.sla.set(otto, "Dev", "toy", SlaTargets(max_error_rate=0.01, window_minutes=5))
    traffic(s, clock.now() - timedelta(minutes=2), 100, 10.0, prefix="e", errors=5)
    assert "Dev/toy breached" in roll_up_requests(s)
    [dev] = s.service_health.view(hours=1, environment="Dev").deployments
    assert sorted(x.request_id for x in dev.failing) == [f"e-{i}" for i in range(5)]
    assert dev.window.errors == 5 and dev.window_fallbacks == 10


def test_removing_the_targets_drops_the_standing_and_ends_the_breach(world, clock):
    s, otto = world.steward, world["otto"]
    s.sla.set(otto, "Dev", "toy", SlaTargets(max_error_rate=0.01, window_minutes=5))
    traffic(s, clock.now() - timedelta(minutes=2), 100, 10.0, prefix="e", errors=5)
    assert "Dev/toy breached" in roll_up_requests(s)
    [alert] = [a for a in s.alerts.unresolved() if a.kind == SLA_BREACH_KIND]
    s.sla.set(otto, "Dev", "toy", SlaTargets(window_minutes=5))  # every target cleared
    [dev] = s.service_health.view(hours=1, environment="Dev").deployments
    assert dev.state == "no SLA", "the page does not show the old verdict"
    detail = roll_up_requests(s)
    assert "Dev/toy targets removed" in detail and "judged 0 SLA(s)" in detail, detail
    assert [x for x in s.sla_evaluation.standings() if x.pipeline == "toy"] == []
    closed = s.alerts.get(alert.id)
    assert closed.status.value == "resolved" and "targets removed" in (closed.resolution or "")
    assert "no change" in roll_up_requests(s), "forgotten once"


def test_a_throughput_floor_is_not_judged_before_the_window_is_served_through(world, clock):
    """The demo judged Test breached in its first seconds: no traffic yet is not below a floor."""
    s, otto = world.steward, world["otto"]
    s.sla.set(otto, "Dev", "toy", SlaTargets(min_throughput_rps=1, window_minutes=5))
    assert "no change" in roll_up_requests(s)
    [standing] = [x for x in s.sla_evaluation.standings() if x.pipeline == "toy"]
    assert standing.state.value == "idle" and "not judged yet" in standing.detail
    assert not [a for a in s.alerts.unresolved() if a.kind == SLA_BREACH_KIND]
    # Once the deployment has served through a whole window, silence is below the floor.
    clock.advance(minutes=10)
    traffic(s, clock.now() - timedelta(minutes=8), 10, 10.0, prefix="q")
    assert "Dev/toy breached" in roll_up_requests(s)
