"""A request's evidence: champion against challenger, gates, sign-offs, the route so far.

Assembled from rows a :class:`~steward.core.services.promotions.reading.PromotionReader`
loaded (no queries here), so evidence for many requests costs what it costs
for one. The gates and the sign-off rule themselves are domain functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from steward.core.adapters.db.mappers.promotions import holdout_fingerprint, to_version_facts
from steward.core.adapters.db.models import EnvironmentRow, PipelineVersionRow
from steward.core.domain.alerts import Alert
from steward.core.domain.gates import GateInputs, evaluate_gates
from steward.core.domain.head_to_head import HeadToHead
from steward.core.domain.loadtest import LoadTestRun
from steward.core.domain.metrics import PRIMARY_METRIC, higher_is_better
from steward.core.domain.promotions import EnvironmentPolicy, Evidence, MetricRow, PromotionRequest
from steward.core.domain.sla import SlaTargets
from steward.core.services.promotions.signers import SignerFacts, signoff_now


@dataclass(frozen=True)
class EvidenceFacts:
    """Everything one request's evidence is computed from, loaded beforehand."""

    request: PromotionRequest
    policy: EnvironmentPolicy
    task: str
    challenger: PipelineVersionRow
    champion: PipelineVersionRow | None
    critical_alerts: tuple[Alert, ...]
    served_in: Mapping[int, datetime]  # environment id -> when the challenger first served there
    environments: tuple[EnvironmentRow, ...]
    signers: SignerFacts
    load_test: LoadTestRun | None = None  # the challenger's latest completed load test
    sla: SlaTargets | None = None  # the target environment's SLA for this pipeline
    head_to_head: HeadToHead | None = None  # challenger and champion on the same production rows


def alert_lines(alerts: tuple[Alert, ...]) -> tuple[str, ...]:
    """Critical alerts nobody has resolved, one line each for the gate.

    Alerts are opened by the audit events that are their evidence (an artifact
    failing its integrity check, a failed batch run; see ``steward.core.domain.alerts``)
    and stay open until an operator resolves them, so one tamper blocks the
    pipeline until someone has looked, not forever. An acknowledged alert still
    blocks: acknowledging says someone is looking, not that it is fixed.
    """
    return tuple(
        f"alert #{alert.id}: {alert.title} on {alert.where}, {alert.status.value} "
        f"(evidence {alert.audit_ref})"
        for alert in alerts
    )


def assemble_evidence(facts: EvidenceFacts, now: datetime) -> Evidence:
    request, policy = facts.request, facts.policy
    challenger = to_version_facts(facts.challenger)
    champion = to_version_facts(facts.champion) if facts.champion is not None else None
    primary = PRIMARY_METRIC.get(facts.task, next(iter(challenger.metrics), ""))
    same = facts.champion is None or holdout_fingerprint(facts.champion) == holdout_fingerprint(
        facts.challenger
    )
    names = [primary, *sorted(k for k in challenger.metrics if k != primary)]
    rows = tuple(
        MetricRow(
            name,
            _num(challenger.metrics.get(name)),
            _num(champion.metrics.get(name)) if champion else None,
            higher_is_better(name),
        )
        for name in names
        if name in challenger.metrics
    )
    gates = evaluate_gates(
        policy.gates,
        GateInputs(
            metrics=challenger.metrics,
            primary_metric=primary,
            champion_label=f"v{champion.number}" if champion else None,
            champion_metrics=champion.metrics if champion else None,
            same_holdout=same,
            critical_alerts=alert_lines(facts.critical_alerts),
            load_test=facts.load_test,
            sla=facts.sla,
            head_to_head=facts.head_to_head,
        ),
    )
    signoff = signoff_now(request, policy, facts.signers, now)
    by_id = {e.id: e for e in facts.environments}
    target = by_id[request.environment_id]
    earlier = [
        (by_id[env_id], at)
        for env_id, at in facts.served_in.items()
        if env_id in by_id and by_id[env_id].position < target.position
    ]
    path = tuple((env.name, at) for env, at in sorted(earlier, key=lambda item: item[0].position))
    return Evidence(
        request,
        policy,
        challenger,
        champion,
        primary,
        same,
        rows,
        gates,
        signoff,
        path,
        head_to_head=facts.head_to_head,
    )


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
