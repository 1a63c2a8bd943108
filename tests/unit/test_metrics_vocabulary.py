"""The one metric vocabulary: consistent in itself, and the only one gates, cards and performance use."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from steward.core.domain import metrics as vocabulary
from steward.core.domain.gates import GateInputs, GatePolicy, evaluate_gates, threshold_title
from steward.core.domain.metrics import (
    METRICS,
    PRIMARY_METRIC,
    TRAINING_METRICS,
    Direction,
    Scale,
    format_metric,
    higher_is_better,
    is_better,
    metric_label,
    metric_phrase,
    ordered_metrics,
)
from steward.core.drift.performance import compute_metrics, realised_performance
from steward.core.errors import InvalidInput
from testkit import REPO_ROOT

STEWARD = REPO_ROOT / "steward"


def test_every_metric_is_named_once_with_a_direction_a_scale_and_a_task() -> None:
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
    for m in METRICS:
        assert m.label and m.short_label and m.tasks
        assert m.direction in Direction and m.scale in Scale
        # Errors are the lower-is-better ones, and only they are in the target's units.
        assert (m.scale is Scale.TARGET) <= (m.direction is Direction.LOWER)
    assert set(PRIMARY_METRIC.values()) <= set(TRAINING_METRICS)


def test_training_records_exactly_the_training_metrics() -> None:
    """The vocabulary's ``training`` flag matches what evaluation really computes on a hold-out."""
    from steward.core.pipelines import training

    y = np.array([0, 1, 1, 0, 1, 0])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4], [0.7, 0.3], [0.8, 0.2]])
    classified, _ = training._classification_metrics(y, proba, (0, 1), 1)
    regressed = training._regression_metrics(np.array([1.0, 2, 3, 5]), np.array([1.5, 2, 2.5, 4]))
    assert set(classified) | set(regressed) == set(TRAINING_METRICS)
    assert set(classified) == {m.name for m in METRICS if m.training and "classification" in m.tasks}


def test_realised_performance_names_only_metrics_the_vocabulary_knows() -> None:
    truth = np.array([0, 1, 1, 0, 1, 0])
    score = np.array([0.1, 0.8, 0.7, 0.4, 0.3, 0.2])
    classified = compute_metrics("classification", truth, (score > 0.5).astype(int), score)
    regressed = compute_metrics("regression", np.array([1.0, 2, 3, 5]), np.array([1.5, 2, 2.5, 4]))
    assert set(classified) | set(regressed) <= set(vocabulary.BY_NAME)


def test_labels_phrases_and_directions() -> None:
    assert metric_label("rmse") == "Root mean squared error" and metric_label("rmse", short=True) == "RMSE"
    assert metric_label("log_loss", direction=True) == "Log loss (lower is better)"
    assert metric_label("roc_auc", direction=True) == "ROC AUC"
    assert [metric_phrase(n) for n in ("accuracy", "roc_auc", "log_loss", "mae", "r2", "f1_macro")] == [
        "accuracy",
        "ROC AUC",
        "log loss",
        "MAE",
        "R²",
        "macro F1",
    ]
    assert metric_label("made_up") == "made_up" and metric_phrase("made_up") == "made_up"
    assert not higher_is_better("rmse") and higher_is_better("r2") and higher_is_better("made_up")


def test_formats_and_comparisons() -> None:
    assert format_metric("mae", 1234.56) == "1,234.6" and format_metric("roc_auc", 0.77329) == "0.773"
    assert format_metric("f1", None) == "-" and format_metric("rmse", math.nan) == "-"
    assert is_better("rmse", 40.0, 50.0) is True and is_better("roc_auc", 0.6, 0.7) is False
    assert is_better("rmse", 40.0, 40.0) is None and is_better("made_up", 1.0, 2.0) is None
    assert ordered_metrics({"r2": 1, "zeta": 2, "mae": 3, "alpha": 4}) == ["mae", "r2", "alpha", "zeta"]


def test_gates_speak_the_vocabulary() -> None:
    assert threshold_title("rmse", 60) == "RMSE at most 60"
    assert threshold_title("accuracy", 0.7) == "accuracy at least 0.7"
    policy = GatePolicy.build(
        {"mae": 30.0}, max_regression_pct=None, require_load_test=False, require_no_critical_alert=False
    )
    (result,) = evaluate_gates(policy, GateInputs(metrics={"mae": 31.0}, primary_metric="rmse"))
    assert result.title == "MAE at most 30" and result.status.value == "failed"
    with pytest.raises(InvalidInput, match="known metrics: accuracy, f1, log_loss, mae, r2, rmse, roc_auc"):
        GatePolicy.build(
            {"f1_macro": 0.5},
            max_regression_pct=None,
            require_load_test=False,
            require_no_critical_alert=False,
        )


def test_realised_performance_judges_by_the_vocabulary_direction() -> None:
    """An error rising by more than 10 % degrades; a score falling by more than 0.05 points does."""
    import pandas as pd

    ids = [str(i) for i in range(40)]
    predictions = pd.DataFrame({"id": ids, "p": [10.0] * 40})
    labels = pd.DataFrame({"id": ids, "y": [10.0, 14.0] * 20})
    report = realised_performance(
        predictions,
        labels,
        task="regression",
        id_column="id",
        prediction_column="p",
        label_column="y",
        baseline={"mae": 1.5},
        min_rows=10,
    )
    (window,) = report.windows
    assert window.status == "degraded" and "mae" in window.reason  # 2.0 against 1.5 (+33 %)


def _names_defined(path: Path) -> set[str]:
    """Functions and tables a module defines at its top level."""
    tree = ast.parse(path.read_text())
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def test_no_module_but_the_vocabulary_keeps_a_table_of_metric_facts() -> None:
    facts = {
        "metric_label",
        "METRIC_LABELS",
        "METRIC_SHORT",
        "METRIC_ORDER",
        "HIGHER_IS_BETTER",
        "LOWER_IS_BETTER",
        "PRIMARY_METRIC",
        "higher_is_better",
        "format_metric",
        "BOUNDED",
    }
    owner = STEWARD / "core" / "domain" / "metrics.py"
    offenders = {
        f"{path.relative_to(STEWARD)}: {name}"
        for path in STEWARD.rglob("*.py")
        if path != owner
        for name in _names_defined(path) & facts
    }
    # charts_deployments keeps a chart-only BOUNDED set (the Approvals chart, another helper's room).
    assert offenders <= {"app/ui/charts_deployments.py: BOUNDED"}, offenders


@pytest.mark.parametrize(
    "consumer",
    [
        "core/domain/gates.py",
        "core/domain/model_card/__init__.py",
        "core/drift/performance.py",
        "core/domain/policy_rules.py",
        "app/ui/policies.py",
        "app/ui/evidence.py",
        "core/adapters/certificates.py",
    ],
)
def test_each_consumer_imports_the_vocabulary(consumer: str) -> None:
    tree = ast.parse((STEWARD / consumer).read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "steward.core.domain.metrics" in modules
