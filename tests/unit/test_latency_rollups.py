"""The latency histogram merges exactly, and its percentiles sit within one bucket of the true value."""

from __future__ import annotations

import random

import numpy as np
import pytest

from steward.core.domain.latency import GROWTH, Histogram, Tally, bucket_of, edge, latency_text
from steward.core.domain.sla import SlaState, SlaTargets, live_verdict


def test_minutes_merged_equal_one_pass_and_percentiles_are_within_a_bucket() -> None:
    rng = random.Random(15)
    latencies = [rng.lognormvariate(3.0, 0.8) for _ in range(20_000)]
    latencies += [rng.uniform(800, 2_000) for _ in range(300)]  # a slow stretch
    one_pass = Histogram.of(latencies)
    merged = Histogram()
    for minute in range(60):  # the same requests spread over an hour of minutes, merged in a shuffled order
        merged.merge(Histogram.of(latencies[minute::60]))
    assert merged.counts == one_pass.counts and merged.max_ms == one_pass.max_ms
    for fraction in (0.5, 0.95, 0.99, 0.999):
        exact = float(np.percentile(latencies, fraction * 100, method="inverted_cdf"))
        estimate = merged.percentile(fraction)
        assert estimate == one_pass.percentile(fraction)
        assert estimate is not None and exact <= estimate <= exact * GROWTH * (1 + 1e-9), (fraction, exact)


def test_buckets_are_log_spaced_and_hold_their_edges() -> None:
    for value in (0.05, 0.1, 0.11, 1.0, 37.2, 999.9, 1e6):
        bucket = bucket_of(value)
        assert value <= edge(bucket) * (1 + 1e-9) or value > 600_000
        if bucket > 0 and value <= 600_000:
            assert value > edge(bucket - 1) * (1 - 1e-9)
    assert Histogram().percentile(0.95) is None
    restored = Histogram.from_json(Histogram.of([1.0, 2.0, 2.0]).to_json(), 2.0)
    assert restored.total == 3 and restored.percentile(0.5) == pytest.approx(2.0)


def test_a_live_window_is_idle_without_traffic_unless_throughput_is_a_target() -> None:
    quiet = Tally()
    assert live_verdict(quiet, SlaTargets(p95_ms=100))[0] is SlaState.IDLE
    state, verdict = live_verdict(quiet, SlaTargets(p95_ms=100, min_throughput_rps=1))
    assert state is SlaState.BREACHED and "no request was measured" in verdict.summary()
    busy = Tally()
    for i in range(1_000):
        busy.add_request(300.0 if i % 10 == 0 else 10.0, error=i % 100 == 0, fallback=i % 50 == 0)
    state, verdict = live_verdict(busy, SlaTargets(p95_ms=100, max_error_rate=0.05, window_minutes=5))
    assert state is SlaState.BREACHED and [b.target for b in verdict.breaches] == ["p95_ms"]
    assert (busy.errors, busy.fallbacks) == (10, 20)


def test_latencies_read_in_milliseconds_or_seconds_never_in_exponent_notation() -> None:
    assert [latency_text(v) for v in (0.42, 49.13, 250.4, 1740.2, 12_345.0)] == [
        "0.42 ms",
        "49.1 ms",
        "250 ms",
        "1.74 s",
        "12.3 s",
    ]
    assert latency_text(None) == "-" and latency_text(float("nan"), missing="—") == "—"
