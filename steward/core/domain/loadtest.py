"""Load tests as plain data: what was asked (rate, duration, which rows), how it ran, what it measured.

A load test replays real rows (the deployment's logged requests, or the
version's training rows) against the running scoring service at a steady
rate and keeps the latency percentiles, throughput and error rate it saw,
together with the version the service answered with. The promotion's
``load_test`` gate judges that measurement against the target environment's
SLA (``domain.sla.judge``). Every run is bounded in rate and in time, so it
stops by itself.

    queued --the runner claims it--> running --> completed
                                             \\-> failed (the runner could not measure: no rows, crash)
    queued/running with no sign of life for a while --> failed ("the runner stopped")
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from steward.core.domain.permissions import Tier
from steward.core.domain.sla import Measurement
from steward.core.errors import InvalidInput

MAX_RPS = (
    2_000  # one Locust process on a small machine; beyond it the generator, not the service, is measured
)
MAX_DURATION_SECONDS = 600
MIN_DURATION_SECONDS = 1
MAX_REPLAY_ROWS = 2_000
# Each simulated client paces itself at this rate, so an answer may take 50 ms before the rate falls
# behind. Fewer, busier clients measure the service, not the generator: on 2 cores, 20 clients at 5 req/s
# each reported p50 3.8 ms where 5 clients at 20 req/s reported 1.9 ms for the same 100 req/s.
REQUESTS_PER_USER = 20.0
MAX_USERS = 100
# A queued or running test whose runner has not written for this long is taken to have died.
STALE_AFTER = timedelta(seconds=30)


class RowSource(StrEnum):
    LOGGED = "logged"  # what the deployment answered before (its prediction log)
    SAMPLE = "sample"  # the version's training rows, input columns only


class LoadTestStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (LoadTestStatus.COMPLETED, LoadTestStatus.FAILED)


@dataclass(frozen=True)
class LoadPlan:
    """The asked load: ``rps`` requests per second (one record each) for ``duration_seconds``."""

    rps: int
    duration_seconds: int
    rows: RowSource = RowSource.SAMPLE

    def __post_init__(self) -> None:
        for value, what, low, high in (
            (self.rps, "the request rate", 1, MAX_RPS),
            (self.duration_seconds, "the duration", MIN_DURATION_SECONDS, MAX_DURATION_SECONDS),
        ):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(f"{what} must be a whole number")
            if not low <= value <= high:
                raise InvalidInput(f"{what} must be between {low} and {high}, got {value}")
        try:
            object.__setattr__(self, "rows", RowSource(self.rows))
        except ValueError:
            raise InvalidInput(f"rows must be 'logged' or 'sample', got {str(self.rows)[:20]!r}") from None

    @property
    def users(self) -> int:
        """Simulated clients, each pacing itself, so a slow answer delays one client, not the whole rate."""
        return max(1, min(MAX_USERS, math.ceil(self.rps / REQUESTS_PER_USER)))

    @property
    def per_user_rps(self) -> float:
        return self.rps / self.users

    def snapshot(self) -> dict[str, Any]:
        return {"rps": self.rps, "duration_seconds": self.duration_seconds, "rows": self.rows.value}


@dataclass(frozen=True)
class LoadTestRun:
    """One load test: the deployment and version it tested, who ran it, when, and what it measured."""

    id: int
    environment_id: int
    environment_name: str
    tier: Tier
    pipeline_id: int
    pipeline_name: str
    version_id: str
    version_number: int
    plan: LoadPlan
    status: LoadTestStatus
    requested_by: str
    requested_by_name: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    target_url: str
    rows_used: int
    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    throughput_rps: float | None
    other_answers: int  # answered by another version or by the fallback: not a measurement of this version
    answers: dict[str, int]  # "v3" / "v2 (fallback)" -> count, as the service named itself
    error_examples: tuple[str, ...]
    detail: str
    audit_seq: int | None

    @property
    def label(self) -> str:
        return f"{self.pipeline_name} v{self.version_number} in {self.environment_name}"

    @property
    def measurement(self) -> Measurement:
        return Measurement(
            requests=self.requests,
            errors=self.errors,
            p50_ms=self.p50_ms,
            p95_ms=self.p95_ms,
            p99_ms=self.p99_ms,
            throughput_rps=self.throughput_rps,
        )

    @property
    def error_rate(self) -> float | None:
        return self.measurement.error_rate

    def progress(self, now: datetime) -> float:
        """0..1 of the planned duration elapsed (1 once finished), for progress bars."""
        if self.status.finished:
            return 1.0
        if self.started_at is None:
            return 0.0
        elapsed = (now - self.started_at).total_seconds()
        return max(0.0, min(1.0, elapsed / self.plan.duration_seconds))

    def stale(self, now: datetime) -> bool:
        """Queued or running, yet nothing written by a runner for STALE_AFTER: the runner died."""
        if self.status.finished:
            return False
        last = self.heartbeat_at or self.requested_at
        return now - last > STALE_AFTER


@dataclass(frozen=True)
class LoadResult:
    """What a runner hands back: the measurement, how the service named its answers, a few error texts."""

    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    throughput_rps: float | None
    answers: dict[str, int]
    other_answers: int
    error_examples: tuple[str, ...] = ()
    rows_used: int = 0


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of values already sorted (None for no values)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]
