"""Gates an environment may require before a promotion executes, decided from evidence as plain data.

Each gate answers passed, failed or pending (cannot be decided yet: no load
test of the version has completed, or the target environment has no SLA
targets). Only ``passed`` lets a promotion through: a gate that cannot be
shown to pass does not pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from steward.core.domain.head_to_head import HeadToHead, MetricComparison
from steward.core.domain.loadtest import LoadTestRun
from steward.core.domain.metrics import TRAINING_METRICS, higher_is_better, metric_phrase
from steward.core.domain.sla import SlaTargets, judge
from steward.core.errors import InvalidInput

MAX_REGRESSION_PCT = 50.0


class GateStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    PENDING = "pending"


@dataclass(frozen=True)
class GatePolicy:
    """What an environment checks before execution. ``min_metrics``: the worst acceptable value per metric
    (a floor for higher-is-better metrics, a ceiling for errors such as RMSE)."""

    min_metrics: tuple[tuple[str, float], ...] = ()
    max_regression_pct: float | None = None
    require_load_test: bool = False
    require_no_critical_alert: bool = True

    def __post_init__(self) -> None:
        names = [name for name, _ in self.min_metrics]
        if len(set(names)) != len(names):
            raise InvalidInput("each metric may have one threshold")
        for name, value in self.min_metrics:
            if name not in TRAINING_METRICS:
                known = ", ".join(sorted(TRAINING_METRICS))
                raise InvalidInput(f"unknown metric {name[:40]!r}; known metrics: {known}")
            if not math.isfinite(value):
                raise InvalidInput(f"the threshold for {metric_phrase(name)} must be a number")
        if self.max_regression_pct is not None and not (
            math.isfinite(self.max_regression_pct) and 0 <= self.max_regression_pct <= MAX_REGRESSION_PCT
        ):
            raise InvalidInput(f"the allowed regression must be between 0 and {MAX_REGRESSION_PCT:g} %")

    @classmethod
    def build(
        cls,
        min_metrics: Mapping[str, float],
        *,
        max_regression_pct: float | None,
        require_load_test: bool,
        require_no_critical_alert: bool,
    ) -> GatePolicy:
        return cls(
            tuple(sorted((str(k), float(v)) for k, v in min_metrics.items())),
            None if max_regression_pct is None else float(max_regression_pct),
            require_load_test,
            require_no_critical_alert,
        )

    def describe(self) -> list[str]:
        lines = [threshold_title(name, value) for name, value in self.min_metrics]
        if self.max_regression_pct is not None:
            lines.append(f"no worse than the version serving by more than {self.max_regression_pct:g} %")
        if self.require_load_test:
            lines.append("a passed load test at the environment's SLA")
        if self.require_no_critical_alert:
            lines.append("no open critical alert on the pipeline")
        return lines


def threshold_title(name: str, value: float) -> str:
    word = "at least" if higher_is_better(name) else "at most"
    return f"{metric_phrase(name)} {word} {value:g}"


@dataclass(frozen=True)
class GateResult:
    gate: str
    title: str
    status: GateStatus
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"gate": self.gate, "title": self.title, "status": self.status.value, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GateResult:
        return cls(str(data["gate"]), str(data["title"]), GateStatus(data["status"]), str(data["detail"]))


@dataclass(frozen=True)
class GateInputs:
    """The evidence gates look at. ``champion_*`` is the version serving in the target now, if any."""

    metrics: Mapping[str, float | None]
    primary_metric: str
    champion_label: str | None = None
    champion_metrics: Mapping[str, float | None] | None = None
    same_holdout: bool = True
    critical_alerts: tuple[str, ...] = ()
    load_test: LoadTestRun | None = None  # the candidate's latest completed load test, if any
    sla: SlaTargets | None = None  # the target environment's SLA for this pipeline, if set
    head_to_head: HeadToHead | None = None  # both versions scored on the same production rows, if measured


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _floor(name: str, threshold: float, metrics: Mapping[str, float | None]) -> GateResult | None:
    """None when the pipeline's task has no such metric (an RMSE floor for a classifier): not applicable."""
    if name not in metrics:
        return None
    title = threshold_title(name, threshold)
    gate = f"floor:{name}"
    value = _number(metrics.get(name))
    if value is None:
        return GateResult(
            gate, title, GateStatus.FAILED, f"{metric_phrase(name)} was not measured for this version"
        )
    ok = value >= threshold if higher_is_better(name) else value <= threshold
    return GateResult(
        gate, title, GateStatus.PASSED if ok else GateStatus.FAILED, f"{metric_phrase(name)} is {value:.4g}"
    )


def _champion(pct: float, inputs: GateInputs) -> GateResult:
    name = inputs.primary_metric
    title = f"{metric_phrase(name)} no worse than the version serving by more than {pct:g} %"
    if inputs.champion_metrics is None:
        return GateResult("champion", title, GateStatus.PASSED, "nothing serves here yet: first deployment")
    compared = inputs.head_to_head.metric(name) if inputs.head_to_head is not None else None
    if inputs.head_to_head is not None and compared is not None:
        return _champion_on_same_rows(pct, title, inputs.head_to_head, compared, inputs.champion_label)
    if not inputs.same_holdout:
        return GateResult(
            "champion",
            title,
            GateStatus.PENDING,
            f"{inputs.champion_label} was measured on a different hold-out (other training data), "
            "so the two cannot be compared yet",
        )
    challenger, champion = _number(inputs.metrics.get(name)), _number(inputs.champion_metrics.get(name))
    if challenger is None or champion is None:
        return GateResult(
            "champion",
            title,
            GateStatus.FAILED,
            f"{metric_phrase(name)} is missing for one of the two versions",
        )
    allowed = abs(champion) * pct / 100
    if higher_is_better(name):
        ok, limit = challenger >= champion - allowed, champion - allowed
    else:
        ok, limit = challenger <= champion + allowed, champion + allowed
    detail = f"{challenger:.4g} against {champion:.4g} for {inputs.champion_label} (limit {limit:.4g})"
    return GateResult("champion", title, GateStatus.PASSED if ok else GateStatus.FAILED, detail)


def _champion_on_same_rows(
    pct: float, title: str, h2h: HeadToHead, compared: MetricComparison, champion_label: str | None
) -> GateResult:
    """Judged on the paired comparison: the same limit, measured on rows neither version trained on."""
    allowed = abs(compared.champion) * pct / 100
    if compared.higher_is_better:
        ok, limit = compared.challenger >= compared.champion - allowed, compared.champion - allowed
    else:
        ok, limit = compared.challenger <= compared.champion + allowed, compared.champion + allowed
    detail = (
        f"on {h2h.where}: {compared.challenger:.4g} against {compared.champion:.4g} for "
        f"{champion_label or f'v{h2h.champion_number}'} (limit {limit:.4g}; "
        f"{compared.confidence:.0%} interval of the difference "
        f"{compared.ci_low:+.4g} to {compared.ci_high:+.4g})"
    )
    return GateResult("champion", title, GateStatus.PASSED if ok else GateStatus.FAILED, detail)


def load_test_gate(run: LoadTestRun | None, targets: SlaTargets | None) -> GateResult:
    """Passed when the candidate's latest load test is within the target environment's SLA."""
    title = "load test at the SLA"
    if targets is None or targets.empty:
        return GateResult(
            "load_test", title, GateStatus.PENDING, "no SLA targets are set here for this pipeline"
        )
    if run is None:
        return GateResult(
            "load_test", title, GateStatus.PENDING, "no load test of this version has completed yet"
        )
    where = (
        f"load test #{run.id} in {run.environment_name} "
        f"({run.plan.rps} req/s for {run.plan.duration_seconds} s)"
    )
    if run.other_answers:
        detail = f"{run.other_answers} of {run.requests} answers came from another version or the fallback"
        return GateResult("load_test", title, GateStatus.FAILED, f"{where}: {detail}")
    verdict = judge(run.measurement, targets)
    status = GateStatus.PASSED if verdict.within else GateStatus.FAILED
    return GateResult("load_test", title, status, f"{where}: {verdict.summary()}")


def evaluate_gates(policy: GatePolicy, inputs: GateInputs) -> tuple[GateResult, ...]:
    """The result of every gate the policy requires, in a stable order."""
    results = [
        result
        for name, value in policy.min_metrics
        if (result := _floor(name, value, inputs.metrics)) is not None
    ]
    if policy.max_regression_pct is not None:
        results.append(_champion(policy.max_regression_pct, inputs))
    if policy.require_load_test:
        results.append(load_test_gate(inputs.load_test, inputs.sla))
    if policy.require_no_critical_alert:
        if inputs.critical_alerts:
            shown = "; ".join(inputs.critical_alerts[:3])
            more = f" (and {len(inputs.critical_alerts) - 3} more)" if len(inputs.critical_alerts) > 3 else ""
            results.append(
                GateResult("critical_alerts", "no open critical alert", GateStatus.FAILED, shown + more)
            )
        else:
            results.append(
                GateResult("critical_alerts", "no open critical alert", GateStatus.PASSED, "none open")
            )
    return tuple(results)


def gates_pass(results: tuple[GateResult, ...]) -> bool:
    return all(result.status is GateStatus.PASSED for result in results)
