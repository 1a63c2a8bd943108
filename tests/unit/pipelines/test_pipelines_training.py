"""Training: schema check before fit, a recorded deterministic split, metrics, lineage, chart data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pipelines_testdata import SMALL_SPEC, SPECS

from steward.core.errors import InvalidInput
from steward.core.pipelines.digest import frame_digest
from steward.core.pipelines.spec import PipelineSpec, load_spec, parse_spec
from steward.core.pipelines.training import RESIDUAL_SAMPLE, ROC_POINTS, TOP_FEATURES, train


def test_same_spec_and_data_give_the_same_digest_split_and_metrics_twice(
    small_spec: PipelineSpec, toy: pd.DataFrame
) -> None:
    first = train(small_spec, toy, code_version="abc123")
    second = train(small_spec, toy.copy(), code_version="abc123")
    assert first.lineage.data_digest == second.lineage.data_digest
    assert first.lineage.split == second.lineage.split
    assert first.metrics == second.metrics
    assert first.to_dict()["charts"] == second.to_dict()["charts"]
    np.testing.assert_array_equal(first.pipeline.predict_proba(toy), second.pipeline.predict_proba(toy))


def test_a_real_data_spec_trains_deterministically_with_a_tree_ensemble(credit_sample: pd.DataFrame) -> None:
    text = (SPECS / "credit_default_v2.toml").read_text()
    text = text.replace("max_iter = 300", "max_iter = 40")
    spec = parse_spec(text)
    first, second = (
        train(spec, credit_sample, importances=False),
        train(spec, credit_sample, importances=False),
    )
    assert first.metrics == second.metrics
    assert first.lineage.data_digest == second.lineage.data_digest
    assert 0.6 < (first.metrics["roc_auc"] or 0) < 0.95


def test_the_digest_depends_on_row_order_and_values_not_on_extra_columns(
    small_spec: PipelineSpec, toy: pd.DataFrame
) -> None:
    base = train(small_spec, toy, importances=False).lineage.data_digest
    reordered = toy.iloc[::-1].reset_index(drop=True)
    assert train(small_spec, reordered, importances=False).lineage.data_digest != base
    amounts = toy["amount"].to_numpy(copy=True)
    amounts[0] += 1
    changed = toy.assign(amount=amounts)
    assert train(small_spec, changed, importances=False).lineage.data_digest != base
    assert train(small_spec, toy.assign(note="x"), importances=False).lineage.data_digest == base


def test_classification_metrics_and_chart_data_are_small_and_json(
    small_spec: PipelineSpec, toy: pd.DataFrame
) -> None:
    result = train(small_spec, toy)
    assert set(result.metrics) == {"accuracy", "roc_auc", "f1", "log_loss"}
    assert 0.7 < (result.metrics["roc_auc"] or 0) <= 1.0
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    charts = data["charts"]
    assert len(charts["roc"]["fpr"]) <= ROC_POINTS and charts["roc"]["fpr"][0] == 0.0
    assert sum(b["count"] for b in charts["calibration"]) == result.lineage.split.holdout_rows
    assert np.sum(charts["confusion"]["matrix"]) == result.lineage.split.holdout_rows
    assert charts["feature_importances"]["kind"] == "coefficient"
    assert len(charts["feature_importances"]["features"]) <= TOP_FEATURES
    assert set(charts["permutation_importances"]["features"]) == set(small_spec.schema.names)
    assert charts["residuals"] is None
    assert _longest_list(charts) <= ROC_POINTS  # aggregates only, whatever the hold-out size


def _longest_list(node: object) -> int:
    if isinstance(node, dict):
        return max((_longest_list(v) for v in node.values()), default=0)
    if isinstance(node, list):
        return max([len(node), *(_longest_list(v) for v in node)])
    return 0


def test_lineage_records_everything_but_who_and_when(small_spec: PipelineSpec, toy: pd.DataFrame) -> None:
    lineage = train(small_spec, toy, source="file:toy.csv", code_version="0" * 40).to_dict()["lineage"]
    assert lineage["spec"] == small_spec.to_dict() and lineage["spec_digest"] == small_spec.digest()
    assert lineage["estimator"] == "LogisticRegression"
    assert lineage["model_params"]["C"] == 1.0 and lineage["model_params"]["random_state"] == 7
    assert {"python", "scikit-learn", "skops", "numpy", "pandas"} <= set(lineage["library_versions"])
    assert lineage["code_version"] == "0" * 40 and lineage["source"] == "file:toy.csv"
    assert lineage["data_rows"] == 400 and lineage["data_columns"] == [
        "amount",
        "age",
        "colour",
        "member",
        "y",
    ]
    assert lineage["classes"] == [0, 1] and lineage["positive_class"] == 1
    split = lineage["split"]
    assert split["method"] == "random" and split["seed"] == 7 and split["stratified"] is True
    assert split["holdout_rows"] == 100 and split["train_rows"] == 300
    assert len(split["holdout_positions"]) == 100 and split["holdout_positions"] == sorted(
        split["holdout_positions"]
    )


def test_the_code_version_is_optional(small_spec: PipelineSpec, toy: pd.DataFrame) -> None:
    assert train(small_spec, toy, importances=False).lineage.code_version is None


def test_the_data_digest_is_the_documented_canonical_one(small_spec: PipelineSpec, toy: pd.DataFrame) -> None:
    result = train(small_spec, toy, importances=False)
    expected = small_spec.schema.coerce(toy).assign(y=toy["y"].to_numpy())
    assert result.lineage.data_digest == frame_digest(expected)


def test_a_stratified_split_keeps_the_class_balance(small_spec: PipelineSpec, toy: pd.DataFrame) -> None:
    result = train(small_spec, toy, importances=False)
    holdout = toy["y"].to_numpy()[list(result.lineage.split.holdout_positions)]
    assert abs(holdout.mean() - toy["y"].mean()) < 0.01


def test_an_ordered_split_holds_out_the_last_rows_by_the_order_column(
    small_spec: PipelineSpec, toy: pd.DataFrame
) -> None:
    text = SMALL_SPEC.replace("holdout = 0.25", 'holdout = 0.25\nsplit = "ordered"\norder_by = "id"')
    shuffled = toy.sample(frac=1.0, random_state=3).reset_index(drop=True)
    result = train(parse_spec(text), shuffled, importances=False)
    held_ids = shuffled["id"].to_numpy()[list(result.lineage.split.holdout_positions)]
    assert sorted(held_ids.tolist()) == list(range(300, 400))
    assert result.lineage.split.stratified is False


def test_text_labels_and_an_explicit_positive_class(toy: pd.DataFrame) -> None:
    text = SMALL_SPEC.replace('target = "y"', 'target = "y"\npositive_class = "no"')
    labelled = toy.assign(y=np.where(toy["y"] == 1, "yes", "no"))
    result = train(parse_spec(text), labelled, importances=False)
    assert result.lineage.classes == ("no", "yes") and result.lineage.positive_class == "no"
    assert set(result.pipeline.predict(labelled.head(20))) <= {"no", "yes"}
    wrong = SMALL_SPEC.replace('target = "y"', 'target = "y"\npositive_class = "maybe"')
    with pytest.raises(InvalidInput, match="positive_class 'maybe' is not a class of target 'y'"):
        train(parse_spec(wrong), labelled)


def test_multiclass_targets_get_macro_f1_and_ovr_auc(toy: pd.DataFrame) -> None:
    multi = toy.assign(y=pd.cut(toy["amount"], [0, 120, 250, np.inf], labels=False).astype("int64"))
    result = train(parse_spec(SMALL_SPEC), multi, importances=False)
    assert result.lineage.classes == (0, 1, 2) and result.lineage.positive_class is None
    assert result.metrics["roc_auc"] is not None and result.charts.roc is None
    assert np.asarray(result.charts.confusion["matrix"]).shape == (3, 3)  # type: ignore[index]


REGRESSION = """
spec_version = 1
[pipeline]
name = "toy-regression"
owner = "tests"
task = "regression"
target = "y"
[source]
type = "file"
path = "toy.csv"
[schema]
columns = [
  { name = "x", kind = "numeric" },
  { name = "group", kind = "categorical" },
]
[model]
estimator = "ESTIMATOR"
[[preprocess]]
name = "numbers"
columns = ["x"]
steps = ["StandardScaler"]
[[preprocess]]
name = "codes"
columns = ["group"]
steps = ["OneHotEncoder"]
"""


@pytest.mark.parametrize(
    "estimator",
    ["Ridge", "RandomForestRegressor", "HistGradientBoostingRegressor", "GradientBoostingRegressor"],
)
def test_regression_metrics_residual_sample_and_importances(estimator: str) -> None:
    rng = np.random.default_rng(0)
    rows = 3000
    x = rng.normal(size=rows)
    group = rng.choice(["a", "b"], size=rows)
    frame = pd.DataFrame(
        {"x": x, "group": group, "y": 3 * x + (group == "a") + rng.normal(scale=0.3, size=rows)}
    )
    text = REGRESSION.replace("ESTIMATOR", estimator)
    if estimator != "Ridge":
        text = text.replace(
            f'estimator = "{estimator}"', f'estimator = "{estimator}"\nparams = {{ {_small(estimator)} }}'
        )
    result = train(parse_spec(text), frame)
    assert set(result.metrics) == {"mae", "rmse", "r2"}
    assert (result.metrics["r2"] or 0) > 0.8
    residuals = result.charts.residuals
    assert residuals is not None and len(residuals["predicted"]) == RESIDUAL_SAMPLE == len(
        residuals["actual"]
    )
    assert residuals["sampled_from"] == 600
    assert result.charts.permutation_importances is not None
    assert result.charts.permutation_importances["features"][0] == "x"
    native = result.charts.feature_importances
    assert (native is None) == (estimator == "HistGradientBoostingRegressor")


def _small(estimator: str) -> str:
    return "max_iter = 30" if estimator.startswith("Hist") else "n_estimators = 20, max_depth = 4"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=["colour"]), "column 'colour' is required but missing"),
        (lambda f: f.drop(columns=["y"]), "training data has no target column 'y'"),
        (lambda f: f.assign(y=0), r"target 'y' has one class \(0\); classification needs at least two"),
        (lambda f: f.assign(amount=f["amount"].where(f.index != 5)), "column 'amount': missing values"),
        (
            lambda f: f.assign(amount=f["amount"].where(f.index != 9, np.inf)),
            "column 'amount': infinite values",
        ),
        (lambda f: f.assign(age=f["age"].where(f.index != 3, -np.inf)), "column 'age': infinite values"),
        (lambda f: f.assign(amount=f["amount"].astype(str)), "column 'amount': values are not numbers"),
        (lambda f: f.assign(colour="purple"), "column 'colour': values are not allowed categories"),
        (lambda f: f.assign(y=f["y"].astype(float).where(f.index != 2)), "target 'y' has 1 missing values"),
        (lambda f: f.assign(y=f["y"] + 0.5), "target 'y' must hold class labels"),
        (lambda f: f.assign(y=np.arange(len(f))), "has 400 classes; the limit is 100"),
        (lambda f: f.head(10), "training data has 10 rows; at least 20 are needed"),
        (lambda f: f.assign(y=[1] + [0] * (len(f) - 1)), "class 1 has one row; a stratified split needs"),
    ],
)
def test_bad_training_data_is_refused_naming_the_problem(
    small_spec: PipelineSpec, toy: pd.DataFrame, change: object, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        train(small_spec, change(toy))  # type: ignore[operator]
    assert "\n" not in str(caught.value)


def test_a_regression_target_must_be_finite_numbers() -> None:
    frame = pd.DataFrame({"x": np.arange(40.0), "group": ["a", "b"] * 20, "y": np.arange(40.0)})
    spec = parse_spec(REGRESSION.replace("ESTIMATOR", "Ridge"))
    with pytest.raises(InvalidInput, match="target 'y' has infinite values"):
        train(spec, frame.assign(y=frame["y"].where(frame.index != 4, np.inf)))
    with pytest.raises(InvalidInput, match="target 'y' must be numeric for regression"):
        train(spec, frame.assign(y=frame["y"].astype(str)))


def test_sklearn_refusals_during_fit_become_one_line_input_errors(toy: pd.DataFrame) -> None:
    text = SMALL_SPEC.replace(
        "C = 1.0, max_iter = 500", 'C = 1.0, max_iter = 500, solver = "liblinear", l1_ratio = 0.5'
    )
    with pytest.raises(InvalidInput, match="training LogisticRegression failed: ") as caught:
        train(parse_spec(text), toy)
    assert "\n" not in str(caught.value)


def test_convergence_warnings_are_recorded_not_printed(toy: pd.DataFrame) -> None:
    text = SMALL_SPEC.replace("max_iter = 500", "max_iter = 1")
    result = train(parse_spec(text), toy, importances=False)
    assert any("ConvergenceWarning" in warning for warning in result.warnings)


def test_the_demo_spec_trains_on_the_committed_data() -> None:
    """The real credit spec on the real 24,000 rows: the demo's version 1, with its hold-out charts."""
    from steward.core.pipelines.sources import make_source

    spec = load_spec(SPECS / "credit_default.toml")
    source = make_source(spec.source, data_root=SPECS.parent)
    result = train(spec, source.load(), source=source.describe(), importances=False)
    assert result.lineage.data_rows == 24_000 and result.lineage.split.holdout_rows == 4_800
    assert 0.68 < (result.metrics["roc_auc"] or 0) < 0.75
    assert result.lineage.source == "file:credit/train.csv"
