"""Service-level targets for one deployment (environment + pipeline), and judging a measurement against them.

Operators say what a deployment must deliver: latency percentiles, a minimum
throughput, a maximum error rate, over an evaluation window. The same pure
function judges a load test (for the promotion gate) and, later, live traffic
rollups, so "within the SLA" means one thing everywhere. A target left unset
is not checked; a measurement that is missing where a target is set is a breach,
because what cannot be shown to meet a target does not meet it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from steward.core.domain.latency import Tally, latency_text
from steward.core.errors import InvalidInput

MAX_LATENCY_MS = 600_000.0  # ten minutes: anything above is a typo, not a target
MAX_THROUGHPUT_RPS = 1_000_000.0
MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES = 1, 7 * 24 * 60
DEFAULT_WINDOW_MINUTES = 5

LATENCY_FIELDS: tuple[tuple[str, str], ...] = (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99"))


def _optional_number(
    value: object, what: str, *, low: float, high: float, inclusive_low: bool
) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{what} must be a number")
    number = float(value)
    if number > high or number < low or (number == low and not inclusive_low):
        bound = f"{'at least' if inclusive_low else 'above'} {low:g}"
        raise InvalidInput(f"{what} must be {bound} and at most {high:g}, got {number:g}")
    return number


@dataclass(frozen=True)
class SlaTargets:
    """What one deployment is held to. ``max_error_rate`` is a fraction (0.001 = 0.1 %)."""

    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    min_throughput_rps: float | None = None
    max_error_rate: float | None = None
    window_minutes: int = DEFAULT_WINDOW_MINUTES

    def __post_init__(self) -> None:
        for name, label in LATENCY_FIELDS:
            checked = _optional_number(
                getattr(self, name),
                f"the {label} latency target",
                low=0,
                high=MAX_LATENCY_MS,
                inclusive_low=False,
            )
            object.__setattr__(self, name, checked)
        object.__setattr__(
            self,
            "min_throughput_rps",
            _optional_number(
                self.min_throughput_rps,
                "the minimum throughput",
                low=0,
                high=MAX_THROUGHPUT_RPS,
                inclusive_low=False,
            ),
        )
        object.__setattr__(
            self,
            "max_error_rate",
            _optional_number(
                self.max_error_rate, "the maximum error rate", low=0, high=1, inclusive_low=True
            ),
        )
        window = self.window_minutes
        if isinstance(window, bool) or not isinstance(window, int):
            raise InvalidInput("the evaluation window must be a whole number of minutes")
        if not MIN_WINDOW_MINUTES <= window <= MAX_WINDOW_MINUTES:
            raise InvalidInput(
                f"the evaluation window must be between {MIN_WINDOW_MINUTES} and {MAX_WINDOW_MINUTES} "
                f"minutes, got {window}"
            )
        latencies = [(label, getattr(self, name)) for name, label in LATENCY_FIELDS]
        given = [(label, value) for label, value in latencies if value is not None]
        for (low_label, low), (high_label, high) in itertools.pairwise(given):
            if low > high:
                raise InvalidInput(
                    f"the {low_label} target ({low:g} ms) cannot be above "
                    f"the {high_label} target ({high:g} ms)"
                )

    @property
    def empty(self) -> bool:
        return all(
            value is None
            for value in (self.p50_ms, self.p95_ms, self.p99_ms, self.min_throughput_rps, self.max_error_rate)
        )

    def describe(self) -> list[str]:
        """One phrase per target, for pages, the CLI and gate details."""
        lines = [
            f"{label} ≤ {value:g} ms"
            for name, label in LATENCY_FIELDS
            if (value := getattr(self, name)) is not None
        ]
        if self.min_throughput_rps is not None:
            lines.append(f"throughput ≥ {self.min_throughput_rps:g} req/s")
        if self.max_error_rate is not None:
            lines.append(f"errors ≤ {percent(self.max_error_rate)}")
        return lines

    def snapshot(self) -> dict[str, Any]:
        """As the audit log records it (before/after)."""
        return {
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "min_throughput_rps": self.min_throughput_rps,
            "max_error_rate": self.max_error_rate,
            "window_minutes": self.window_minutes,
        }

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> SlaTargets:
        return cls(
            p50_ms=data.get("p50_ms"),
            p95_ms=data.get("p95_ms"),
            p99_ms=data.get("p99_ms"),
            min_throughput_rps=data.get("min_throughput_rps"),
            max_error_rate=data.get("max_error_rate"),
            window_minutes=int(data.get("window_minutes", DEFAULT_WINDOW_MINUTES)),
        )


def percent(fraction: float) -> str:
    return f"{fraction * 100:.3g} %"


@dataclass(frozen=True)
class DeploymentSla:
    """The targets of one deployment as stored: who set them and when (``version`` guards stale edits)."""

    environment_id: int
    environment_name: str
    pipeline_id: int
    pipeline_name: str
    targets: SlaTargets
    updated_at: datetime
    updated_by: str
    version: int


@dataclass(frozen=True)
class Measurement:
    """What was observed over some stretch of traffic (a load test, or later a window of live requests)."""

    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    throughput_rps: float | None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None


@dataclass(frozen=True)
class Breach:
    """One target missed, in words a person reads on the gate."""

    target: str  # "p95_ms", "min_throughput_rps", "max_error_rate", "requests"
    measured: float | None
    limit: float | None
    message: str


@dataclass(frozen=True)
class SlaVerdict:
    breaches: tuple[Breach, ...]
    checked: tuple[str, ...]

    @property
    def within(self) -> bool:
        return not self.breaches

    def summary(self) -> str:
        if self.breaches:
            return "; ".join(breach.message for breach in self.breaches)
        return "within every target (" + ", ".join(self.checked) + ")" if self.checked else "no target set"


def judge(measurement: Measurement, targets: SlaTargets) -> SlaVerdict:
    """Every breach of ``targets`` by ``measurement``, named; no breach means within the SLA."""
    breaches: list[Breach] = []
    checked = targets.describe()
    if measurement.requests <= 0:
        breaches.append(Breach("requests", 0, None, "no request was measured"))
        return SlaVerdict(tuple(breaches), tuple(checked))
    for name, label in LATENCY_FIELDS:
        limit = getattr(targets, name)
        if limit is None:
            continue
        value = getattr(measurement, name)
        if value is None:
            breaches.append(Breach(name, None, limit, f"{label} latency was not measured"))
        elif value > limit:
            breaches.append(
                Breach(
                    name,
                    value,
                    limit,
                    f"{label} latency {latency_text(value)} is above the {limit:g} ms target",
                )
            )
    if targets.min_throughput_rps is not None:
        rate = measurement.throughput_rps
        if rate is None or rate < targets.min_throughput_rps:
            shown = "not measured" if rate is None else f"{rate:.3g} req/s"
            breaches.append(
                Breach(
                    "min_throughput_rps",
                    rate,
                    targets.min_throughput_rps,
                    f"throughput {shown} is below the {targets.min_throughput_rps:g} req/s target",
                )
            )
    error_rate = measurement.error_rate
    if targets.max_error_rate is not None and error_rate is not None and error_rate > targets.max_error_rate:
        breaches.append(
            Breach(
                "max_error_rate",
                error_rate,
                targets.max_error_rate,
                f"error rate {percent(error_rate)} ({measurement.errors} of {measurement.requests}) "
                f"is above the {percent(targets.max_error_rate)} target",
            )
        )
    return SlaVerdict(tuple(breaches), tuple(checked))


class SlaState(StrEnum):
    """A deployment's live standing: judged within its targets, in breach, or with no traffic to judge."""

    WITHIN = "within"
    BREACHED = "breached"
    IDLE = "idle"  # no request in the window and no throughput target: nothing to judge


def live_measurement(tally: Tally, window_minutes: int) -> Measurement:
    """Live traffic over the window as the load-test gate's Measurement (throughput over the whole window)."""
    p50, p95, p99 = tally.percentiles()
    return Measurement(
        requests=tally.requests,
        errors=tally.errors,
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        throughput_rps=tally.requests / (window_minutes * 60.0),
    )


def live_verdict(tally: Tally, targets: SlaTargets) -> tuple[SlaState, SlaVerdict]:
    """Judge a window of live traffic: the same ``judge`` as a load test, except that silence is idle.

    No traffic breaches only a minimum-throughput target; without one, a quiet
    hour is not an outage of latency or errors.
    """
    measurement = live_measurement(tally, targets.window_minutes)
    if tally.requests == 0 and targets.min_throughput_rps is None:
        return SlaState.IDLE, SlaVerdict((), tuple(targets.describe()))
    verdict = judge(measurement, targets)
    return (SlaState.WITHIN if verdict.within else SlaState.BREACHED), verdict
