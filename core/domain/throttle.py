"""How failed sign-ins slow further attempts down.

A few free attempts, then each further one must wait twice as long as the
last, up to a cap. Counters are kept per account *and* per source, in the
database, so that several app processes share them; unknown user names are
counted exactly like known ones so the answer reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Failures older than this are forgiven.
FORGET_AFTER = timedelta(hours=1)


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


def throttle_keys(username: str, source: str | None) -> list[str]:
    keys = [f"account:{username.strip().lower()[:200]}"]
    if source:
        keys.append(f"source:{source[:100]}")
    return keys
