"""Training run, without the database: check, split, fit, evaluate, and say exactly what was done.

``train(spec, data)`` is pure apart from CPU time: the same spec and data give
the same data digest, split, model and metrics. The caller (the registry
service) adds who trained it and when, writes the artifact and the row.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.inspection import permutation_importance
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from steward.core.errors import InvalidInput
from steward.core.pipelines.builder import MODEL_STEP, build_pipeline
from steward.core.pipelines.digest import frame_digest
from steward.core.pipelines.provenance import library_versions
from steward.core.pipelines.spec import PipelineSpec

MIN_ROWS = 20
MAX_CLASSES = 100
ROC_POINTS = 101
CALIBRATION_BINS = 10
RESIDUAL_SAMPLE = 500
TOP_FEATURES = 30
PERMUTATION_ROWS = 1000
PERMUTATION_REPEATS = 3

Label = int | str


def _jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars unwrapped, non-finite floats as None, anything else as its repr."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return repr(value)


def _rounded(values: Any, digits: int = 6) -> list[float]:
    return [float(round(float(v), digits)) for v in np.asarray(values, dtype="float64")]


@dataclass(frozen=True)
class SplitRecord:
    """How the hold-out set was chosen; ``holdout_positions`` are 0-based rows of the training data."""

    method: str
    seed: int
    holdout_fraction: float
    stratified: bool
    order_by: str | None
    train_rows: int
    holdout_rows: int
    holdout_positions: tuple[int, ...] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "seed": self.seed,
            "holdout_fraction": self.holdout_fraction,
            "stratified": self.stratified,
            "order_by": self.order_by,
            "train_rows": self.train_rows,
            "holdout_rows": self.holdout_rows,
            "holdout_positions": list(self.holdout_positions),
        }


@dataclass(frozen=True)
class Lineage:
    """Everything needed to say what a version is and to train it again (except who and when)."""

    spec: Mapping[str, Any]
    spec_digest: str
    estimator: str
    model_params: Mapping[str, Any]
    library_versions: Mapping[str, str]
    code_version: str | None
    source: str | None
    data_digest: str
    data_rows: int
    data_columns: tuple[str, ...]
    split: SplitRecord
    classes: tuple[Label, ...] | None
    positive_class: Label | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": _jsonable(self.spec),
            "spec_digest": self.spec_digest,
            "estimator": self.estimator,
            "model_params": _jsonable(self.model_params),
            "library_versions": dict(self.library_versions),
            "code_version": self.code_version,
            "source": self.source,
            "data_digest": self.data_digest,
            "data_digest_format": "steward-frame-v1",
            "data_rows": self.data_rows,
            "data_columns": list(self.data_columns),
            "split": self.split.to_dict(),
            "classes": None if self.classes is None else list(self.classes),
            "positive_class": self.positive_class,
        }


@dataclass(frozen=True)
class ChartData:
    """Small, aggregated hold-out summaries for the model card; no raw rows beyond a capped sample."""

    roc: Mapping[str, Any] | None = None
    calibration: tuple[Mapping[str, Any], ...] | None = None
    confusion: Mapping[str, Any] | None = None
    residuals: Mapping[str, Any] | None = None
    feature_importances: Mapping[str, Any] | None = None
    permutation_importances: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "roc": _jsonable(self.roc),
            "calibration": _jsonable(self.calibration),
            "confusion": _jsonable(self.confusion),
            "residuals": _jsonable(self.residuals),
            "feature_importances": _jsonable(self.feature_importances),
            "permutation_importances": _jsonable(self.permutation_importances),
        }


@dataclass(frozen=True)
class TrainingResult:
    """A fitted pipeline and what the registry must persist about it (``to_dict`` is JSON-able)."""

    pipeline: Pipeline = field(repr=False, compare=False)
    metrics: Mapping[str, float | None]
    lineage: Lineage
    charts: ChartData
    warnings: tuple[str, ...] = ()
    fit_seconds: float = field(default=0.0, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": _jsonable(self.metrics),
            "lineage": self.lineage.to_dict(),
            "charts": self.charts.to_dict(),
            "warnings": list(self.warnings),
            "fit_seconds": round(self.fit_seconds, 3),
        }


def _first_bad(mask: np.ndarray[Any, Any]) -> int:
    return int(np.flatnonzero(mask)[0])


def _classification_target(spec: PipelineSpec, raw: pd.Series[Any]) -> np.ndarray[Any, Any]:
    name = spec.target
    if pd.api.types.is_bool_dtype(raw.dtype):
        raw = raw.astype("int64")
    if pd.api.types.is_numeric_dtype(raw.dtype):
        values = raw.to_numpy(dtype="float64", na_value=np.nan)
        if np.isnan(values).any():
            missing = np.isnan(values)
            raise InvalidInput(
                f"target {name!r} has {int(missing.sum())} missing values "
                f"(first at row {_first_bad(missing)})"
            )
        bad = ~np.isfinite(values) | (values != np.floor(np.where(np.isfinite(values), values, 0)))
        if bad.any():
            raise InvalidInput(
                f"target {name!r} must hold class labels (integers or text); row {_first_bad(bad)} "
                f"has {values[_first_bad(bad)]!r}"
            )
        return values.astype("int64")
    objects: np.ndarray[Any, Any] = np.asarray(raw.astype(object).where(raw.notna(), None), dtype=object)
    missing = np.array([value is None for value in objects], dtype=bool)
    if missing.any():
        raise InvalidInput(
            f"target {name!r} has {int(missing.sum())} missing values (first at row {_first_bad(missing)})"
        )
    not_text = np.array([not isinstance(value, str) for value in objects], dtype=bool)
    if not_text.any():
        raise InvalidInput(f"target {name!r} mixes text and other values (row {_first_bad(not_text)})")
    return objects


def _regression_target(spec: PipelineSpec, raw: pd.Series[Any]) -> np.ndarray[Any, Any]:
    name = spec.target
    if pd.api.types.is_bool_dtype(raw.dtype) or not pd.api.types.is_numeric_dtype(raw.dtype):
        raise InvalidInput(f"target {name!r} must be numeric for regression (found {raw.dtype})")
    values = raw.to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(values)
    if missing.any():
        raise InvalidInput(
            f"target {name!r} has {int(missing.sum())} missing values (first at row {_first_bad(missing)})"
        )
    infinite = np.isinf(values)
    if infinite.any():
        raise InvalidInput(f"target {name!r} has infinite values (first at row {_first_bad(infinite)})")
    return values


def _check_classes(spec: PipelineSpec, y: np.ndarray[Any, Any]) -> tuple[tuple[Label, ...], Label | None]:
    labels, counts = np.unique(y, return_counts=True)
    classes: tuple[Label, ...] = tuple(_jsonable(label) for label in labels)
    if len(classes) < 2:
        raise InvalidInput(
            f"target {spec.target!r} has one class ({classes[0]!r}); classification needs at least two"
        )
    if len(classes) > MAX_CLASSES:
        raise InvalidInput(
            f"target {spec.target!r} has {len(classes)} classes; the limit is {MAX_CLASSES} "
            "(is this a regression target?)"
        )
    if spec.stratified:
        rare = [label for label, count in zip(classes, counts, strict=True) if count < 2]
        if rare:
            raise InvalidInput(
                f"target {spec.target!r}: class {rare[0]!r} has one row; "
                "a stratified split needs at least two"
            )
    if len(classes) != 2:
        return classes, None
    positive = spec.positive_class
    if positive is None:
        return classes, classes[1]
    if positive not in classes:
        raise InvalidInput(
            f"pipeline.positive_class {positive!r} is not a class of target {spec.target!r} "
            f"(classes: {', '.join(repr(c) for c in classes)})"
        )
    return classes, positive


def _split(spec: PipelineSpec, data: pd.DataFrame, y: np.ndarray[Any, Any]) -> SplitRecord:
    rows = len(y)
    training = spec.training
    if training.split == "random":
        positions = np.arange(rows)
        _, holdout = train_test_split(
            positions,
            test_size=training.holdout,
            random_state=training.seed,
            stratify=y if spec.stratified else None,
        )
        holdout = np.sort(holdout)
    else:
        if training.order_by is None:
            order = np.arange(rows)
        else:
            if training.order_by not in data.columns:
                raise InvalidInput(
                    f"training.order_by column {training.order_by!r} is not in the training data"
                )
            key = data[training.order_by]
            if key.isna().any():
                raise InvalidInput(f"training.order_by column {training.order_by!r} has missing values")
            try:
                order = np.argsort(key.to_numpy(), kind="stable")
            except TypeError:
                raise InvalidInput(
                    f"training.order_by column {training.order_by!r} mixes values that cannot be ordered"
                ) from None
        count = math.ceil(rows * training.holdout)
        holdout = np.sort(order[rows - count :])
    return SplitRecord(
        method=training.split,
        seed=training.seed,
        holdout_fraction=training.holdout,
        stratified=spec.stratified,
        order_by=training.order_by,
        train_rows=rows - len(holdout),
        holdout_rows=len(holdout),
        holdout_positions=tuple(int(p) for p in holdout),
    )


def _label_array(classes: tuple[Label, ...]) -> np.ndarray[Any, Any]:
    return np.asarray(classes, dtype=object if isinstance(classes[0], str) else "int64")


def _classification_metrics(
    y: np.ndarray[Any, Any],
    proba: np.ndarray[Any, Any],
    classes: tuple[Label, ...],
    positive: Label | None,
) -> tuple[dict[str, float | None], list[str]]:
    notes: list[str] = []
    labels = _label_array(classes)
    predicted = labels[np.argmax(proba, axis=1)]
    result: dict[str, float | None] = {"accuracy": float(skm.accuracy_score(y, predicted))}
    present = set(np.unique(y).tolist())
    if positive is not None:
        result["f1"] = float(skm.f1_score(y, predicted, pos_label=positive, zero_division=0.0))
        score = proba[:, classes.index(positive)]
        if len(present) == 2:
            result["roc_auc"] = float(skm.roc_auc_score(y == positive, score))
        else:
            result["roc_auc"] = None
            notes.append("the hold-out set has one class: ROC AUC is undefined")
    else:
        result["f1"] = float(skm.f1_score(y, predicted, average="macro", labels=labels, zero_division=0.0))
        if len(present) == len(classes):
            result["roc_auc"] = float(skm.roc_auc_score(y, proba, multi_class="ovr", labels=labels))
        else:
            result["roc_auc"] = None
            notes.append("the hold-out set lacks some classes: ROC AUC is undefined")
    result["log_loss"] = float(skm.log_loss(y, proba, labels=labels))
    return result, notes


def _regression_metrics(y: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any]) -> dict[str, float | None]:
    return {
        "mae": float(skm.mean_absolute_error(y, predicted)),
        "rmse": float(math.sqrt(skm.mean_squared_error(y, predicted))),
        "r2": float(skm.r2_score(y, predicted)),
    }


def _roc(y_positive: np.ndarray[Any, Any], score: np.ndarray[Any, Any]) -> dict[str, Any] | None:
    if len(np.unique(y_positive)) < 2:
        return None
    fpr, tpr, _ = skm.roc_curve(y_positive, score, drop_intermediate=True)
    if len(fpr) > ROC_POINTS:
        keep = np.unique(np.round(np.linspace(0, len(fpr) - 1, ROC_POINTS)).astype(int))
        fpr, tpr = fpr[keep], tpr[keep]
    return {"fpr": _rounded(fpr, 4), "tpr": _rounded(tpr, 4)}


def _calibration(y_positive: np.ndarray[Any, Any], score: np.ndarray[Any, Any]) -> tuple[dict[str, Any], ...]:
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    which = np.clip(np.digitize(score, edges[1:-1], right=False), 0, CALIBRATION_BINS - 1)
    bins = []
    for index in range(CALIBRATION_BINS):
        inside = which == index
        count = int(inside.sum())
        if count == 0:
            continue
        bins.append(
            {
                "lower": float(round(edges[index], 4)),
                "upper": float(round(edges[index + 1], 4)),
                "mean_predicted": float(round(float(score[inside].mean()), 6)),
                "fraction_positive": float(round(float(y_positive[inside].mean()), 6)),
                "count": count,
            }
        )
    return tuple(bins)


def _native_importances(pipeline: Pipeline) -> dict[str, Any] | None:
    model = pipeline.named_steps[MODEL_STEP]
    if hasattr(model, "feature_importances_"):
        kind, values = "impurity", np.asarray(model.feature_importances_, dtype="float64")
    elif hasattr(model, "coef_"):
        coef = np.asarray(model.coef_, dtype="float64")
        if coef.ndim == 2 and coef.shape[0] > 1:
            kind, values = "mean_abs_coefficient", np.abs(coef).mean(axis=0)
        else:
            kind, values = "coefficient", coef.reshape(-1)
    else:
        return None
    names = [str(n) for n in pipeline[:-1].get_feature_names_out()]
    top = np.argsort(-np.abs(values), kind="stable")[:TOP_FEATURES]
    return {
        "kind": kind,
        "note": "on the preprocessed features (after scaling and one-hot encoding)",
        "features": [names[i] for i in top],
        "values": _rounded(values[top]),
    }


def _permutation_importances(
    pipeline: Pipeline,
    features: pd.DataFrame,
    y: np.ndarray[Any, Any],
    scoring: str,
    seed: int,
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    if len(features) > PERMUTATION_ROWS:
        chosen = np.sort(rng.choice(len(features), size=PERMUTATION_ROWS, replace=False))
        features, y = features.iloc[chosen], y[chosen]
    outcome = permutation_importance(
        pipeline, features, y, scoring=scoring, n_repeats=PERMUTATION_REPEATS, random_state=seed, n_jobs=1
    )
    means = np.asarray(outcome["importances_mean"], dtype="float64")
    stds = np.asarray(outcome["importances_std"], dtype="float64")
    top = np.argsort(-means, kind="stable")[:TOP_FEATURES]
    return {
        "kind": "permutation",
        "scoring": scoring,
        "rows": len(features),
        "repeats": PERMUTATION_REPEATS,
        "features": [str(features.columns[i]) for i in top],
        "values": _rounded(means[top]),
        "std": _rounded(stds[top]),
    }


def train(
    spec: PipelineSpec,
    data: pd.DataFrame,
    *,
    source: str | None = None,
    code_version: str | None = None,
    importances: bool = True,
    threads: int | None = 1,
) -> TrainingResult:
    """Check ``data`` against the spec, split, fit, evaluate on the hold-out, and return it all.

    ``source`` is ``DataSource.describe()``; ``code_version`` the git commit when
    known (see ``provenance.git_commit``). ``importances=False`` skips permutation
    importance (the slowest chart) for quick runs. ``threads`` caps native
    thread pools (OpenMP/BLAS) during the run. Two reasons for the default of 1:
    on a box shared with the web server, OpenMP's busy-waiting made an 8-second
    training take 75; and BLAS-backed fits (LogisticRegression) differ in the last
    digits with the thread count, so a fixed count keeps reruns bit-identical on
    machines with different cores. ``None`` leaves the libraries' default.
    Raises :class:`InvalidInput` naming the column for data that breaks the
    schema or cannot train a model.
    """
    if threads is None:
        return _train(spec, data, source=source, code_version=code_version, importances=importances)
    with threadpool_limits(limits=threads):
        return _train(spec, data, source=source, code_version=code_version, importances=importances)


def evaluate_fitted(
    spec: PipelineSpec,
    data: pd.DataFrame,
    fitted: Pipeline,
    *,
    source: str | None = None,
    importances: bool = True,
    threads: int | None = 1,
) -> TrainingResult:
    """Evaluate an already fitted pipeline (an upload) exactly as :func:`train` evaluates its own fit.

    Same schema check, same split, same hold-out metrics and charts; the
    lineage names the uploaded model's estimator and parameters, not the spec's.
    """
    if not isinstance(fitted, Pipeline) or MODEL_STEP not in fitted.named_steps:
        raise InvalidInput(f"an uploaded pipeline must be a scikit-learn Pipeline with a {MODEL_STEP!r} step")
    with threadpool_limits(limits=threads):
        return _train(spec, data, source=source, code_version=None, importances=importances, prefitted=fitted)


def _train(
    spec: PipelineSpec,
    data: pd.DataFrame,
    *,
    source: str | None,
    code_version: str | None,
    importances: bool,
    prefitted: Pipeline | None = None,
) -> TrainingResult:
    if not isinstance(data, pd.DataFrame):
        raise InvalidInput(f"training data must be a table, got {type(data).__name__}")
    if spec.target not in data.columns:
        raise InvalidInput(f"training data has no target column {spec.target!r}")
    if len(data) < MIN_ROWS:
        raise InvalidInput(f"training data has {len(data)} rows; at least {MIN_ROWS} are needed")
    features = spec.schema.coerce(data)
    target_raw = data[spec.target]
    classes: tuple[Label, ...] | None = None
    positive: Label | None = None
    if spec.task == "classification":
        y = _classification_target(spec, target_raw)
        classes, positive = _check_classes(spec, y)
    else:
        y = _regression_target(spec, target_raw)
    features = features.reset_index(drop=True)
    digest_frame = features.assign(**{spec.target: y})
    data_digest = frame_digest(digest_frame)
    split = _split(spec, data.reset_index(drop=True), y)
    in_holdout = np.zeros(len(y), dtype=bool)
    in_holdout[list(split.holdout_positions)] = True
    x_train, x_hold = features[~in_holdout], features[in_holdout]
    y_train, y_hold = y[~in_holdout], y[in_holdout]
    if classes is not None and len(np.unique(y_train)) < 2:
        raise InvalidInput(f"target {spec.target!r} has one class in the training part of the split")
    if len(y_hold) == 0 or len(y_train) == 0:
        raise InvalidInput(f"training.holdout {spec.training.holdout} leaves an empty part of the split")

    pipeline = build_pipeline(spec) if prefitted is None else prefitted
    notes: list[str] = (
        [] if prefitted is None else ["uploaded: fitted outside Steward, evaluated on the spec's hold-out"]
    )
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if prefitted is None:
                pipeline.fit(x_train, y_train)
            else:
                pipeline.predict(x_hold.head(5))  # fails here, clearly, if it does not fit this schema
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            verb = "training" if prefitted is None else "scoring the uploaded"
            raise InvalidInput(
                f"{verb} {spec.model.estimator if prefitted is None else 'pipeline'} failed: {first_line}"
            ) from None
    fit_seconds = time.perf_counter() - started
    if classes is not None:
        fitted = tuple(_jsonable(label) for label in pipeline.classes_)
        if fitted != classes:
            absent = next(label for label in classes if label not in fitted)
            raise InvalidInput(
                f"target {spec.target!r}: class {absent!r} is only in the hold-out set; "
                "use split = 'random' or more data"
            )
    for warning in caught:
        if issubclass(warning.category, DeprecationWarning):
            continue
        line = f"{warning.category.__name__}: {str(warning.message).splitlines()[0]}"
        if line not in notes:
            notes.append(line)

    charts: dict[str, Any] = {"feature_importances": _native_importances(pipeline)}
    if classes is not None:
        proba = np.asarray(pipeline.predict_proba(x_hold), dtype="float64")
        metrics, metric_notes = _classification_metrics(y_hold, proba, classes, positive)
        notes.extend(metric_notes)
        labels = list(classes)
        predicted = _label_array(classes)[np.argmax(proba, axis=1)]
        if len(labels) <= 20:
            matrix = skm.confusion_matrix(y_hold, predicted, labels=_label_array(classes))
            charts["confusion"] = {"labels": labels, "matrix": matrix.tolist(), "threshold": "argmax"}
        if positive is not None:
            score = proba[:, labels.index(positive)]
            y_positive = (y_hold == positive).astype("int64")
            charts["roc"] = _roc(y_positive, score)
            charts["calibration"] = _calibration(y_positive, score)
        scoring = "roc_auc" if positive is not None else "accuracy"
    else:
        predicted_values = np.asarray(pipeline.predict(x_hold), dtype="float64")
        metrics = _regression_metrics(y_hold, predicted_values)
        sample = np.arange(len(y_hold))
        if len(sample) > RESIDUAL_SAMPLE:
            rng = np.random.default_rng(spec.training.seed)
            sample = np.sort(rng.choice(len(y_hold), size=RESIDUAL_SAMPLE, replace=False))
        charts["residuals"] = {
            "predicted": _rounded(predicted_values[sample], 4),
            "actual": _rounded(y_hold[sample], 4),
            "sampled_from": len(y_hold),
        }
        scoring = "r2"
    if importances:
        charts["permutation_importances"] = _permutation_importances(
            pipeline, x_hold, y_hold, scoring, spec.training.seed
        )

    model = pipeline.named_steps[MODEL_STEP]
    lineage = Lineage(
        spec=spec.to_dict(),
        spec_digest=spec.digest(),
        estimator=spec.model.estimator if prefitted is None else type(model).__name__,
        model_params=_jsonable(model.get_params(deep=False)),
        library_versions=library_versions(),
        code_version=code_version,
        source=source,
        data_digest=data_digest,
        data_rows=len(y),
        data_columns=tuple(str(c) for c in digest_frame.columns),
        split=split,
        classes=classes,
        positive_class=positive,
    )
    return TrainingResult(
        pipeline=pipeline,
        metrics=metrics,
        lineage=lineage,
        charts=ChartData(**charts),
        warnings=tuple(notes),
        fit_seconds=fit_seconds,
    )
