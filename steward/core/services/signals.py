"""Deriving signals from the monitors' records, and the four questions of the overview."""

from __future__ import annotations

import builtins

from steward.core.domain.alerts import INTEGRITY_KIND, UNRESOLVED
from steward.core.domain.infrastructure import Health
from steward.core.domain.signals import Lamp, Light, Severity, Signal, light_for
from steward.core.domain.sla import SlaState
from steward.core.services.alerts import AlertService
from steward.core.services.context import ServiceContext
from steward.core.services.infrastructure import InfrastructureService
from steward.core.services.jobs import JobService
from steward.core.services.monitoring import MonitoringService
from steward.core.services.sla_evaluation import SlaEvaluation


class SignalService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.monitoring = MonitoringService(ctx)

    def pipeline_signals(self) -> builtins.list[Signal]:
        """Did the data pipelines run without errors? Failed batch runs and failed scheduled jobs."""
        signals = []
        for run in self.monitoring.batch_health():
            if run.status == "failed":
                signals.append(
                    Signal(
                        Severity.CRITICAL,
                        "pipelines",
                        "Batch run failed",
                        run.detail,
                        f"{run.pipeline_name} in {run.environment}",
                        run.started_at,
                        f"Drift page: batch runs, {run.dataset}",
                    )
                )
        latest_jobs: dict[str, object] = {}
        for job in JobService(self.ctx).recent(200):
            if job.job in latest_jobs:
                continue
            latest_jobs[job.job] = job
            if job.status == "failed":
                severity = Severity.CRITICAL if job.job == "artifacts.verify" else Severity.WARNING
                signals.append(
                    Signal(
                        severity,
                        "pipelines",
                        f"Scheduled job {job.job} failed",
                        job.detail,
                        job.worker,
                        job.started_at,
                        "Infrastructure page: scheduled jobs",
                    )
                )
        return signals

    def drift_signals(self) -> builtins.list[Signal]:
        """Is production data different from training data? The latest window of each monitored deployment."""
        signals = []
        for monitor in self.monitoring.monitors():
            windows = self.monitoring.windows(
                monitor.pipeline_name, monitor.environment, monitor_id=monitor.id
            )
            if not windows:
                continue
            last = windows[-1]
            subject = f"{monitor.pipeline_name} in {monitor.environment} on {monitor.dataset}"
            evidence = f"Drift page: {subject}, window {last.label}"
            if last.performance_status == "degraded":
                signals.append(
                    Signal(
                        Severity.CRITICAL,
                        "drift",
                        "Performance below the hold-out",
                        (last.performance or {}).get("reason", ""),
                        subject,
                        last.created_at,
                        evidence,
                    )
                )
            if last.verdict == "drift":
                signals.append(
                    Signal(
                        Severity.WARNING,
                        "drift",
                        "Input drift",
                        last.reason,
                        subject,
                        last.created_at,
                        evidence,
                    )
                )
            if last.quality_findings:
                signals.append(
                    Signal(
                        Severity.WARNING,
                        "drift",
                        "Data-quality findings",
                        f"{last.quality_findings} finding(s) in window {last.label}",
                        subject,
                        last.created_at,
                        evidence,
                    )
                )
        return signals

    def infrastructure_signals(self) -> builtins.list[Signal]:
        """Is storage and compute up? Each component's verdict (probes, processes, compute), and integrity."""
        signals = [
            Signal(
                Severity.CRITICAL if reading.health is Health.DOWN else Severity.WARNING,
                "infrastructure",
                f"{reading.component} {reading.health.value}",
                reading.reason,
                reading.component,
                reading.read_at or self.ctx.clock.now(),
                "Infrastructure page",
            )
            for reading in InfrastructureService(self.ctx).status().readings
            if reading.health in (Health.DOWN, Health.DEGRADED)
        ]
        # Artifacts that failed their digest: from the alerts, so the light turns green once resolved.
        for alert in AlertService(self.ctx).list(status=UNRESOLVED):
            if alert.kind == INTEGRITY_KIND:
                signals.append(
                    Signal(
                        Severity.CRITICAL,
                        "infrastructure",
                        "Artifact integrity failure",
                        alert.detail,
                        alert.object_id,
                        alert.opened_at,
                        f"Alerts: alert #{alert.id} ({alert.evidence})",
                    )
                )
        return signals

    def all(self) -> builtins.list[Signal]:
        """Every signal once, most severe first (the same finding reached twice is listed once)."""
        signals = _once(self.pipeline_signals() + self.drift_signals() + self.infrastructure_signals())
        order = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
        return sorted(signals, key=lambda s: (order[s.severity], s.monitor, s.subject))

    def _service_lamp(self) -> Lamp:
        """Red while any deployment is in breach of its SLA (judged from rollups by the worker)."""
        states = SlaEvaluation(self.ctx).standings()
        breached = [s for s in states if s.state is SlaState.BREACHED]
        judged = [s for s in states if s.state is not SlaState.IDLE]
        if breached:
            light, words = (
                Light.RED,
                f"{len(breached)} of {len(judged)} serving deployment(s) in breach of their SLA",
            )
        elif judged:
            light, words = Light.GREEN, f"{len(judged)} deployment(s) within their SLA"
        else:
            light, words = (
                Light.GREY,
                "no SLA judged yet: set targets on Service health; the worker judges them",
            )
        return Lamp("Is the service inside its SLA?", light, words, "Service health")

    def lamps(self) -> builtins.list[Lamp]:
        """The four questions of mature monitoring, each with one light."""
        runs = self.monitoring.batch_health()
        pipelines = _once(self.pipeline_signals())
        drift = _once(self.drift_signals())
        infrastructure = _once(self.infrastructure_signals())
        # Deployments, not monitors: two monitors of one deployment on different data are one deployment.
        monitored = {
            (m.pipeline_name, m.environment)
            for m in self.monitoring.monitors()
            if self.monitoring.last_run(m.id)
        }
        return [
            Lamp(
                "Did my data pipelines run without errors?",
                light_for(pipelines, judged=bool(runs)),
                f"{sum(r.ok for r in runs)} of {len(runs)} latest batch runs succeeded"
                if runs
                else "no batch runs yet",
                "Drift",
            ),
            Lamp(
                "Is production data different from training data?",
                light_for(drift, judged=bool(monitored)),
                f"{len(drift)} signal(s) across {len(monitored)} monitored deployment(s)"
                if monitored
                else "no monitors have run yet",
                "Drift",
            ),
            Lamp(
                "Is storage and compute up?",
                light_for(infrastructure, judged=True),
                "all components up" if not infrastructure else f"{len(infrastructure)} problem(s)",
                "Infrastructure",
            ),
            self._service_lamp(),
        ]


def _once(signals: builtins.list[Signal]) -> builtins.list[Signal]:
    """Each distinct signal once, in first-seen order."""
    return builtins.list(dict.fromkeys(signals))
