"""SLA targets, judging a measurement against them, and the promotion's load-test gate, as plain rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from steward.core.domain.gates import GateInputs, GatePolicy, GateStatus, evaluate_gates, load_test_gate
from steward.core.domain.loadtest import LoadPlan, LoadTestRun, LoadTestStatus, RowSource, percentile
from steward.core.domain.permissions import Tier
from steward.core.domain.sla import Measurement, SlaTargets, judge
from steward.core.errors import InvalidInput

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TARGETS = SlaTargets(p50_ms=10, p95_ms=50, p99_ms=100, min_throughput_rps=20, max_error_rate=0.01)


def measured(**changes) -> Measurement:
    base = Measurement(requests=1000, errors=0, p50_ms=4, p95_ms=20, p99_ms=60, throughput_rps=50)
    return replace(base, **changes)


def run(**changes) -> LoadTestRun:
    base = LoadTestRun(
        id=7,
        environment_id=2,
        environment_name="Test",
        tier=Tier.TEST,
        pipeline_id=1,
        pipeline_name="credit",
        version_id="abc",
        version_number=3,
        plan=LoadPlan(50, 20, RowSource.SAMPLE),
        status=LoadTestStatus.COMPLETED,
        requested_by="otto",
        requested_by_name="Otto",
        requested_at=NOW,
        started_at=NOW,
        finished_at=NOW + timedelta(seconds=20),
        heartbeat_at=NOW + timedelta(seconds=20),
        target_url="http://127.0.0.1:8600",
        rows_used=100,
        requests=1000,
        errors=0,
        p50_ms=4,
        p95_ms=20,
        p99_ms=60,
        throughput_rps=50,
        other_answers=0,
        answers={"v3": 1000},
        error_examples=(),
        detail="",
        audit_seq=1,
    )
    return replace(base, **changes)


def test_within_every_target():
    verdict = judge(measured(), TARGETS)
    assert verdict.within and verdict.breaches == ()
    assert verdict.summary().startswith("within every target (p50 ≤ 10 ms, p95 ≤ 50 ms")


def test_each_breach_is_named():
    verdict = judge(measured(p95_ms=80.4, throughput_rps=12, errors=30), TARGETS)
    assert [b.target for b in verdict.breaches] == ["p95_ms", "min_throughput_rps", "max_error_rate"]
    text = verdict.summary()
    assert "p95 latency 80.4 ms is above the 50 ms target" in text
    assert "throughput 12 req/s is below the 20 req/s target" in text
    assert "error rate 3 % (30 of 1000) is above the 1 % target" in text


def test_nothing_measured_or_a_missing_percentile_is_a_breach():
    assert [b.target for b in judge(measured(requests=0), TARGETS).breaches] == ["requests"]
    assert "p99 latency was not measured" in judge(measured(p99_ms=None), TARGETS).summary()


def test_targets_left_unset_are_not_checked():
    assert judge(measured(p99_ms=5000, errors=999), SlaTargets(p50_ms=10)).within


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"p95_ms": 0}, "above 0"),
        ({"p95_ms": float("nan")}, "must be a number"),
        ({"p95_ms": True}, "must be a number"),
        ({"max_error_rate": 1.5}, "at most 1"),
        ({"min_throughput_rps": -1}, "above 0"),
        ({"p50_ms": 60, "p95_ms": 50}, "the p50 target (60 ms) cannot be above the p95 target (50 ms)"),
        ({"window_minutes": 0}, "between 1 and"),
        ({"window_minutes": 2.5}, "whole number"),
    ],
)
def test_bad_targets_are_refused_with_a_clear_reason(kwargs, message):
    with pytest.raises(InvalidInput) as raised:
        SlaTargets(**kwargs)
    assert message in str(raised.value)


def test_snapshot_round_trips():
    assert SlaTargets.from_snapshot(TARGETS.snapshot()) == TARGETS


def test_the_gate_is_pending_without_targets_or_a_result_and_judges_otherwise():
    assert load_test_gate(run(), None).status is GateStatus.PENDING
    assert load_test_gate(run(), SlaTargets()).status is GateStatus.PENDING  # targets all unset
    pending = load_test_gate(None, TARGETS)
    assert pending.status is GateStatus.PENDING and "no load test" in pending.detail
    passed = load_test_gate(run(), TARGETS)
    assert passed.status is GateStatus.PASSED and "load test #7 in Test (50 req/s for 20 s)" in passed.detail
    failed = load_test_gate(run(p99_ms=250.0), TARGETS)
    assert (
        failed.status is GateStatus.FAILED
        and "p99 latency 250 ms is above the 100 ms target" in failed.detail
    )
    foreign = load_test_gate(run(other_answers=12), TARGETS)
    assert (
        foreign.status is GateStatus.FAILED
        and "12 of 1000 answers came from another version" in foreign.detail
    )


def test_evaluate_gates_asks_the_load_test_gate_only_when_the_policy_requires_it():
    inputs = GateInputs({"roc_auc": 0.9}, "roc_auc", load_test=run(p95_ms=99.0), sla=TARGETS)
    required = evaluate_gates(GatePolicy(require_load_test=True, require_no_critical_alert=False), inputs)
    assert [(g.gate, g.status) for g in required] == [("load_test", GateStatus.FAILED)]
    assert evaluate_gates(GatePolicy(require_no_critical_alert=False), inputs) == ()


def test_plans_are_bounded_and_spread_over_paced_clients():
    plan = LoadPlan(100, 10)
    assert plan.users == 5 and plan.per_user_rps == 20
    assert LoadPlan(1, 1).users == 1 and LoadPlan(30, 1).users == 2
    assert LoadPlan(2000, 1).users == 100 and LoadPlan(2000, 1).per_user_rps == 20
    with pytest.raises(InvalidInput, match="rows must be"):
        LoadPlan(1, 1, "everything")  # type: ignore[arg-type]


def test_nearest_rank_percentiles():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (50, 95, 99)
    assert percentile([3.0], 0.99) == 3 and percentile([], 0.5) is None


def test_progress_and_staleness():
    running = run(status=LoadTestStatus.RUNNING, finished_at=None, heartbeat_at=NOW + timedelta(seconds=5))
    assert running.progress(NOW + timedelta(seconds=5)) == 0.25
    assert not running.stale(NOW + timedelta(seconds=30)) and running.stale(NOW + timedelta(seconds=40))
    assert run().progress(NOW) == 1.0 and not run().stale(NOW + timedelta(days=1))
