"""Alerts: what an audit event says someone must look at, kept open until a person closes it.

Signals (:mod:`steward.core.domain.signals`) are derived afresh and vanish on their
own; an alert is a record with a life: opened by an event, acknowledged by
someone looking into it, resolved with a comment. The rules that open alerts
are data, one row per kind: which audit event, how severe, what to call it,
what makes two events the same alert (the fingerprint) and where to look. A
later monitor adds a row; the unit of work applies the table to every event
it appends, so an alert opens in the same transaction as its evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from steward.core.domain.alert_rules import (
    AUDIT_CHAIN_KIND,
    BATCH_FAILED_KIND,
    BREAKER_KIND,
    CANARY_ROLLBACK_KIND,
    FAILOVER_KIND,
    HEARTBEAT_LOST_KIND,
    INTEGRITY_KIND,
    SLA_KIND,
    SWAP_FAILED_KIND,
)
from steward.core.domain.audit import AuditEvent, Outcome
from steward.core.domain.signals import Severity

__all__ = ["BATCH_FAILED_KIND", "HEARTBEAT_LOST_KIND", "INTEGRITY_KIND"]  # re-exported for older imports


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"  # someone is looking; still blocks what an open alert blocks
    RESOLVED = "resolved"
    REOPENED = "reopened"  # fired again after it was resolved: the same incident, back on the board


UNRESOLVED = frozenset({AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.REOPENED})
SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
# Names other rooms import (the scoring service and the SLA evaluation): the same kinds as the rules table.
BREAKER_OPEN_KIND = BREAKER_KIND
SLA_BREACH_KIND = SLA_KIND


def _pipeline_of_version(event: AuditEvent) -> str | None:
    """``credit-default/v3`` -> ``credit-default`` (pipeline names hold no slash)."""
    name, slash, _label = event.object_id.rpartition("/")
    return name if slash and name else None


def _pipeline_in_after(event: AuditEvent) -> str | None:
    value = (event.after or {}).get("pipeline")
    return str(value) if value else None


def _environment_in_after(event: AuditEvent) -> str | None:
    value = (event.after or {}).get("environment")
    return str(value) if value else None


def _pipeline_of_deployment(event: AuditEvent) -> str | None:
    """``Prod/bike-demand`` (a deployment's object id) -> ``bike-demand``; else the event's ``after``."""
    _env, slash, name = event.object_id.partition("/")
    return name if slash and name else _pipeline_in_after(event)


def _environment_of_deployment(event: AuditEvent) -> str | None:
    env, slash, _name = event.object_id.partition("/")
    return env if slash and env else _environment_in_after(event)


def _none(_event: AuditEvent) -> str | None:
    return None


@dataclass(frozen=True)
class AlertRule:
    """One row of the table: an audit event (action, and outcome when given) that opens an alert."""

    kind: str  # stored on the alert; part of its fingerprint
    action: str
    outcome: Outcome | None  # None: any outcome
    severity: Severity
    title: str
    page: str  # the page that shows the evidence, besides the audit log
    pipeline: Callable[[AuditEvent], str | None]
    environment: Callable[[AuditEvent], str | None] = _environment_in_after

    def matches(self, event: AuditEvent) -> bool:
        return event.action == self.action and (self.outcome is None or event.outcome is self.outcome)

    def fingerprint(self, event: AuditEvent) -> str:
        """Two events are the same alert when they are of one kind about one object."""
        return f"{self.kind}|{event.object_type}|{event.object_id}"


RULES: tuple[AlertRule, ...] = (
    # The scoring service refused a candidate (it keeps serving the old version) or opened a breaker.
    AlertRule(
        SWAP_FAILED_KIND,
        "serving.swap_failed",
        None,
        Severity.CRITICAL,
        "Scoring service refused a version",
        "Deployments",
        _pipeline_of_deployment,
        _environment_of_deployment,
    ),
    AlertRule(
        BREAKER_KIND,
        "serving.breaker_opened",
        None,
        Severity.CRITICAL,
        "Scoring circuit breaker opened: the fallback answers",
        "Deployments",
        _pipeline_of_deployment,
        _environment_of_deployment,
    ),
    # Per pipeline version: the registry's daily check and a promotion's re-hash raise the same alert.
    AlertRule(
        INTEGRITY_KIND,
        "artifact.integrity_failed",
        None,
        Severity.CRITICAL,
        "Artifact integrity failure",
        "Pipelines",
        _pipeline_of_version,
    ),
    # Per monitor: a monitor failing every night is one alert with a count, not one a night.
    AlertRule(
        BATCH_FAILED_KIND,
        "batch.run",
        Outcome.FAILED,
        Severity.CRITICAL,
        "Batch run failed",
        "Drift",
        _pipeline_in_after,
    ),
    # Per component (kind/name): a process silent past its timeout. Marked lost once by whichever checker
    # finds it first (core/services/heartbeats.py), so one loss is one event; a repeat loss counts up.
    AlertRule(
        HEARTBEAT_LOST_KIND,
        "heartbeat.lost",
        None,
        Severity.CRITICAL,
        "Heartbeat lost",
        "Infrastructure",
        _none,
        _none,
    ),
    # Per deployment (environment/pipeline): a fail-over, whether a person or the breaker asked for it.
    AlertRule(
        FAILOVER_KIND,
        "deployment.failover",
        None,
        Severity.WARNING,
        "Fail-over",
        "Deployments",
        _pipeline_of_deployment,
        _environment_of_deployment,
    ),
    # A checkpoint or verification that finds the chain broken.
    AlertRule(
        AUDIT_CHAIN_KIND,
        "audit.verify",
        Outcome.FAILED,
        Severity.CRITICAL,
        "Audit chain",
        "Audit log",
        _none,
        _none,
    ),
    AlertRule(
        AUDIT_CHAIN_KIND,
        "audit.checkpoint",
        Outcome.FAILED,
        Severity.CRITICAL,
        "Audit chain",
        "Audit log",
        _none,
        _none,
    ),
    # Per deployment (environment/pipeline): live traffic outside its SLA. Opened by the SLA evaluation
    # (core/services/sla_evaluation.py) on the transition into breach and resolved by it on recovery.
    # A warning, not critical: an unresolved critical alert blocks promotions, and the fix may be one.
    AlertRule(
        SLA_BREACH_KIND,
        "sla.breached",
        None,
        Severity.WARNING,
        "SLA breached",
        "Service health",
        _pipeline_in_after,
    ),
    # Per deployment (environment/pipeline): a canary taken out of traffic because it breached the SLA
    # (core/services/rollouts.py). Resolved by a person once the cause is understood.
    AlertRule(
        CANARY_ROLLBACK_KIND,
        "rollout.rolled_back",
        None,
        Severity.WARNING,
        "Canary rolled back: it breached the SLA",
        "Deployments",
        _pipeline_of_deployment,
        _environment_of_deployment,
    ),
    # Scheduled jobs record no audit event when they fail (core/services/jobs.py keeps them in
    # job_runs), so there is no row for them yet: add one when the worker audits its failures.
)


def rule_for(event: AuditEvent) -> AlertRule | None:
    """The first rule the event matches, or None: most events open nothing."""
    return next((rule for rule in RULES if rule.matches(event)), None)


def page_for(kind: str) -> str:
    return next((rule.page for rule in RULES if rule.kind == kind), "Audit log")


@dataclass(frozen=True)
class Alert:
    id: int
    fingerprint: str
    kind: str
    severity: Severity
    title: str
    detail: str
    pipeline: str | None
    object_type: str
    object_id: str
    first_seq: int  # the audit event that opened it
    last_seq: int  # the latest event with the same fingerprint
    count: int
    status: AlertStatus
    opened_at: datetime
    last_seen_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    acknowledge_comment: str
    resolved_by: str | None
    resolved_at: datetime | None
    resolution: str
    environment: str | None = None
    assigned_to: str | None = None
    snoozed_until: datetime | None = None
    reopened_count: int = 0

    @property
    def unresolved(self) -> bool:
        return self.status in UNRESOLVED

    def snoozed(self, now: datetime) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > now and self.unresolved

    def rank(self, now: datetime) -> tuple[int, int, float, int]:
        """Board order: awake before snoozed, then most severe, then open longest."""
        return (int(self.snoozed(now)), SEVERITY_RANK[self.severity], self.opened_at.timestamp(), self.id)

    @property
    def state_key(self) -> str:
        """What a notification is about: a repeat firing leaves it unchanged, so nobody is told twice."""
        return f"{self.status.value}|{self.severity.value}|{self.reopened_count}"

    @property
    def page(self) -> str:
        return page_for(self.kind)

    @property
    def where(self) -> str:
        """The place in words: ``credit-default in Prod, monitor 'credit/production'``, never a bare id."""
        place = self.pipeline or ""
        if place and self.environment:
            place = f"{place} in {self.environment}"
        thing = object_in_words(self.object_type, self.object_id, self.pipeline, self.environment)
        return ", ".join(part for part in (place, thing) if part) or "-"

    @property
    def audit_ref(self) -> str:
        """The event that opened it and the latest repeat: ``audit #12`` or ``audit #12, latest #30``."""
        latest = f", latest #{self.last_seq}" if self.last_seq != self.first_seq else ""
        return f"audit #{self.first_seq}{latest}"

    @property
    def evidence(self) -> str:
        """Where to look, in words: the audit events and the page."""
        return f"{self.audit_ref}; {self.page} page"

    def snapshot(self) -> dict[str, Any]:
        """What an acknowledge or resolve changes, for the audit event's before and after."""
        return {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity.value,
            "pipeline": self.pipeline,
            "object": f"{self.object_type}:{self.object_id}",
            "status": self.status.value,
            "count": self.count,
            "evidence_seq": [self.first_seq, self.last_seq],
            "environment": self.environment,
            "acknowledged_by": self.acknowledged_by,
            "assigned_to": self.assigned_to,
            "snoozed_until": self.snoozed_until.isoformat() if self.snoozed_until else None,
            "reopened_count": self.reopened_count,
            "resolved_by": self.resolved_by,
            "resolution": self.resolution,
        }


def object_in_words(object_type: str, object_id: str, pipeline: str | None, environment: str | None) -> str:
    """What an incident is about, past its pipeline and environment; empty when those already say it."""
    if not object_id:
        return ""
    if object_id in {f"{environment}/{pipeline}", f"{pipeline}/{environment}", pipeline or ""}:
        return ""  # a deployment's or SLA's key: the place says it
    if object_type == "monitor":
        # The monitor's data set (a monitor is one pipeline, environment and data set); old rows kept the id.
        return f"monitor #{object_id}" if object_id.isdigit() else f"monitor {object_id!r}"
    if object_type == "pipeline_version":
        name, _slash, label = object_id.rpartition("/")
        return f"version {label}" if name and name == pipeline else f"version {object_id}"
    if object_type == "component":
        return f"component {object_id!r}"
    if object_type == "alert_source":
        return object_id  # the monitor's own words for where it fired
    if object_type in {"deployment", "sla"}:
        environment_name, _slash, name = object_id.partition("/")
        return f"{name} in {environment_name}" if name and not pipeline else ""
    return f"{object_type.replace('_', ' ')} {object_id!r}"


def transition_problem(alert: Alert, target: AlertStatus) -> str | None:
    """Why ``alert`` cannot move to ``target`` now (someone else got there first), or None."""
    if target is AlertStatus.REOPENED:
        if alert.status is not AlertStatus.RESOLVED:
            return f"alert #{alert.id} is not resolved, so it cannot be reopened"
        return None
    if alert.status is AlertStatus.RESOLVED:
        return f"alert #{alert.id} was already resolved by {alert.resolved_by}"
    if target is AlertStatus.ACKNOWLEDGED and alert.status is AlertStatus.ACKNOWLEDGED:
        return f"alert #{alert.id} was already acknowledged by {alert.acknowledged_by}"
    if target is AlertStatus.OPEN:
        return "an alert is only opened by the event that raises it"
    return None


def maintenance_problem(alert: Alert, what: str) -> str | None:
    """Assigning and snoozing are for incidents still on the board."""
    if not alert.unresolved:
        return f"alert #{alert.id} is resolved; reopen it (or wait for it to fire again) to {what} it"
    return None


@dataclass(frozen=True)
class Occurrence:
    """One firing on an incident's timeline: when, which audit event (if any), the measured value."""

    id: int
    alert_id: int | None
    occurred_at: datetime
    seq: int | None
    value: float | None
    detail: str
