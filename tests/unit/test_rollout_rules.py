"""Rollout rules without a database: sticky canary buckets, the share they take, plans and the judge."""

from __future__ import annotations

import pytest

from steward.core.domain.latency import Tally
from steward.core.domain.rollouts import (
    MIN_JUDGED_REQUESTS,
    RolloutKind,
    agrees,
    bucket,
    judge_canary,
    parse_kind,
    takes_canary,
    validated_plan,
)
from steward.core.domain.sla import SlaTargets
from steward.core.errors import InvalidInput


def test_the_same_key_always_lands_in_the_same_bucket_and_rollouts_sample_afresh():
    assert all(bucket(f"k{i}", 7) == bucket(f"k{i}", 7) for i in range(100))
    assert [bucket(f"k{i}", 7) for i in range(50)] != [bucket(f"k{i}", 8) for i in range(50)]


@pytest.mark.parametrize("share", [0.01, 0.1, 0.25, 0.5])
def test_the_canary_takes_close_to_its_share_of_keys(share):
    taken = sum(takes_canary(f"customer-{i}", 3, share) for i in range(20_000)) / 20_000
    assert abs(taken - share) < 0.01


def test_plans_are_checked_with_one_line_each():
    assert validated_plan(RolloutKind.SHADOW, None, 30) == (None, 30.0)
    assert validated_plan(RolloutKind.CANARY, 0.2, 5) == (0.2, 5.0)
    with pytest.raises(InvalidInput, match="needs a share"):
        validated_plan(RolloutKind.CANARY, None, 5)
    with pytest.raises(InvalidInput, match=r"between 0\.01 and 0\.5"):
        validated_plan(RolloutKind.CANARY, 0.9, 5)
    with pytest.raises(InvalidInput, match="takes no share"):
        validated_plan(RolloutKind.SHADOW, 0.1, 5)
    with pytest.raises(InvalidInput, match="duration"):
        validated_plan(RolloutKind.SHADOW, None, float("nan"))
    with pytest.raises(InvalidInput, match="shadow or a canary"):
        parse_kind("blue-green")


def test_agreement_is_the_same_label_or_a_close_value():
    assert agrees(0.6, 0.9, "1", "1", 0.05) and not agrees(0.6, 0.4, "1", "0", 0.05)
    assert agrees(100.0, 104.0, None, None, 0.05) and not agrees(100.0, 106.0, None, None, 0.05)


def test_a_canary_is_judged_on_errors_and_latency_never_on_throughput_and_not_too_early():
    targets = SlaTargets(max_error_rate=0.05, p95_ms=50, min_throughput_rps=1000)
    tally = Tally()
    for i in range(MIN_JUDGED_REQUESTS - 1):
        tally.add_request(10.0, error=i < 5, fallback=False)
    assert judge_canary(tally, targets) is None
    healthy = Tally()
    for _ in range(100):
        healthy.add_request(10.0, error=False, fallback=False)
    verdict = judge_canary(healthy, targets)
    assert verdict is not None and verdict.within  # 100 requests are far below 1000 req/s: not its to meet
    slow = Tally()
    for _ in range(100):
        slow.add_request(80.0, error=False, fallback=False)
    verdict = judge_canary(slow, targets)
    assert verdict is not None and not verdict.within and "p95 latency" in verdict.summary()
