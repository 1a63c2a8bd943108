"""One read for an incident's drill-down: its timeline, evidence, what changed just before, and its runbook.

Kept beside the alert service (which changes incidents) so the page makes one
call and holds no logic: which evidence links fit which kind of alert, and
which actions apply, are decided here from the incident and its rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from steward.core.domain.alert_rules import (
    BATCH_FAILED_KIND,
    DRIFT_KIND,
    HEARTBEAT_LOST_KIND,
    PERFORMANCE_KIND,
    QUALITY_KIND,
    RuleSettings,
)
from steward.core.domain.alerts import Alert, Occurrence
from steward.core.domain.promotions import LedgerEntry
from steward.core.errors import InvalidInput, NotFound
from steward.core.services.alert_rules import AlertRuleService
from steward.core.services.alerts import AlertService
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import DeploymentService

LOOK_BACK = timedelta(hours=48)
MONITOR_KINDS = {DRIFT_KIND, QUALITY_KIND, PERFORMANCE_KIND, BATCH_FAILED_KIND}


@dataclass(frozen=True)
class EvidenceLink:
    label: str
    page: str  # a file under steward/pages
    params: dict[str, str]


@dataclass(frozen=True)
class Drilldown:
    alert: Alert
    rule: RuleSettings
    timeline: list[Occurrence]
    changes_before: list[LedgerEntry]  # the ledger around the start: what changed just before
    evidence: list[EvidenceLink]
    can_roll_back: bool  # something serves this pipeline there with an earlier version to go back to
    can_fail_over: bool
    retrain_link: EvidenceLink | None


class IncidentView:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def drilldown(self, alert_id: int) -> Drilldown:
        alerts = AlertService(self.ctx)
        alert = alerts.get(alert_id)
        rule = AlertRuleService(self.ctx).get(alert.kind)
        deployments = DeploymentService(self.ctx)
        changes: list[LedgerEntry] = []
        serving = can_roll_back = False
        if alert.pipeline and alert.environment:
            changes = [
                e
                for e in deployments.ledger(alert.environment, alert.pipeline, limit=50)
                if alert.opened_at - LOOK_BACK <= e.occurred_at <= alert.opened_at + timedelta(minutes=5)
            ]
            serving = any(d.pipeline_name == alert.pipeline for d in deployments.serving(alert.environment))
            if serving:  # a rollback needs an earlier version there to go back to
                try:
                    deployments.rollback_target(alert.environment, alert.pipeline)
                    can_roll_back = True
                except (InvalidInput, NotFound):
                    can_roll_back = False
        return Drilldown(
            alert=alert,
            rule=rule,
            timeline=alerts.timeline(alert_id),
            changes_before=changes,
            evidence=self._evidence(alert),
            can_roll_back=can_roll_back,
            can_fail_over=serving,
            retrain_link=EvidenceLink("Retrain on recent data", "pipelines.py", {"pipeline": alert.pipeline})
            if alert.pipeline and alert.kind in MONITOR_KINDS
            else None,
        )

    @staticmethod
    def _evidence(alert: Alert) -> list[EvidenceLink]:
        where = {k: v for k, v in (("pipeline", alert.pipeline), ("environment", alert.environment)) if v}
        links = [EvidenceLink(f"Audit events #{alert.first_seq}-#{alert.last_seq}", "audit_log.py", {})]
        if alert.kind in MONITOR_KINDS:
            links.insert(0, EvidenceLink("Drift overlay of the columns that moved", "drift.py", where))
        if alert.kind == BATCH_FAILED_KIND:
            links.insert(
                0, EvidenceLink("The failed run, its rejected rows and traceback", "drift.py", where)
            )
        if alert.kind == HEARTBEAT_LOST_KIND:
            links.insert(0, EvidenceLink("The component's heartbeats", "infrastructure.py", {}))
        if alert.page == "Service health":
            links.insert(0, EvidenceLink("The slow or failing requests", "service_health.py", where))
        links.append(EvidenceLink("Event timeline around it", "timeline.py", where))
        return links
