"""A circuit breaker per deployment: closed, open (the fallback answers), half-open (one probe).

Pure state: the caller reports outcomes and the clock; a transition comes back
so the caller can audit it and raise an alert. Opens after ``failures`` errors
in a row or an error rate above ``max_error_rate`` over the last ``window``
calls; after ``cool_down_seconds`` one request probes the primary (half-open):
success closes it, failure opens it again.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    failures: int = 5
    max_error_rate: float = 0.5
    window: int = 20
    cool_down_seconds: float = 10.0
    state: BreakerState = BreakerState.CLOSED
    _recent: deque[bool] = field(default_factory=deque)
    _streak: int = 0
    _opened_at: float = 0.0
    _probing: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow_primary(self, now: float) -> tuple[bool, BreakerState | None]:
        """Whether this request may try the primary, and the transition that decision made (if any)."""
        with self._lock:
            if self.state is BreakerState.CLOSED:
                return True, None
            if self.state is BreakerState.OPEN and now - self._opened_at >= self.cool_down_seconds:
                self.state, self._probing = BreakerState.HALF_OPEN, True
                return True, BreakerState.HALF_OPEN
            return False, None

    def record(self, ok: bool, now: float) -> BreakerState | None:
        """Report how the primary answered; returns the new state when it changed."""
        with self._lock:
            if self.state is BreakerState.HALF_OPEN:
                self._probing = False
                self._recent.clear()
                self._streak = 0
                if ok:
                    self.state = BreakerState.CLOSED
                    return BreakerState.CLOSED
                self.state, self._opened_at = BreakerState.OPEN, now
                return BreakerState.OPEN
            if self.state is BreakerState.OPEN:
                return None
            self._recent.append(ok)
            while len(self._recent) > self.window:
                self._recent.popleft()
            self._streak = 0 if ok else self._streak + 1
            errors = self._recent.count(False)
            full = len(self._recent) >= self.window
            if self._streak >= self.failures or (full and errors / len(self._recent) > self.max_error_rate):
                self.state, self._opened_at = BreakerState.OPEN, now
                return BreakerState.OPEN
            return None
