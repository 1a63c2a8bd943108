"""The circuit breaker's states: closed -> open on errors or error rate, half-open after the cool-down, then closed or open."""

from __future__ import annotations

from steward.core.scoring.breaker import BreakerState, CircuitBreaker


def test_errors_in_a_row_open_it_and_a_good_probe_closes_it():
    breaker = CircuitBreaker(failures=3, window=100, cool_down_seconds=10)
    assert [breaker.record(False, t) for t in (0, 1)] == [None, None]
    assert breaker.record(False, 2) is BreakerState.OPEN
    assert breaker.allow_primary(5) == (False, None)  # cooling down: the fallback answers
    assert breaker.allow_primary(12) == (True, BreakerState.HALF_OPEN)
    assert breaker.allow_primary(12.1) == (False, None)  # one probe at a time
    assert breaker.record(True, 12.2) is BreakerState.CLOSED
    assert breaker.allow_primary(12.3) == (True, None)


def test_a_failed_probe_opens_it_again_and_an_error_rate_opens_it_without_a_streak():
    breaker = CircuitBreaker(failures=3, window=2, cool_down_seconds=1)
    for t in range(3):
        breaker.record(False, t)
    assert breaker.allow_primary(5) == (True, BreakerState.HALF_OPEN)
    assert breaker.record(False, 5) is BreakerState.OPEN
    rate = CircuitBreaker(failures=100, max_error_rate=0.5, window=4)
    outcomes = [True, False, True, False, False]
    moves = [rate.record(ok, i) for i, ok in enumerate(outcomes)]
    assert moves == [None, None, None, None, BreakerState.OPEN]  # 3 of the last 4 failed
