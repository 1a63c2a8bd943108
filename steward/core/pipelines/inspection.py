"""Structural checks of a loaded estimator's arrays, and runtime parameters reset to safe values.

skops' type allow-list says *which* classes a file may build, not whether
their arrays make sense: a tree node whose child index points outside the
node array passes it, and scikit-learn's compiled predict then reads outside
memory (a segmentation fault) or walks in a circle (a hang). Here, before an
uploaded (or stored) estimator is used:

- every decision tree (forests, gradient boosting) is checked node by node:
  array shapes agree with the node count, a split's children come *after* it
  and inside the array (so every walk ends at a leaf), feature indices are
  inside the model's features, thresholds and values are numbers (not NaN);
  histogram gradient boosting's predictor nodes the same way, with their
  category bitsets;
- linear models, scalers, imputers and encoders: their fitted arrays match
  the number of input features and hold numbers;
- a column transformer's column indices are inside its input;
- an estimator of a kind this module has no check for is refused, so a new
  entry in the skops allow-list needs a check here too;
- parameters that say how to run, not what the model is (``n_jobs``,
  ``verbose``, ``warm_start``, a pipeline's cache ``memory``, the binner's
  ``n_threads``), are reset: an upload cannot ask for 2,000 processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.ensemble._hist_gradient_boosting.binning import _BinMapper
from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, LabelEncoder, OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.tree._tree import Tree

from steward.core.errors import InvalidInput

TREE_LEAF = -1
# Parameters about how to run, not what was learnt, and the values every Steward process uses.
RUNTIME_PARAMS: dict[str, Any] = {"n_jobs": None, "verbose": 0, "warm_start": False}
OTHER_RUNTIME: dict[type, dict[str, Any]] = {Pipeline: {"memory": None}, _BinMapper: {"n_threads": None}}
MAX_PROBLEMS = 5

Check = Callable[[Any, str], Iterator[str]]


def _walk(root: Any, path: str = "model") -> Iterator[tuple[str, Any]]:
    """Every object reachable from ``root`` through attributes, lists, tuples, dicts and object arrays."""
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [(path, root)]
    while stack:
        where, current = stack.pop()
        if id(current) in seen or current is None or isinstance(current, str | bytes | int | float | bool):
            continue
        seen.add(id(current))
        if isinstance(current, np.ndarray):
            if current.dtype == object:
                stack.extend((f"{where}[{i}]", item) for i, item in enumerate(current.flat))
            continue
        if isinstance(current, dict):
            stack.extend((f"{where}[{key!r}]", item) for key, item in current.items())
            continue
        if isinstance(current, list | tuple):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(current))
            continue
        yield where, current
        attributes = getattr(current, "__dict__", None)
        if isinstance(attributes, dict):
            stack.extend((f"{where}.{name}", item) for name, item in attributes.items())


def _numbers(array: Any, what: str, *, allow_inf: bool = True) -> Iterator[str]:
    values = np.asarray(array)
    if values.dtype.kind not in "fiub":
        yield f"{what} is not numeric ({values.dtype})"
        return
    if values.dtype.kind == "f":
        bad = np.isnan(values) if allow_inf else ~np.isfinite(values)
        if bad.any():
            yield f"{what} holds {int(bad.sum())} value(s) that are not numbers"


def _features(estimator: Any) -> int | None:
    count = getattr(estimator, "n_features_in_", None)
    return int(count) if isinstance(count, int | np.integer) else None


def check_tree(tree: Tree, where: str, n_features: int | None = None) -> Iterator[str]:
    """Every node's children after it and inside the array, features in range, numbers where numbers go."""
    state = tree.__getstate__()
    nodes, values, count = state["nodes"], state["values"], int(state["node_count"])
    if count < 1 or len(nodes) != count or values.shape[0] != count:
        yield f"{where}: {count} nodes but {len(nodes)} node records and {values.shape[0]} value rows"
        return
    if n_features is not None and tree.n_features != n_features:
        yield f"{where}: the tree reads {tree.n_features} features, the model has {n_features}"
    index = np.arange(count)
    left, right, feature = nodes["left_child"], nodes["right_child"], nodes["feature"]
    leaf = (left == TREE_LEAF) & (right == TREE_LEAF)
    split = ~leaf
    children_ok = (left > index) & (left < count) & (right > index) & (right < count)
    broken = split & ~children_ok
    if broken.any():
        node = int(np.flatnonzero(broken)[0])
        yield (
            f"{where}: node {node} points at children {int(left[node])} and {int(right[node])}, "
            f"outside its {count} nodes or not after it"
        )
    bad_feature = split & ((feature < 0) | (feature >= tree.n_features))
    if bad_feature.any():
        node = int(np.flatnonzero(bad_feature)[0])
        yield f"{where}: node {node} splits on feature {int(feature[node])} of {tree.n_features}"
    yield from _numbers(nodes["threshold"][split], f"{where}: thresholds")
    yield from _numbers(values, f"{where}: node values", allow_inf=False)


def check_predictor(predictor: TreePredictor, where: str, n_features: int | None) -> Iterator[str]:
    """Histogram gradient boosting's flat tree: the same rules, plus category bitsets in range."""
    nodes = predictor.nodes
    count = len(nodes)
    if count < 1:
        yield f"{where}: no nodes"
        return
    index = np.arange(count)
    split = nodes["is_leaf"] == 0
    left, right = nodes["left"].astype(np.int64), nodes["right"].astype(np.int64)
    broken = split & ~((left > index) & (left < count) & (right > index) & (right < count))
    if broken.any():
        node = int(np.flatnonzero(broken)[0])
        yield (
            f"{where}: node {node} points at children {int(left[node])} and {int(right[node])}, "
            f"outside its {count} nodes or not after it"
        )
    feature = nodes["feature_idx"]
    limit = n_features if n_features is not None else np.iinfo(np.int64).max
    bad_feature = split & ((feature < 0) | (feature >= limit))
    if bad_feature.any():
        node = int(np.flatnonzero(bad_feature)[0])
        yield f"{where}: node {node} splits on feature {int(feature[node])} of {n_features}"
    categorical = split & (nodes["is_categorical"] != 0)
    bitsets = min(len(predictor.raw_left_cat_bitsets), len(predictor.binned_left_cat_bitsets))
    if (nodes["bitset_idx"][categorical] >= bitsets).any():
        yield f"{where}: a categorical split names a bitset outside its {bitsets}"
    yield from _numbers(nodes["num_threshold"][split & ~categorical], f"{where}: thresholds")
    yield from _numbers(nodes["value"], f"{where}: node values", allow_inf=False)


def _check_forest(model: Any, where: str) -> Iterator[str]:
    n_features = _features(model)
    members = getattr(model, "estimators_", None)
    for i, member in enumerate(members if members is not None else []):
        if not isinstance(member, DecisionTreeClassifier | DecisionTreeRegressor):
            yield f"{where}.estimators_[{i}] is a {type(member).__name__}, not a decision tree"
        elif _features(member) not in (None, n_features):
            yield f"{where}.estimators_[{i}] reads {_features(member)} features, the forest {n_features}"


def _check_boosting(model: Any, where: str) -> Iterator[str]:
    members = getattr(model, "estimators_", None)
    if members is None:
        return
    members = np.asarray(members, dtype=object)
    if members.ndim != 2 or members.shape[0] < getattr(model, "n_estimators_", members.shape[0]):
        yield f"{where}.estimators_ has shape {members.shape}, not one row per boosting stage"
    for i, member in enumerate(members.flat):
        if not isinstance(member, DecisionTreeRegressor):
            yield f"{where}.estimators_ item {i} is a {type(member).__name__}, not a regression tree"


def _check_single_tree(model: Any, where: str) -> Iterator[str]:
    tree = getattr(model, "tree_", None)
    if tree is not None:
        if not isinstance(tree, Tree):
            yield f"{where}.tree_ is a {type(tree).__name__}"
        else:
            yield from check_tree(tree, f"{where}.tree_", _features(model))


def _check_hist(model: Any, where: str) -> Iterator[str]:
    n_features = _features(model)
    stages = getattr(model, "_predictors", None)
    for stage, predictors in enumerate(stages if stages is not None else []):
        for k, predictor in enumerate(predictors):
            if not isinstance(predictor, TreePredictor):
                yield f"{where}._predictors[{stage}][{k}] is a {type(predictor).__name__}"
            else:
                yield from check_predictor(predictor, f"{where}._predictors[{stage}][{k}]", n_features)
    mapper = getattr(model, "_bin_mapper", None)
    thresholds = getattr(mapper, "bin_thresholds_", None)
    if n_features is not None and thresholds is not None and len(thresholds) != n_features:
        yield f"{where}: the binner knows {len(thresholds)} features, the model {n_features}"


def _check_linear(model: Any, where: str) -> Iterator[str]:
    coef = getattr(model, "coef_", None)
    if coef is None:
        return
    coef = np.asarray(coef)
    n_features = _features(model)
    if n_features is not None and (coef.ndim == 0 or coef.shape[-1] != n_features):
        yield f"{where}.coef_ has shape {coef.shape}, the model reads {n_features} features"
    yield from _numbers(coef, f"{where}.coef_", allow_inf=False)
    yield from _numbers(getattr(model, "intercept_", 0.0), f"{where}.intercept_", allow_inf=False)


def _check_per_feature(*names: str) -> Check:
    def check(model: Any, where: str) -> Iterator[str]:
        n_features = _features(model)
        for name in names:
            array = getattr(model, name, None)
            if array is None:
                continue
            if n_features is not None and len(np.atleast_1d(array)) != n_features:
                yield f"{where}.{name} has {len(np.atleast_1d(array))} entries for {n_features} features"
            if np.asarray(array).dtype.kind in "fiub":
                yield from _numbers(array, f"{where}.{name}")

    return check


def _check_encoder(model: Any, where: str) -> Iterator[str]:
    categories = getattr(model, "categories_", None)
    n_features = _features(model)
    if categories is not None and n_features is not None and len(categories) != n_features:
        yield f"{where}.categories_ has {len(categories)} lists for {n_features} features"
    drop = getattr(model, "drop_idx_", None)
    if drop is not None and categories is not None:
        for i, (index, known) in enumerate(zip(np.atleast_1d(drop), categories, strict=False)):
            if index is not None and not (0 <= int(index) < len(known)):
                yield f"{where}.drop_idx_[{i}] = {index} is outside its {len(known)} categories"


def _check_column_transformer(model: Any, where: str) -> Iterator[str]:
    n_features = _features(model)
    known = getattr(model, "feature_names_in_", None)
    names = {str(name) for name in known} if known is not None else set()
    for name, _, columns in getattr(model, "transformers_", None) or []:
        for column in np.atleast_1d(np.asarray(columns, dtype=object)) if columns is not None else []:
            if isinstance(column, bool | np.bool_):
                continue
            if isinstance(column, int | np.integer):
                if n_features is not None and not (-n_features <= int(column) < n_features):
                    yield f"{where}: transformer {name!r} reads column {int(column)} of {n_features}"
            elif isinstance(column, str) and names and column not in names:
                yield f"{where}: transformer {name!r} reads column {column!r}, which is not an input"


def _check_function_transformer(model: Any, where: str) -> Iterator[str]:
    if model.func is not None or model.inverse_func is not None:
        yield f"{where} carries a function; only the identity FunctionTransformer is accepted"


def _nothing(model: Any, where: str) -> Iterator[str]:
    return iter(())


CHECKS: dict[type, Check] = {
    Pipeline: _nothing,  # its steps are walked like every other attribute
    ColumnTransformer: _check_column_transformer,
    DummyClassifier: _nothing,
    DummyRegressor: _nothing,
    RandomForestClassifier: _check_forest,
    RandomForestRegressor: _check_forest,
    GradientBoostingClassifier: _check_boosting,
    GradientBoostingRegressor: _check_boosting,
    HistGradientBoostingClassifier: _check_hist,
    HistGradientBoostingRegressor: _check_hist,
    DecisionTreeClassifier: _check_single_tree,
    DecisionTreeRegressor: _check_single_tree,
    LogisticRegression: _check_linear,
    Ridge: _check_linear,
    StandardScaler: _check_per_feature("mean_", "scale_", "var_"),
    SimpleImputer: _check_per_feature("statistics_"),
    MissingIndicator: _nothing,
    OneHotEncoder: _check_encoder,
    FunctionTransformer: _check_function_transformer,
    LabelEncoder: _nothing,
    _BinMapper: _nothing,  # checked with the model that owns it
}


def structural_problems(model: Any) -> list[str]:
    """What is wrong with the arrays of ``model`` and everything in it (empty when sound).

    Trees are checked where they sit inside their estimator (which knows the
    number of features); other objects that are estimators must be of a kind
    with a check.
    """
    problems: list[str] = []
    for where, obj in _walk(model):
        if isinstance(obj, BaseEstimator):
            check = CHECKS.get(type(obj))
            if check is None:
                problems.append(f"{where}: Steward has no structural check for {type(obj).__name__}")
            else:
                problems.extend(check(obj, where))
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems[:MAX_PROBLEMS]


def check_structure(model: Any, *, what: str = "artifact") -> None:
    """Raise InvalidInput naming the first structural problems of ``model`` (before anything predicts)."""
    problems = structural_problems(model)
    if problems:
        raise InvalidInput(f"{what} is malformed and was refused: {'; '.join(problems)}")


def reset_runtime_params(model: Any) -> list[str]:
    """Set run-time parameters of ``model`` and everything in it to Steward's values; what changed."""
    changed: list[str] = []
    for where, obj in _walk(model):
        wanted = dict(RUNTIME_PARAMS) if isinstance(obj, BaseEstimator) else {}
        for kind, extra in OTHER_RUNTIME.items():
            if isinstance(obj, kind):
                wanted.update(extra)
        for name, safe in wanted.items():
            if name in getattr(obj, "__dict__", {}) and getattr(obj, name) != safe:
                changed.append(f"{where}.{name}={getattr(obj, name)!r}")
                setattr(obj, name, safe)
    return changed
