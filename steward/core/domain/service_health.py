"""What the Service health page shows of one deployment: live traffic from rollups against its SLA."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from steward.core.domain.loadtest import LoadTestRun
from steward.core.domain.promotions import Deployment
from steward.core.domain.sla import DeploymentSla, Measurement


@dataclass(frozen=True)
class SeriesPoint:
    """One rollup (a minute or an hour) of one version's online traffic."""

    start: datetime
    version_number: int
    requests: int
    errors: int
    fallbacks: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    throughput_rps: float

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class RequestSample:
    """One logged request, named by its id (a slowest or a failing one)."""

    request_id: str
    version_number: int
    scored_at: datetime
    latency_ms: float | None
    status: str
    fallback: bool


@dataclass(frozen=True)
class DeploymentHealth:
    deployment: Deployment
    sla: DeploymentSla | None
    state: str  # within | breached | idle | not judged
    state_since: datetime | None
    state_detail: str
    window_minutes: int
    window: Measurement  # the SLA's window (or the default one), from rollups
    window_fallbacks: int
    online_requests: int  # in the page's range
    batch_requests: int  # every request batch runs answered through this deployment
    last_minute: datetime | None  # the newest minute with a request
    series: list[SeriesPoint] = field(default_factory=list)
    slowest: list[RequestSample] = field(default_factory=list)
    failing: list[RequestSample] = field(default_factory=list)
    load_tests: list[LoadTestRun] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceHealthView:
    """The whole page in one read: each deployment's health over [since, until)."""

    environments: list[Any]
    deployments: list[DeploymentHealth]
    since: datetime
    until: datetime
    span_seconds: int
    samples_since: datetime  # the slowest and failing lists look back to here
    load_test_gated: frozenset[str]  # environments whose promotion policy asks for a load test
    rolled_up_to: int  # the last log row id the rollups include
