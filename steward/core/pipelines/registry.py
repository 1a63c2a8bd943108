"""The allow-list of estimators and transformers a spec may name, with the parameters each accepts.

Why an allow-list: a spec is user input. Naming a class by import path would let a
spec construct anything; here only the classes below exist, each parameter is
typed and bounded, and parameters that matter for safety or reproducibility
(``handle_unknown``, ``sparse_output``, ``n_jobs``) are fixed in code. The same
list decides which types an artifact may contain (see ``steward.core.adapters.artifacts``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from steward.core.errors import InvalidInput

Task = Literal["classification", "regression"]
TASKS: tuple[Task, ...] = ("classification", "regression")


@dataclass(frozen=True)
class Accept:
    """One accepted form of a parameter value: a type, bounds, or a list of words."""

    kind: type
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    choices: tuple[str, ...] = ()

    def normalise(self, value: object) -> tuple[bool, Any]:
        """(True, value as the estimator wants it) if ``value`` has this form, else (False, None)."""
        if self.kind is bool:
            return (True, value) if isinstance(value, bool) else (False, None)
        if isinstance(value, bool):
            return False, None
        if self.kind is str:
            if not isinstance(value, str):
                return False, None
            if self.choices:
                return (True, value) if value in self.choices else (False, None)
            return (True, value) if 0 < len(value) <= 200 and value.isprintable() else (False, None)
        if self.kind is int:
            if not isinstance(value, int):
                return False, None
        elif self.kind is float:
            if not isinstance(value, int | float) or not math.isfinite(value):
                return False, None
            value = float(value)
        number = float(value)  # type: ignore[arg-type]
        if self.min is not None and (number < self.min or (self.min_exclusive and number == self.min)):
            return False, None
        if self.max is not None and (number > self.max or (self.max_exclusive and number == self.max)):
            return False, None
        return True, value

    def describe(self) -> str:
        if self.kind is str:
            return " or ".join(repr(c) for c in self.choices) if self.choices else "printable text"
        if self.kind is bool:
            return "true or false"
        name = "an integer" if self.kind is int else "a number"
        low = "" if self.min is None else f"{'>' if self.min_exclusive else '>='} {_number(self.min)}"
        high = "" if self.max is None else f"{'<' if self.max_exclusive else '<='} {_number(self.max)}"
        bounds = " and ".join(part for part in (low, high) if part)
        return f"{name} {bounds}".strip()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Param:
    """A parameter and the forms its value may take (any one of them)."""

    accepts: tuple[Accept, ...]

    def check(self, where: str, value: object) -> Any:
        for form in self.accepts:
            ok, normalised = form.normalise(value)
            if ok:
                return normalised
        allowed = "; or ".join(form.describe() for form in self.accepts)
        raise InvalidInput(f"{where}: {value!r} is not allowed (expected {allowed})")


def _int(low: float | None = None, high: float | None = None) -> Accept:
    return Accept(int, low, high)


def _float(
    low: float | None = None, high: float | None = None, *, open_low: bool = False, open_high: bool = False
) -> Accept:
    return Accept(float, low, high, open_low, open_high)


def _words(*choices: str) -> Accept:
    return Accept(str, choices=choices)


def _p(*accepts: Accept) -> Param:
    return Param(accepts)


_BOOL = Accept(bool)
_SEED = _p(_int(0, 2**32 - 1))
_FRACTION_OPEN = _float(0.0, 1.0, open_low=True, open_high=True)
_FRACTION = _float(0.0, 1.0, open_low=True)
_MAX_FEATURES = _p(_words("sqrt", "log2"), _int(1), _FRACTION)
_TREE_SHAPE: dict[str, Param] = {
    "max_depth": _p(_int(1, 200)),
    "min_samples_split": _p(_int(2), _FRACTION),
    "min_samples_leaf": _p(_int(1), _FRACTION_OPEN),
    "max_leaf_nodes": _p(_int(2)),
    "max_features": _MAX_FEATURES,
    "ccp_alpha": _p(_float(0.0)),
    "random_state": _SEED,
}
_FOREST: dict[str, Param] = {
    **_TREE_SHAPE,
    "n_estimators": _p(_int(1, 2000)),
    "bootstrap": _p(_BOOL),
    "max_samples": _p(_FRACTION),
}
_HIST: dict[str, Param] = {
    "learning_rate": _p(_float(0.0, 10.0, open_low=True)),
    "max_iter": _p(_int(1, 10_000)),
    "max_leaf_nodes": _p(_int(2)),
    "max_depth": _p(_int(1, 200)),
    "min_samples_leaf": _p(_int(1)),
    "l2_regularization": _p(_float(0.0)),
    "max_features": _p(_FRACTION),
    "max_bins": _p(_int(2, 255)),
    "early_stopping": _p(_BOOL, _words("auto")),
    "validation_fraction": _p(_FRACTION_OPEN),
    "n_iter_no_change": _p(_int(1)),
    "tol": _p(_float(0.0)),
    "random_state": _SEED,
}
_GB: dict[str, Param] = {
    **_TREE_SHAPE,
    "learning_rate": _p(_float(0.0, 10.0, open_low=True)),
    "n_estimators": _p(_int(1, 5000)),
    "subsample": _p(_FRACTION),
    "validation_fraction": _p(_FRACTION_OPEN),
    "n_iter_no_change": _p(_int(1)),
    "tol": _p(_float(0.0)),
}


@dataclass(frozen=True)
class EstimatorInfo:
    """An estimator a spec may name; ``fixed`` parameters are set in code and cannot be overridden."""

    name: str
    factory: Callable[..., Any]
    task: Task
    params: Mapping[str, Param]
    accepts_missing: bool = False
    fixed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def has_random_state(self) -> bool:
        return "random_state" in self.params


@dataclass(frozen=True)
class TransformerInfo:
    """A preprocessing step; ``numeric_only`` steps may not see category labels."""

    name: str
    factory: Callable[..., Any] | None
    params: Mapping[str, Param]
    numeric_only: bool = False
    fixed: Mapping[str, Any] = field(default_factory=dict)


ESTIMATORS: Mapping[str, EstimatorInfo] = {
    info.name: info
    for info in (
        EstimatorInfo(
            "LogisticRegression",
            LogisticRegression,
            "classification",
            {
                "C": _p(_float(0.0, open_low=True)),
                "l1_ratio": _p(_float(0.0, 1.0)),
                "solver": _p(_words("lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga")),
                "max_iter": _p(_int(1, 100_000)),
                "tol": _p(_float(0.0, open_low=True)),
                "fit_intercept": _p(_BOOL),
                "class_weight": _p(_words("balanced")),
                "random_state": _SEED,
            },
        ),
        EstimatorInfo(
            "Ridge",
            Ridge,
            "regression",
            {
                "alpha": _p(_float(0.0)),
                "fit_intercept": _p(_BOOL),
                "solver": _p(_words("auto", "svd", "cholesky", "lsqr", "sparse_cg", "sag", "saga")),
                "max_iter": _p(_int(1, 100_000)),
                "tol": _p(_float(0.0, open_low=True)),
                "random_state": _SEED,
            },
        ),
        EstimatorInfo(
            "RandomForestClassifier",
            RandomForestClassifier,
            "classification",
            {
                **_FOREST,
                "criterion": _p(_words("gini", "entropy", "log_loss")),
                "class_weight": _p(_words("balanced", "balanced_subsample")),
            },
            fixed={"n_jobs": 1},
        ),
        EstimatorInfo(
            "RandomForestRegressor",
            RandomForestRegressor,
            "regression",
            {
                **_FOREST,
                "criterion": _p(_words("squared_error", "absolute_error", "poisson")),
            },
            fixed={"n_jobs": 1},
        ),
        EstimatorInfo(
            "HistGradientBoostingClassifier",
            HistGradientBoostingClassifier,
            "classification",
            {**_HIST, "class_weight": _p(_words("balanced"))},
            accepts_missing=True,
        ),
        EstimatorInfo(
            "HistGradientBoostingRegressor",
            HistGradientBoostingRegressor,
            "regression",
            {**_HIST, "loss": _p(_words("squared_error", "absolute_error", "gamma", "poisson"))},
            accepts_missing=True,
        ),
        EstimatorInfo(
            "GradientBoostingClassifier",
            GradientBoostingClassifier,
            "classification",
            {**_GB, "loss": _p(_words("log_loss", "exponential"))},
        ),
        EstimatorInfo(
            "GradientBoostingRegressor",
            GradientBoostingRegressor,
            "regression",
            {
                **_GB,
                "loss": _p(_words("squared_error", "absolute_error", "huber", "quantile")),
                "alpha": _p(_FRACTION_OPEN),
            },
        ),
    )
}

PASSTHROUGH = "passthrough"
DROP = "drop"

TRANSFORMERS: Mapping[str, TransformerInfo] = {
    info.name: info
    for info in (
        TransformerInfo(
            "StandardScaler",
            StandardScaler,
            {"with_mean": _p(_BOOL), "with_std": _p(_BOOL)},
            numeric_only=True,
        ),
        TransformerInfo(
            "OneHotEncoder",
            OneHotEncoder,
            {
                "min_frequency": _p(_int(1), _FRACTION_OPEN),
                "max_categories": _p(_int(2, 10_000)),
                "handle_unknown": _p(_words("ignore")),
            },
            fixed={"handle_unknown": "ignore", "sparse_output": False},
        ),
        TransformerInfo(
            "SimpleImputer",
            SimpleImputer,
            {
                "strategy": _p(_words("mean", "median", "most_frequent", "constant")),
                "fill_value": _p(_float(), Accept(str)),
                "add_indicator": _p(_BOOL),
            },
        ),
        TransformerInfo(PASSTHROUGH, None, {}),
        TransformerInfo(DROP, None, {}),
    )
}


def estimator_info(name: object, task: str | None = None) -> EstimatorInfo:
    """The registered estimator called ``name``; raise naming it (and the task) if not allowed."""
    info = ESTIMATORS.get(name) if isinstance(name, str) else None
    if info is None:
        raise InvalidInput(
            f"model.estimator: unknown estimator {name!r} (allowed: {', '.join(sorted(ESTIMATORS))})"
        )
    if task is not None and info.task != task:
        raise InvalidInput(f"model.estimator: {info.name} is for {info.task}, but the task is {task}")
    return info


def transformer_info(name: object, where: str) -> TransformerInfo:
    info = TRANSFORMERS.get(name) if isinstance(name, str) else None
    if info is None:
        raise InvalidInput(
            f"{where}: unknown transformer {name!r} (allowed: {', '.join(sorted(TRANSFORMERS))})"
        )
    return info


def check_params(
    where: str, owner: str, allowed: Mapping[str, Param], params: Mapping[str, Any]
) -> dict[str, Any]:
    """Validated, normalised parameters; an unknown name or a bad value raises naming it."""
    checked: dict[str, Any] = {}
    for key, value in params.items():
        rule = allowed.get(key)
        if rule is None:
            names = ", ".join(sorted(allowed)) or "none"
            raise InvalidInput(f"{where}: unknown parameter {key!r} for {owner} (allowed: {names})")
        checked[key] = rule.check(f"{where}.{key}", value)
    return checked
