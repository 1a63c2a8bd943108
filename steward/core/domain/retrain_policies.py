"""Retraining by policy: when a pipeline retrains itself, and what each such retrain did.

A policy is data (one per pipeline), so who set what is audited and the
worker, the page and the CLI read the same rules. It fires when any of its
conditions holds: drift persisted for the last N windows of the serving
version, a realised metric fell below (or, for an error, rose above) X, or
the schedule is due. A retrain only registers a version and at most *asks*
for a promotion: the environment's sign-off policy decides the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from steward.core.domain.metrics import higher_is_better
from steward.core.errors import InvalidInput

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"
MAX_DRIFT_WINDOWS = 100
MAX_EVERY_HOURS = 24 * 366


@dataclass(frozen=True)
class RetrainPolicy:
    """The conditions under which ``pipeline_name`` retrains on ``dataset`` (its environment's data)."""

    id: int
    pipeline_name: str
    environment: str  # the data set's environment: its monitor windows are watched, its tier decides who
    dataset: str
    labels: str | None
    id_column: str | None
    drift_windows: int | None  # fire when the last N windows of the serving version all drifted
    metric: str | None  # fire when this realised metric crosses ``threshold``
    threshold: float | None
    every_hours: int | None  # fire when the last retrain by this policy is this old (or none ran)
    request_to: str | None  # after a retrain, ask for promotion here (never more than that)
    enabled: bool
    updated_by: str
    updated_at: datetime

    def conditions(self) -> list[str]:
        """The policy in words, one condition per line, for the page, the CLI and the audit trail."""
        said = []
        if self.drift_windows:
            said.append(f"drift in the last {self.drift_windows} window(s) in {self.environment}")
        if self.metric and self.threshold is not None:
            worse = "below" if higher_is_better(self.metric) else "above"
            said.append(f"realised {self.metric} {worse} {self.threshold:g} in {self.environment}")
        if self.every_hours:
            said.append(f"every {self.every_hours} h")
        return said

    def describe(self) -> str:
        when = " or ".join(self.conditions()) or "never"
        then = f"; then request promotion to {self.request_to}" if self.request_to else ""
        state = "" if self.enabled else " (paused)"
        return f"retrain {self.pipeline_name} on {self.dataset} when {when}{then}{state}"


@dataclass(frozen=True)
class RetrainRun:
    """One retrain a policy started: why, what it produced, and how it ended."""

    id: int
    policy_id: int
    pipeline_name: str
    slot: datetime
    status: str  # running | succeeded | failed
    reason: str
    version_number: int | None
    promotion_request_id: int | None
    promotion_note: str  # what became of the promotion request (requested, refused and why, none)
    error: str
    started_at: datetime
    finished_at: datetime | None


def validate_conditions(
    drift_windows: int | None, metric: str | None, threshold: float | None, every_hours: int | None
) -> None:
    """Refuse a policy that could never fire or makes no sense, naming the problem."""
    if drift_windows is not None and not 1 <= drift_windows <= MAX_DRIFT_WINDOWS:
        raise InvalidInput(f"drift windows must be between 1 and {MAX_DRIFT_WINDOWS}, not {drift_windows}")
    if (metric is None) != (threshold is None):
        raise InvalidInput("a performance condition needs both a metric and a threshold")
    if threshold is not None and not math.isfinite(threshold):
        raise InvalidInput("the performance threshold must be a finite number")
    if every_hours is not None and not 1 <= every_hours <= MAX_EVERY_HOURS:
        raise InvalidInput(f"the schedule must be between 1 and {MAX_EVERY_HOURS} hours, not {every_hours}")
    if not drift_windows and metric is None and not every_hours:
        raise InvalidInput(
            "a retrain policy needs a condition: drift windows, a metric and threshold, or a schedule"
        )


def drift_persists(verdicts: Sequence[str], windows: int) -> bool:
    """True when the newest ``windows`` verdicts (newest first) are all ``drift``."""
    return len(verdicts) >= windows and all(v == "drift" for v in verdicts[:windows])


def metric_crossed(metric: str, value: float, threshold: float) -> bool:
    """An error above its threshold, or a score below it."""
    return value < threshold if higher_is_better(metric) else value > threshold


def schedule_due(last_started: datetime | None, now: datetime, every_hours: int) -> bool:
    return last_started is None or now - last_started >= timedelta(hours=every_hours)
