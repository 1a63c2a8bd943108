"""Claiming an attempt before its password is checked, and giving it back when the password was right."""

from datetime import UTC, datetime, timedelta

from steward.core.domain.throttle import FORGET_AFTER, Counter, ThrottlePolicy

T0 = datetime(2026, 11, 26, tzinfo=UTC)
POLICY = ThrottlePolicy(free_attempts=3, max_delay=timedelta(seconds=60))


def test_claims_count_until_the_next_attempt_must_wait():
    counter, waits = Counter(), []
    for _ in range(5):
        wait = POLICY.seconds_to_wait([counter], T0)
        waits.append(wait)
        if wait == 0:
            counter = POLICY.claim(counter, T0)
    assert waits == [0, 0, 0, 2, 2]
    assert counter == Counter(3, T0)


def test_the_strictest_counter_decides_and_waits_round_up():
    account = Counter(3, T0)  # 2 s from T0
    source = Counter(5, T0)  # 8 s from T0
    assert POLICY.seconds_to_wait([account, source], T0 + timedelta(seconds=0.5)) == 8
    assert POLICY.seconds_to_wait([account], T0 + timedelta(seconds=1.2)) == 1
    assert POLICY.seconds_to_wait([account, source], T0 + timedelta(seconds=8)) == 0


def test_a_claim_after_old_failures_starts_counting_again():
    old = Counter(9, T0)
    later = T0 + FORGET_AFTER + timedelta(seconds=1)
    assert POLICY.claim(old, later) == Counter(1, later)


def test_a_refund_restores_the_counter_when_nothing_else_was_counted():
    before = Counter(2, T0)
    claimed = POLICY.claim(before, T0 + timedelta(minutes=1))
    assert POLICY.refund(claimed, claimed, before) == before


def test_a_refund_after_other_claims_takes_off_only_its_own():
    before = Counter(1, T0)
    mine = POLICY.claim(before, T0 + timedelta(seconds=1))
    theirs = POLICY.claim(mine, T0 + timedelta(seconds=2))
    assert POLICY.refund(theirs, mine, before) == Counter(2, T0 + timedelta(seconds=2))
    assert POLICY.refund(Counter(0, T0), mine, before) == Counter(0, T0)
