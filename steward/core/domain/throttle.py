"""How failed sign-ins slow further attempts down.

A few free attempts, then each further one must wait twice as long as the
last, up to a cap. Counters are kept per account *and* per source, in the
database, so that several app processes share them; unknown user names are
counted exactly like known ones so the answer reveals nothing.

An attempt is *claimed* (counted as a failure) in the same transaction that
decides it need not wait, before its password is checked, and refunded if the
password was right. Checking first and counting afterwards would let guesses
that arrive together all read "no wait" before any of them was counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# Failures older than this are forgiven.
FORGET_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Counter:
    """One stored counter: consecutive failures and when the last one was counted."""

    failures: int = 0
    last_failure_at: datetime | None = None


@dataclass(frozen=True)
class ThrottlePolicy:
    free_attempts: int = 3
    max_delay: timedelta = timedelta(minutes=15)

    def delay_after(self, failures: int) -> timedelta:
        """How long to wait after ``failures`` consecutive failures before the next attempt counts."""
        if failures < self.free_attempts:
            return timedelta(0)
        seconds = 2 ** (failures - self.free_attempts + 1)
        return min(timedelta(seconds=seconds), self.max_delay)

    def blocked_until(self, failures: int, last_failure: datetime | None) -> datetime | None:
        if last_failure is None:
            return None
        delay = self.delay_after(failures)
        return last_failure + delay if delay else None

    def effective_failures(self, failures: int, last_failure: datetime | None, now: datetime) -> int:
        if last_failure is None or now - last_failure > FORGET_AFTER:
            return 0
        return failures

    def seconds_to_wait(self, counters: Iterable[Counter], now: datetime) -> int:
        """Whole seconds before another attempt may be checked (0: go ahead); the strictest counter wins."""
        wait = 0.0
        for counter in counters:
            failures = self.effective_failures(counter.failures, counter.last_failure_at, now)
            until = self.blocked_until(failures, counter.last_failure_at)
            if until is not None and until > now:
                wait = max(wait, (until - now).total_seconds())
        return int(wait + 0.999)

    def claim(self, counter: Counter, now: datetime) -> Counter:
        """The counter with this attempt counted as a failure, until its password proves otherwise."""
        return Counter(self.effective_failures(counter.failures, counter.last_failure_at, now) + 1, now)

    def refund(self, current: Counter, claimed: Counter, before: Counter) -> Counter:
        """Take back a claim whose password was right.

        If nothing was counted since the claim, the counter is exactly as it was
        before; otherwise only the one failure is taken off.
        """
        if current == claimed:
            return before
        return Counter(max(0, current.failures - 1), current.last_failure_at)


SOURCE_KEY_PREFIX = "source:"


def throttle_keys(username: str, source: str | None) -> list[str]:
    keys = [f"account:{username.strip().lower()[:200]}"]
    if source:
        keys.append(f"{SOURCE_KEY_PREFIX}{source[:100]}")
    return keys
