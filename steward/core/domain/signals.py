"""Signals: what a monitor found that someone should look at, and the four lights they roll up into.

Signals are derived afresh from what the monitors recorded, each naming its
evidence so an operator can drill down. Alerts (``steward.core.domain.alerts``) are
the stored, acknowledgeable kind: opened by audit events, resolved by people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class Light(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    GREY = "grey"  # nothing to judge yet


@dataclass(frozen=True)
class Signal:
    severity: Severity
    monitor: str  # pipelines | drift | infrastructure | service
    title: str
    detail: str
    subject: str  # pipeline/environment or component
    since: datetime | None
    evidence: str  # where to look: a page and what to pick there


@dataclass(frozen=True)
class Lamp:
    question: str
    light: Light
    summary: str
    page: str


def monitors_reporting(signals: list[Signal]) -> int:
    """How many monitors have something to say: one per kind and subject (a deployment's drift monitor,
    a batch pipeline, a job, a component), not one per kind."""
    return len({(s.monitor, s.subject) for s in signals})


def light_for(signals: list[Signal], *, judged: bool) -> Light:
    """Red on any critical signal, amber on warnings, green when something was judged and all is well."""
    if any(s.severity is Severity.CRITICAL for s in signals):
        return Light.RED
    if any(s.severity is Severity.WARNING for s in signals):
        return Light.AMBER
    return Light.GREEN if judged else Light.GREY
