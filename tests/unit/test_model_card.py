"""The model card's wording, from versions trained for real on small synthetic tables.

Each version goes through the same JSON round trip as the registry (metrics,
lineage, chart data), so the card is tested on what it will actually read.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from steward.core.domain.model_card import (
    allowed_values,
    build_model_card,
    calibration_gap,
    compare_versions,
    deployed_versions,
    feature_label,
    format_metric,
    is_better,
    metric_label,
    previous_version,
    recall_of,
)
from steward.core.domain.registry import PipelineVersion
from steward.core.pipelines.spec import PipelineSpec, parse_spec
from steward.core.pipelines.training import train

TRAINED_AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)

CLASSIFIER = """
spec_version = 1
[pipeline]
name = "churn"
owner = "retention"
task = "classification"
target = "churned"
positive_class = 1
description = "{description}"
[source]
type = "file"
path = "churn/train.csv"
[training]
seed = 3
holdout = {holdout}
[schema]
columns = [
  {{ name = "tenure", kind = "numeric", min = 0, max = 100, description = "months as a customer" }},
  {{ name = "complaints", kind = "numeric", min = 0 }},
  {{ name = "sex", kind = "categorical", categories = [1, 2] }},
]
[model]
estimator = "LogisticRegression"
params = {{ C = {c} }}
[[preprocess]]
name = "numbers"
columns = ["tenure", "complaints"]
steps = ["StandardScaler"]
[[preprocess]]
name = "profile"
columns = ["sex"]
steps = ["OneHotEncoder"]
"""

REGRESSOR = """
spec_version = 1
[pipeline]
name = "rides"
owner = "operations"
task = "regression"
target = "rides"
description = "Rides per hour."
[source]
type = "file"
path = "rides/train.csv"
[training]
seed = 3
holdout = 0.25
split = "ordered"
order_by = "hour_index"
[schema]
columns = [
  { name = "temp", kind = "numeric", min = -20, max = 45 },
  { name = "rain", kind = "boolean" },
]
[model]
estimator = "Ridge"
params = { alpha = 1.0 }
[[preprocess]]
name = "all"
columns = ["temp", "rain"]
steps = ["StandardScaler"]
"""


def classifier_spec(
    *,
    description: str = "Customers who leave within a month (survey of 2019).",
    holdout: float = 0.2,
    c: float = 1.0,
) -> PipelineSpec:
    return parse_spec(CLASSIFIER.format(description=description, holdout=holdout, c=c))


def churn_frame(rows: int = 600, *, seed: int = 0, signal: float = 1.0) -> pd.DataFrame:
    """About a fifth churn; more complaints and a shorter tenure make churn likelier (scaled by ``signal``)."""
    rng = np.random.default_rng(seed)
    tenure = rng.uniform(0, 100, rows)
    complaints = rng.poisson(1.0, rows).astype(float)
    sex = rng.choice([1, 2], rows)
    logit = -1.6 + signal * (1.2 * (complaints - 1.0) - 0.04 * (tenure - 50))
    churned = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"tenure": tenure, "complaints": complaints, "sex": sex, "churned": churned})


def as_version(
    spec: PipelineSpec, data: pd.DataFrame, *, number: int = 1, importances: bool = False, **changes: Any
) -> PipelineVersion:
    """Train for real and store like the registry does (JSON round trip of metrics, lineage, charts)."""
    result = json.loads(
        json.dumps(train(spec, data, source=f"file:{spec.source.path}", importances=importances).to_dict())
    )
    version = PipelineVersion(
        id=f"id-{number}",
        pipeline_id=1,
        pipeline_name=spec.name,
        number=number,
        origin="trained",
        status="ready",
        artifact_uri=f"{spec.name}/v{number}.skops",
        artifact_sha256="ab" * 32,
        artifact_size=1000,
        spec=spec.to_dict(),
        spec_digest=spec.digest(),
        schema=spec.schema.to_dict(),
        data_digest=result["lineage"]["data_digest"],
        data_rows=result["lineage"]["data_rows"],
        metrics=result["metrics"],
        lineage=result["lineage"],
        charts=result["charts"],
        warnings=tuple(result["warnings"]),
        trained_by="dana",
        trained_at=TRAINED_AT,
    )
    return dataclasses.replace(version, **changes)


def text(card: Any) -> str:
    return card.to_text()


@pytest.fixture(scope="module")
def churn() -> PipelineVersion:
    return as_version(classifier_spec(), churn_frame())


def holdout_counts(version: PipelineVersion) -> tuple[int, int, int]:
    """(actual negatives, actual positives, caught positives) from the recorded confusion matrix."""
    matrix = version.charts["confusion"]["matrix"]
    return sum(matrix[0]), sum(matrix[1]), matrix[1][1]


# ---- classification -------------------------------------------------------------------------------
def test_auc_is_a_sentence_about_pairs_of_cases(churn: PipelineVersion) -> None:
    card = build_model_card(churn)
    auc = churn.metrics["roc_auc"]
    assert auc is not None and auc > 0.6
    assert (
        f"Ranking (ROC AUC {auc:.2f}): given a random case with churned = 1 and a random case with "
        f"churned = 0, the model gives the first the higher score {auc * 100:.0f}% of the time. "
        "50% would be a coin toss, 100% perfect."
    ) in card.section("How well it works").paragraphs
    assert card.summary.startswith(
        f"In short: in {auc * 100:.0f}% of random pairs, v1 ranks the case with churned = 1"
    )
    assert card.title == "churn v1"
    assert "trained 2026-11-26 by dana" in card.subtitle


def test_accuracy_is_set_against_always_answering_the_majority_class(churn: PipelineVersion) -> None:
    negatives, positives, _ = holdout_counts(churn)
    base = negatives / (negatives + positives)
    accuracy = churn.metrics["accuracy"]
    assert accuracy is not None
    paragraph = next(
        p
        for p in build_model_card(churn).section("How well it works").paragraphs
        if p.startswith("Right answers")
    )
    assert f"{base * 100:.1f}% of the test cases are churned = 0" in paragraph
    assert f"always answering 0 would already be right {base * 100:.1f}% of the time" in paragraph
    gain = accuracy - base
    if gain > 0.01:
        assert f"The model adds {gain * 100:.1f} percentage points to that." in paragraph
    else:
        assert "does no better than that rule" in paragraph


def test_a_model_that_learned_nothing_is_not_oversold() -> None:
    """Noise features, 15% positives: high accuracy that only repeats the majority answer."""
    rng = np.random.default_rng(5)
    rows = 800
    frame = pd.DataFrame(
        {
            "tenure": rng.uniform(0, 100, rows),
            "complaints": rng.poisson(1.0, rows).astype(float),
            "sex": rng.choice([1, 2], rows),
            "churned": (rng.uniform(size=rows) < 0.15).astype(int),
        }
    )
    version = as_version(classifier_spec(), frame)
    card = build_model_card(version)
    words = text(card)
    assert version.metrics["accuracy"] is not None and version.metrics["accuracy"] > 0.8  # looks good...
    assert "The model does no better than that rule on this measure" in words  # ...and is not
    negatives, positives, _ = holdout_counts(version)
    assert f"Only {positives / (negatives + positives) * 100:.1f}% of cases are churned = 1" in words
    assert recall_of(version) is not None and recall_of(version) < 0.1
    figure = {f.label: f for f in card.key_figures}
    assert figure["Right answers"].meaning.startswith("always answering 0: ")


def test_recall_and_false_alarms_are_counted_in_cases(churn: PipelineVersion) -> None:
    _, positives, caught = holdout_counts(churn)
    paragraph = next(
        p for p in build_model_card(churn).section("How well it works").paragraphs if p.startswith("Catching")
    )
    assert (
        f"of the {positives:,} test cases with churned = 1, the model's most likely answer catches {caught:,}"
        in paragraph
    )
    assert f"misses {positives - caught:,}" in paragraph
    assert "a lower cut-off catches more cases at the price of more false alarms" in paragraph
    assert recall_of(churn) == pytest.approx(caught / positives)


def test_limits_name_imbalance_small_test_set_period_fairness_and_schema(churn: PipelineVersion) -> None:
    limits = build_model_card(churn).section("Known limits").bullets
    joined = "\n".join(limits)
    assert any(limit.startswith("Only ") and "of cases are churned = 1" in limit for limit in limits)
    assert f"Only {churn.lineage['split']['holdout_rows']} test cases" in joined  # 120 < 200
    assert "It learned from only 600 rows." in joined
    assert "The description mentions 2019: if the data is from then, it was about 7 years old" in joined
    assert "No fairness assessment has been recorded" in joined
    assert "The inputs include sex, which may be protected characteristics" in joined
    assert "for example tenure must be from 0 to 100; sex must be one of 1, 2" in joined
    assert "cases of the same data it learned from, not from live use" in joined


def test_recorded_warnings_and_uploads_become_limits(churn: PipelineVersion) -> None:
    warned = dataclasses.replace(
        churn,
        origin="uploaded",
        warnings=(
            "uploaded: fitted outside Steward, evaluated on the spec's hold-out",
            "ConvergenceWarning: lbfgs failed to converge",
        ),
    )
    limits = build_model_card(warned).section("Known limits").bullets
    assert "Training reported: ConvergenceWarning: lbfgs failed to converge" in limits
    assert any("fitted outside Steward and uploaded" in limit for limit in limits)
    assert not any(limit.startswith("Training reported: uploaded") for limit in limits)


def test_weights_say_which_way_an_input_pushes(churn: PipelineVersion) -> None:
    section = build_model_card(churn).section("What it relies on")
    bullets = "\n".join(section.bullets)
    assert "complaints: a higher value makes churned = 1 more likely" in section.bullets
    assert "tenure (months as a customer): a higher value makes churned = 1 less likely" in section.bullets
    assert "sex = 2: makes churned = 1 " in bullets  # a one-hot feature reads as its category
    assert "__" not in bullets
    assert section.after == (
        "This shows what the model relies on, not what causes churned: an input can matter because it goes along with the real cause.",
    )
    assert section.charts == ("importance",)


def test_permutation_importance_names_input_columns_when_recorded() -> None:
    version = as_version(classifier_spec(), churn_frame(), importances=True)
    section = build_model_card(version).section("What it relies on")
    assert section.paragraphs[0].startswith("The inputs that matter most, measured by how much worse")
    assert section.bullets[0] in {"complaints", "tenure (months as a customer)"}


def test_calibration_is_described_as_chances_or_not(churn: PipelineVersion) -> None:
    gap = calibration_gap(churn.charts["calibration"])
    assert gap is not None
    words = text(build_model_card(churn))
    if gap <= 0.05:
        assert f"within {gap * 100:.1f} percentage points of how often churned = 1 actually happened" in words
    skewed = dataclasses.replace(
        churn,
        charts={
            **churn.charts,
            "calibration": [{"mean_predicted": 0.9, "fraction_positive": 0.3, "count": 10}],
        },
    )
    limits = build_model_card(skewed).section("Known limits").bullets
    assert "Its probabilities are not reliable chances (off by 60.0 points on average)." in limits


def test_card_charts_follow_the_task(churn: PipelineVersion) -> None:
    assert build_model_card(churn).section("How well it works").charts == ("roc", "calibration", "confusion")


# ---- comparing versions ---------------------------------------------------------------------------
def test_a_better_version_on_the_same_data_is_a_fair_comparison(churn: PipelineVersion) -> None:
    weaker = as_version(classifier_spec(c=0.0001), churn_frame(), number=1)
    stronger = dataclasses.replace(churn, number=2, id="id-2")
    comparison = compare_versions(stronger, weaker)
    assert comparison.metric == "roc_auc" and comparison.fair
    assert comparison.better is (stronger.metrics["roc_auc"] > weaker.metrics["roc_auc"])
    card = build_model_card(stronger, weaker)
    section = card.section("Compared with v1")
    verdict = "better than" if comparison.better else "worse than"
    assert section.paragraphs[0].startswith(f"On ROC AUC, v2 is {verdict} v1: ")
    assert section.paragraphs[1] == "Both were tested on exactly the same cases, so the comparison is fair."
    assert f"It is {verdict} v1 on ROC AUC on the same test cases." in card.summary
    auc = {f.label: f for f in card.key_figures}["Ranking (ROC AUC)"]
    assert auc.delta is not None and auc.delta.endswith("vs v1")


def test_versions_on_different_data_are_compared_with_a_warning(churn: PipelineVersion) -> None:
    other = as_version(classifier_spec(), churn_frame(seed=9), number=2)
    section = build_model_card(other, churn).section("Compared with v1")
    assert "learned from different data" in section.paragraphs[1]
    assert "indicative only" in section.paragraphs[1]
    assert not compare_versions(other, churn).fair


def test_previous_version_is_the_one_just_before(churn: PipelineVersion) -> None:
    v2 = dataclasses.replace(churn, number=2, id="2")
    v3 = dataclasses.replace(churn, number=3, id="3")
    assert previous_version([v3, churn, v2], v3) is v2
    assert previous_version([v3, churn, v2], churn) is None


def test_feature_labels_drop_the_group_and_name_the_category() -> None:
    assert feature_label("amounts__LIMIT_BAL", ["SEX"]) == ("LIMIT_BAL", None)
    assert feature_label("profile__SEX_2", ["SEX"]) == ("SEX", "2")
    assert feature_label("profile__PAY_0_3", ["PAY", "PAY_0"]) == ("PAY_0", "3")  # longest column wins
    assert feature_label("plain") == ("plain", None)


def test_metric_rules() -> None:
    assert is_better("log_loss", 0.4, 0.5) is True
    assert is_better("roc_auc", 0.7, 0.77) is False
    assert is_better("rmse", 5.0, 5.0) is None
    assert is_better("r2", None, 0.5) is None
    assert metric_label("rmse", short=True) == "RMSE"
    assert metric_label("log_loss", direction=True) == "Log loss (lower is better)"
    assert format_metric("mae", 31.77) == "31.8" and format_metric("roc_auc", 0.77329) == "0.773"
    assert format_metric("f1", None) == "-"
    assert deployed_versions({"dev": 2, "staging": 2, "prod": 1}) == {2: ["dev", "staging"], 1: ["prod"]}
    assert allowed_values({"kind": "integer", "min": 18, "max": 120}) == "18 to 120"
    assert allowed_values({"kind": "numeric", "min": 0}) == "0 or more"
    assert allowed_values({"kind": "categorical", "categories": [1, 2]}) == "one of 1, 2"
    assert allowed_values({"kind": "boolean"}) == "true or false"
    assert allowed_values({"kind": "numeric"}) == "any number"


# ---- regression -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rides() -> PipelineVersion:
    rng = np.random.default_rng(1)
    rows = 400
    temp = rng.uniform(-5, 35, rows)
    rain = rng.choice([0, 1], rows, p=[0.8, 0.2])
    frame = pd.DataFrame(
        {
            "hour_index": np.arange(rows),
            "temp": temp,
            "rain": rain,
            "rides": 100 + 6 * temp - 60 * rain + rng.normal(0, 20, rows),
        }
    )
    return as_version(parse_spec(REGRESSOR), frame)


def test_regression_errors_are_in_the_targets_units_and_r2_is_a_share(rides: PipelineVersion) -> None:
    card = build_model_card(rides)
    mae, r2 = rides.metrics["mae"], rides.metrics["r2"]
    assert mae is not None and r2 is not None and r2 > 0.5
    paragraphs = card.section("How well it works").paragraphs
    assert paragraphs[0].startswith(
        f"Typical miss (mean absolute error {mae:.1f}): on average the estimate is {mae:.1f} away from the actual rides, in the same units as rides."
    )
    assert "so the typical miss is about" in paragraphs[0]
    assert any(
        p.startswith("Half of the estimates are within ") and "and 9 in 10 within" in p for p in paragraphs
    )
    assert (
        f"Share of variation explained (R² {r2:.2f}): the model accounts for {r2 * 100:.0f}% of how much rides varies"
        in "\n".join(paragraphs)
    )
    figures = {f.label: f for f in card.key_figures}
    assert figures["Typical miss (MAE)"].higher_is_better is False
    assert figures["Variation explained (R²)"].value == f"{r2 * 100:.0f}%"
    assert card.section("How well it works").charts == ("residuals", "residual_histogram")
    assert card.summary.startswith(
        f"In short: v1 estimates rides with a typical miss of {mae:.1f} and explains {r2 * 100:.0f}%"
    )


def test_regression_card_describes_the_ordered_split_and_its_limits(rides: PipelineVersion) -> None:
    card = build_model_card(rides)
    learned = card.section("What it learned from").paragraphs
    assert "the last 100 rows when sorted by hour_index (the most recent)" in learned[1]
    assert learned[0] == "400 rows from the file rides/train.csv, trained on 2026-11-26 by dana."
    limits = "\n".join(card.section("Known limits").bullets)
    assert "The figures come from the latest 100 rows of the training data, not from live use." in limits
    assert "The period the data covers is not recorded." in limits
    assert "The inputs include" not in limits  # nothing that looks like a protected characteristic
    assert (
        "It gives one number, without a range of uncertainty."
        in card.section("What it predicts").paragraphs[1]
    )
    assert "linear regression (ridge)" in card.section("What it predicts").paragraphs[2]


def test_a_multiclass_card_speaks_of_values_not_of_a_positive_class() -> None:
    spec = parse_spec(
        CLASSIFIER.format(description="Plan chosen.", holdout=0.25, c=1.0)
        .replace('target = "churned"', 'target = "plan"')
        .replace("positive_class = 1\n", "")
    )
    frame = churn_frame(900).drop(columns="churned")
    frame["plan"] = np.where(
        frame["complaints"] > 1, "basic", np.where(frame["tenure"] > 50, "premium", "plus")
    )
    card = build_model_card(as_version(spec, frame))
    assert (
        "it picks one of 3 possible values of plan (basic, plus, premium)"
        in card.section("What it predicts").paragraphs[1]
    )
    assert card.summary.startswith("In short: v1 picks the right value of plan for ")
    assert (
        "confusion" in card.section("How well it works").charts
        and "roc" not in card.section("How well it works").charts
    )


def test_the_text_export_has_every_section(churn: PipelineVersion) -> None:
    exported = text(build_model_card(churn))
    for heading in (
        "What it predicts",
        "What it learned from",
        "How well it works",
        "What it relies on",
        "Known limits",
    ):
        assert f"\n{heading}\n" in exported
    assert exported.startswith("churn v1\n")


def test_an_identical_version_shows_no_change_arrows(churn: PipelineVersion) -> None:
    """An upload of the same model: equal figures must not look like an improvement or a regression."""
    same = dataclasses.replace(churn, number=2, id="id-2", origin="uploaded")
    card = build_model_card(same, churn)
    assert all(figure.delta is None for figure in card.key_figures)
    assert "It is level with v1 on ROC AUC on the same test cases." in card.summary
    assert card.section("Compared with v1").paragraphs[0].startswith("On ROC AUC, v2 is the same as v1")


def test_a_retrained_version_says_where_its_production_data_and_outcomes_came_from(
    churn: PipelineVersion,
) -> None:
    lineage = dict(churn.lineage) | {
        "retrained_from": {
            "environment": "Prod",
            "dataset": "churn/production",
            "labels": "churn/outcomes",
            "id_column": "customer_id",
            "labelled_rows": 600,
            "unlabelled_rows": 45,
        }
    }
    retrained = dataclasses.replace(churn, origin="retrained", lineage=lineage)
    paragraphs = build_model_card(retrained).section("What it learned from").paragraphs
    assert (
        "It was retrained on production data from Prod, whose outcomes arrived later in churn/outcomes and "
        "were matched on customer_id; 45 rows without an outcome yet were left out." in paragraphs
    )
    assert not any(
        "retrained" in p for p in build_model_card(churn).section("What it learned from").paragraphs
    )
