"""Alert rules as data: how severe each kind of alert is and what condition makes a firing open one.

The event rules in :mod:`steward.core.domain.alerts` say *which* events mean a
kind of trouble; these settings, one row per kind in ``alert_rules``, say what
operators decided about it: whether it alerts at all, how severe it is, the
threshold a measured value must cross, for how many consecutive windows (or
within how many minutes), and the runbook entry to follow. Operators and
admins edit them; the defaults below are what a fresh database (and the demo)
starts with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from steward.core.domain.signals import Severity
from steward.core.errors import InvalidInput

MAX_RUNBOOK = 20_000
MAX_WINDOWS = 1000
MAX_MINUTES = 60 * 24 * 30


class Comparison(StrEnum):
    ABOVE = "above"  # fires when the value is at or above the threshold
    BELOW = "below"  # fires when the value is at or below the threshold
    NONE = "none"  # the event itself is the condition; no value is compared


# Kinds of alert, one per monitor (the event rules and the monitors use these names).
DRIFT_KIND = "drift.detected"
QUALITY_KIND = "quality.failed"
PERFORMANCE_KIND = "performance.below_floor"
SLA_KIND = "sla.breach"
BATCH_FAILED_KIND = "batch.failed"
BATCH_LATE_KIND = "batch.late"
HEARTBEAT_LOST_KIND = "heartbeat.lost"
FAILOVER_KIND = "deployment.failover"
BREAKER_KIND = "breaker.open"
SWAP_FAILED_KIND = "swap.failed"
INTEGRITY_KIND = "artifact.integrity"
AUDIT_CHAIN_KIND = "audit.chain_broken"
CANARY_ROLLBACK_KIND = "canary.rolled_back"


@dataclass(frozen=True)
class RuleSettings:
    """What operators decided about one kind of alert."""

    kind: str
    title: str
    severity: Severity
    page: str  # the page that shows the evidence
    comparison: Comparison = Comparison.NONE
    threshold: float | None = None
    windows: int = 1  # consecutive firings needed before an incident opens
    minutes: int = 0  # ...all within this many minutes (0: no time limit)
    enabled: bool = True
    runbook: str = ""  # markdown, rendered without HTML
    updated_by: str = "default"
    updated_at: datetime | None = None

    def breaches(self, value: float | None) -> bool:
        """Does a measured ``value`` meet the condition? A rule without a comparison fires on the event."""
        if self.comparison is Comparison.NONE or self.threshold is None or value is None:
            return True
        return value >= self.threshold if self.comparison is Comparison.ABOVE else value <= self.threshold

    def condition_met(self, firings: list[datetime], now: datetime) -> bool:
        """Have enough consecutive breaching firings (times, newest last) happened within the window?"""
        recent = [t for t in firings if not self.minutes or t >= now - timedelta(minutes=self.minutes)]
        return len(recent) >= self.windows

    def describe(self) -> str:
        """The condition in words, for the page and the CLI."""
        if not self.enabled:
            return "disabled"
        what = "on the event"
        if self.comparison is not Comparison.NONE and self.threshold is not None:
            what = f"value {self.comparison.value} {self.threshold:g}"
        times = f" for {self.windows} consecutive window(s)" if self.windows > 1 else ""
        within = f" within {self.minutes} min" if self.minutes else ""
        return f"{what}{times}{within}"


def validated(settings: RuleSettings) -> RuleSettings:
    """The edit, or InvalidInput naming the field that is wrong (nothing is saved half)."""
    if settings.threshold is not None and not math.isfinite(settings.threshold):
        raise InvalidInput("threshold must be a finite number")
    if settings.comparison is not Comparison.NONE and settings.threshold is None:
        raise InvalidInput(f"comparison {settings.comparison.value!r} needs a threshold")
    if isinstance(settings.windows, bool) or not 1 <= int(settings.windows) <= MAX_WINDOWS:
        raise InvalidInput(f"windows must be between 1 and {MAX_WINDOWS}, got {settings.windows}")
    if isinstance(settings.minutes, bool) or not 0 <= int(settings.minutes) <= MAX_MINUTES:
        raise InvalidInput(f"minutes must be between 0 and {MAX_MINUTES}, got {settings.minutes}")
    if len(settings.runbook) > MAX_RUNBOOK:
        raise InvalidInput(f"runbook is longer than {MAX_RUNBOOK} characters")
    if "\x00" in settings.runbook:
        raise InvalidInput("runbook contains a NUL character")
    return replace(settings, windows=int(settings.windows), minutes=int(settings.minutes))


def _book(*steps: str) -> str:
    return "\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1))


DEFAULT_RULES: tuple[RuleSettings, ...] = (
    # The monitor's verdict is already a per-column test with a bounded false-alarm rate, so its drift
    # verdict opens the incident; a share-of-columns threshold on top hid real one-column drift (the
    # demo's 2012 humidity). Operators with nightly windows raise "for N windows" to filter noise.
    RuleSettings(
        DRIFT_KIND,
        "Input drift",
        Severity.WARNING,
        "Drift",
        runbook=_book(
            "Open the drift overlay of the columns that moved and compare with the reference.",
            "Check the deployment ledger: did a new version or a new data source arrive just before?",
            "If the model is wrong for the new data, **roll back** or **retrain** on recent data.",
        ),
    ),
    RuleSettings(
        QUALITY_KIND,
        "Data-quality findings",
        Severity.WARNING,
        "Drift",
        Comparison.ABOVE,
        1,
        runbook=_book("Read the findings on the Drift page.", "Fix the upstream feed or the schema."),
    ),
    RuleSettings(
        PERFORMANCE_KIND,
        "Realised performance below its floor",
        # A warning, like the SLA rule's reasoning: an unresolved critical incident blocks the pipeline's
        # promotions, and the fix (a retrained version) is a promotion.
        Severity.WARNING,
        "Drift",
        runbook=_book(
            "Compare realised performance with the hold-out on the Drift page.",
            "Roll back to the previous version, or retrain.",
        ),
    ),
    RuleSettings(
        SLA_KIND,
        "SLA breach",
        # The SLA's own window already says for how long it was missed, so it opens on the first breach.
        Severity.CRITICAL,
        "Service health",
        runbook=_book("Look at the slow or failing requests on Service health.", "Fail over if it persists."),
    ),
    RuleSettings(
        BATCH_FAILED_KIND,
        "Batch run failed",
        Severity.CRITICAL,
        "Drift",
        runbook=_book("Read the failed run's traceback and rejected rows.", "Fix the input and re-run."),
    ),
    RuleSettings(
        BATCH_LATE_KIND,
        "Batch run late",
        Severity.WARNING,
        "Drift",
        Comparison.ABOVE,
        60,  # minutes past due
        runbook=_book("Check the worker's heartbeat and the job runs on Infrastructure."),
    ),
    RuleSettings(
        HEARTBEAT_LOST_KIND,
        "Heartbeat lost",
        Severity.CRITICAL,
        "Infrastructure",
        runbook=_book("Look at the component's heartbeats on Infrastructure.", "Restart the process."),
    ),
    RuleSettings(
        FAILOVER_KIND,
        "Fail-over or circuit breaker",
        Severity.WARNING,
        "Deployments",
        runbook=_book("Find out why the primary failed.", "Fail back once it is healthy again."),
    ),
    RuleSettings(
        BREAKER_KIND,
        "Circuit breaker open",
        Severity.CRITICAL,
        "Service health",
        runbook=_book("The fallback serves: look at the failing requests.", "Fix or roll back the primary."),
    ),
    RuleSettings(
        SWAP_FAILED_KIND,
        "Model swap failed",
        Severity.CRITICAL,
        "Deployments",
        runbook=_book("Read the swap's error on the Deployments page.", "Retry or roll back."),
    ),
    RuleSettings(
        INTEGRITY_KIND,
        "Artifact integrity failure",
        Severity.CRITICAL,
        "Pipelines",
        runbook=_book("Do not promote the version.", "Restore the artifact from a trusted copy."),
    ),
    RuleSettings(
        AUDIT_CHAIN_KIND,
        "Audit chain fails to verify",
        Severity.CRITICAL,
        "Audit log",
        runbook=_book(
            "Run `steward audit verify` and read which link broke.", "Treat as a security incident."
        ),
    ),
    RuleSettings(
        CANARY_ROLLBACK_KIND,
        "Canary rolled back",
        # A warning: the champion already serves every request again, and a critical alert would block
        # the promotion of a fixed version.
        Severity.WARNING,
        "Deployments",
        runbook=_book(
            "Read the rollback's SLA breach on the Deployments page (the rollout's live comparison).",
            "Look at the canary version's failing or slow requests on Service health.",
            "Fix the version and start a new canary, or withdraw its promotion request.",
        ),
    ),
)

DEFAULTS: dict[str, RuleSettings] = {rule.kind: rule for rule in DEFAULT_RULES}


def default_for(kind: str) -> RuleSettings:
    """The default settings of ``kind``; a kind nobody configured is a warning that fires on its event."""
    return DEFAULTS.get(kind) or RuleSettings(kind, kind, Severity.WARNING, "Audit log")
