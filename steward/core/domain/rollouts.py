"""Shadow and canary rollouts: a challenger beside a deployment's champion, routed, compared and judged.

Plain rules, no database. A *shadow* scores the same requests as the champion
and its answers are only logged; a *canary* answers a share of the traffic,
chosen by hashing a routing key so one caller always meets one version. A
canary is judged against the deployment's SLA on its own requests (error rate
and latency; throughput is not its to meet, it only has a share) once it has
answered enough requests for a rate to mean something.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from steward.core.domain.latency import Tally
from steward.core.domain.sla import SlaTargets, SlaVerdict, judge, live_measurement
from steward.core.errors import InvalidInput

MIN_SHARE, MAX_SHARE = 0.01, 0.5  # a canary that takes more than half is a deployment, not a canary
MAX_MINUTES = 7 * 24 * 60
MIN_JUDGED_REQUESTS = 20  # below this an error rate is noise: one failure in three is not 33 %
BUCKETS = 10_000


class RolloutKind(StrEnum):
    SHADOW = "shadow"
    CANARY = "canary"


class RolloutStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"  # a person ended it
    EXPIRED = "expired"  # its time ran out
    ROLLED_BACK = "rolled_back"  # a canary breached the SLA and was taken out of traffic automatically


@dataclass(frozen=True)
class Rollout:
    """One rollout as pages, the CLI and the scoring service see it."""

    id: int
    kind: RolloutKind
    environment_id: int
    environment_name: str
    pipeline_id: int
    pipeline_name: str
    challenger_version_id: str
    challenger_number: int
    champion_version_id: str
    champion_number: int
    share: float | None
    status: RolloutStatus
    reason: str
    started_by: str
    started_at: datetime
    ends_at: datetime
    ended_by: str | None
    ended_at: datetime | None
    end_reason: str
    promotion_request_id: int | None = None

    @property
    def where(self) -> str:
        return f"{self.environment_name}/{self.pipeline_name}"

    @property
    def label(self) -> str:
        share = f" on {self.share:.0%} of traffic" if self.share is not None else ""
        return (
            f"{self.kind.value} of v{self.challenger_number} beside v{self.champion_number}{share} "
            f"in {self.environment_name}"
        )

    def live(self, now: datetime) -> bool:
        """Active and within its time: the scoring service routes to it."""
        return self.status is RolloutStatus.ACTIVE and now < self.ends_at

    def snapshot(self) -> dict[str, object]:
        """As the audit log records it."""
        return {
            "rollout": self.id,
            "kind": self.kind.value,
            "pipeline": self.pipeline_name,
            "environment": self.environment_name,
            "challenger": self.challenger_number,
            "champion": self.champion_number,
            "share": self.share,
            "ends_at": self.ends_at.isoformat(),
            "status": self.status.value,
        }


def parse_kind(value: str) -> RolloutKind:
    try:
        return RolloutKind(str(value).strip().lower())
    except ValueError:
        raise InvalidInput(f"a rollout is a shadow or a canary, not {str(value)[:40]!r}") from None


def validated_plan(kind: RolloutKind, share: float | None, minutes: float) -> tuple[float | None, float]:
    """The share (canary only) and duration, or InvalidInput naming what is wrong."""
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not math.isfinite(minutes):
        raise InvalidInput("the duration must be a number of minutes")
    if not 0 < minutes <= MAX_MINUTES:
        raise InvalidInput(f"the duration must be above 0 and at most {MAX_MINUTES} minutes, got {minutes:g}")
    if kind is RolloutKind.SHADOW:
        if share is not None:
            raise InvalidInput("a shadow answers no traffic: it takes no share")
        return None, float(minutes)
    if (
        share is None
        or isinstance(share, bool)
        or not isinstance(share, int | float)
        or not math.isfinite(share)
    ):
        raise InvalidInput("a canary needs a share of traffic (a fraction such as 0.1)")
    if not MIN_SHARE <= share <= MAX_SHARE:
        raise InvalidInput(f"a canary's share must be between {MIN_SHARE:g} and {MAX_SHARE:g}, got {share:g}")
    return float(share), float(minutes)


def ends_at(started: datetime, minutes: float) -> datetime:
    return started + timedelta(minutes=minutes)


def bucket(routing_key: str, rollout_id: int) -> int:
    """A stable bucket 0..9999 for a key: the same key lands in the same bucket in every process.

    The rollout id is part of the hash so a new canary samples a fresh set of callers.
    """
    digest = hashlib.sha256(f"{rollout_id}:{routing_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def takes_canary(routing_key: str, rollout_id: int, share: float) -> bool:
    """Whether this key's requests go to the canary (sticky: decided by the key alone)."""
    return bucket(routing_key, rollout_id) < round(share * BUCKETS)


@dataclass(frozen=True)
class ArmStats:
    """One side of a rollout over its traffic so far."""

    version_number: int
    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None


@dataclass(frozen=True)
class Agreement:
    """The shadow against the champion on the same requests."""

    compared: int  # requests both answered
    agreeing: int  # same label (classifier) or within tolerance (regressor)
    mean_delta: float | None  # mean of shadow - champion on the prediction
    mean_abs_delta: float | None

    @property
    def rate(self) -> float | None:
        return self.agreeing / self.compared if self.compared else None


@dataclass(frozen=True)
class RolloutWatch:
    """The live comparison a page shows: both arms, the agreement (shadow) and the SLA verdict (canary)."""

    rollout: Rollout
    champion: ArmStats
    challenger: ArmStats
    agreement: Agreement | None
    verdict: str


def agrees(
    champion: float | None,
    shadow: float | None,
    champion_label: str | None,
    shadow_label: str | None,
    tolerance: float,
) -> bool:
    """Same decision: the same label if labelled, else predictions within ``tolerance`` (relative)."""
    if champion_label is not None or shadow_label is not None:
        return champion_label == shadow_label
    if champion is None or shadow is None:
        return False
    return abs(shadow - champion) <= tolerance * max(1.0, abs(champion))


def arm_stats(number: int, tally: Tally) -> ArmStats:
    p50, p95, p99 = tally.percentiles()
    return ArmStats(number, tally.requests, tally.errors, p50, p95, p99)


def judge_canary(tally: Tally, targets: SlaTargets) -> SlaVerdict | None:
    """The canary's SLA verdict on its own requests, or None while too few answered to judge.

    Only error rate and latency are judged: a canary takes a share of the traffic,
    so the deployment's throughput target is not its to meet.
    """
    if tally.requests < MIN_JUDGED_REQUESTS:
        return None
    own = replace(targets, min_throughput_rps=None)
    return judge(live_measurement(tally, own.window_minutes), own)
