"""The worker's jobs: what runs on a schedule, each a plain function of a Steward.

Kept in core so they can be run (and tested) without the scheduler; the
worker process in ``app/worker.py`` only decides when.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from steward.core.domain.accounts import Actor
from steward.core.services.batch_late import BatchLateService
from steward.core.steward import Steward

WORKER = Actor.system_actor("worker")
ROLLUP_EVERY = timedelta(seconds=30)  # the SLA lines lag live traffic by at most this and a minute
RETRAIN_EVERY = timedelta(minutes=15)  # how often retrain policies are looked at; each fires once a slot


@dataclass(frozen=True)
class JobSpec:
    name: str
    every: timedelta
    work: Callable[[Steward], str]
    why: str


def audit_checkpoint(steward: Steward) -> str:
    point, path = steward.audit.checkpoint(WORKER)
    return f"checkpoint #{point.seq} written to {path.name}"


def verify_artifacts(steward: Steward) -> str:
    problems = steward.pipelines.verify_artifacts(WORKER)
    if problems:
        raise RuntimeError("; ".join(problems))
    return "every artifact matches its registered digest"


def sweep_temporary_artifacts(steward: Steward) -> str:
    return steward.pipelines.sweep_temporary_artifacts(WORKER)


def run_due_monitors(steward: Steward) -> str:
    runs = [steward.monitoring.run(WORKER, monitor.id) for monitor in steward.monitoring.due()]
    failed = [run for run in runs if run.status == "failed"]
    summary = f"{len(runs)} monitor run(s), {len(failed)} failed"
    if failed:
        raise RuntimeError(
            summary + ": " + "; ".join(f"{r.pipeline_name}/{r.environment}: {r.detail}" for r in failed)
        )
    return summary


def check_late_batches(steward: Steward) -> str:
    """Open a ``batch.late`` incident for monitors past interval plus grace; resolve it once one runs."""
    return BatchLateService(steward.ctx).check(WORKER)


def check_infrastructure(steward: Steward) -> str:
    """Record the probes and open one alert per process that fell silent past its heartbeat timeout."""
    return steward.infrastructure.check(WORKER)


def prune_infrastructure_history(steward: Steward) -> str:
    return steward.infrastructure.prune()


def roll_up_requests(steward: Steward) -> str:
    """Add the log rows written since the last run to their minute and hour, then judge every SLA."""
    rolled = steward.rollups.run()
    return f"{rolled.summary()}; {steward.sla_evaluation.evaluate(WORKER)}"


def deliver_notifications(steward: Steward) -> str:
    """The outbox job: send what incidents and promotions decided, never inside a user's request."""
    run = steward.notifications.deliver_due()
    return f"{run.delivered} delivered, {run.failed} failed, {run.given_up} given up"


def run_retrain_policies(steward: Steward) -> str:
    """Retrain the pipelines whose policy fires now, once in this slot (see RetrainPolicyService)."""
    from steward.core.services.jobs import running_job, slot_for

    current = running_job()
    slot = current.slot if current is not None else slot_for(steward.ctx.clock.now(), RETRAIN_EVERY)
    runs = steward.retrain_policies.evaluate(WORKER, slot)
    failed = [run for run in runs if run.status == "failed"]
    summary = f"{len(runs)} retrain(s) by policy, {len(failed)} failed"
    if failed:
        raise RuntimeError(summary + ": " + "; ".join(f"{r.pipeline_name}: {r.error}" for r in failed))
    return summary


def schedule(steward: Steward) -> list[JobSpec]:
    settings = steward.settings
    return [
        JobSpec(
            "audit.checkpoint",
            timedelta(minutes=settings.checkpoint_every_minutes),
            audit_checkpoint,
            "sign the audit chain's head into a file outside the database",
        ),
        JobSpec(
            "artifacts.verify",
            timedelta(hours=24),
            verify_artifacts,
            "re-hash every stored artifact; a mismatch raises an integrity alarm",
        ),
        JobSpec(
            "artifacts.sweep",
            timedelta(hours=6),
            sweep_temporary_artifacts,
            "remove temporary artifact files a crash left behind (older than an hour)",
        ),
        JobSpec(
            "monitors.run",
            timedelta(minutes=settings.monitor_check_minutes),
            run_due_monitors,
            "run the drift and data-quality monitors that are due",
        ),
        JobSpec(
            "batch.late",
            timedelta(minutes=settings.monitor_check_minutes),
            check_late_batches,
            "open an incident when a monitor has not run within its interval plus the rule's grace",
        ),
        JobSpec(
            "infrastructure.check",
            timedelta(seconds=settings.infra_check_seconds),
            check_infrastructure,
            "probe the database, artifact store and scheduler; alert on processes whose heartbeat stopped",
        ),
        JobSpec(
            "rollups.run",
            ROLLUP_EVERY,
            roll_up_requests,
            "roll new prediction-log rows up per minute and hour, then judge each deployment's SLA",
        ),
        JobSpec(
            "notifications.deliver",
            timedelta(seconds=30),
            deliver_notifications,
            "send the notification outbox (webhooks, e-mail) with retries and backoff",
        ),
        JobSpec(
            "retrain.policies",
            RETRAIN_EVERY,
            run_retrain_policies,
            "retrain pipelines whose policy fires (drift persists, performance falls, schedule due)",
        ),
        JobSpec(
            "infrastructure.prune",
            timedelta(hours=1),
            prune_infrastructure_history,
            "keep heartbeat and probe history to STEWARD_INFRA_HISTORY_HOURS and job runs to their retention",
        ),
    ]
