"""The artifact allow-lists in ``steward.core.adapters.artifacts`` cover every pipeline the registry can build.

The lists are literals in code (never read from a file); this test regenerates
them by fitting every registered estimator with every word-valued and boolean
parameter setting, on binary, multiclass and regression targets, with missing
values, through every transformer, and fails with the missing entries if a
registered spec could produce an artifact Steward would then refuse to load.
Run this file directly to print the lists.
"""

from __future__ import annotations

import io
import itertools
import json
import warnings
import zipfile
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from steward.core.adapters.artifacts import ALLOWED_LOADERS, ALLOWED_NODE_TYPES, ALLOWED_TYPES, loads_pipeline
from steward.core.pipelines.registry import ESTIMATORS, TRANSFORMERS, Accept, EstimatorInfo


def _frame(rows: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=rows),
            "x2": rng.normal(size=rows),
            "c": pd.Series(rng.choice(["a", "b", "c"], size=rows), dtype=object),
        }
    )
    frame.loc[[1, 7], "x2"] = np.nan
    frame.loc[[2, 9], "c"] = np.nan
    return frame


def _targets(task: str, rows: int = 60) -> list[np.ndarray[Any, Any]]:
    rng = np.random.default_rng(1)
    if task == "classification":
        return [np.tile([0, 1], rows // 2), np.tile([0, 1, 2], rows // 3), np.tile(["no", "yes"], rows // 2)]
    return [rng.gamma(2.0, 3.0, size=rows) + 0.1]


def _variants(info: EstimatorInfo) -> list[dict[str, Any]]:
    variants: list[dict[str, Any]] = [{}]
    for name, param in info.params.items():
        for form in param.accepts:
            if form.kind is str:
                variants.extend({name: choice} for choice in form.choices)
            elif form.kind is bool:
                variants.extend([{name: True}, {name: False}])
    small = {"n_estimators": 3, "max_iter": 5}
    return [{**{k: v for k, v in small.items() if k in info.params}, **variant} for variant in variants]


def _preprocessors() -> list[ColumnTransformer]:
    imputer = TRANSFORMERS["SimpleImputer"].factory
    encoder = TRANSFORMERS["OneHotEncoder"].factory
    scaler = TRANSFORMERS["StandardScaler"].factory
    assert imputer is not None and encoder is not None and scaler is not None
    fixed = TRANSFORMERS["OneHotEncoder"].fixed
    return [
        ColumnTransformer(
            [
                (
                    "num",
                    Pipeline([("i", imputer(strategy="median", add_indicator=True)), ("s", scaler())]),
                    ["x1", "x2"],
                ),
                (
                    "cat",
                    Pipeline([("i", imputer(strategy="constant", fill_value="?")), ("o", encoder(**fixed))]),
                    ["c"],
                ),
            ],
            remainder="drop",
            sparse_threshold=0.0,
        ),
        ColumnTransformer(
            [
                ("num", imputer(strategy="mean"), ["x1", "x2"]),
                ("cat", encoder(**fixed, min_frequency=2, max_categories=2), ["c"]),
                ("gone", "drop", ["x1"]),
                ("kept", "passthrough", ["x1"]),
            ],
            remainder="drop",
            sparse_threshold=0.0,
        ),
    ]


def collect() -> tuple[set[str], set[str], set[tuple[str, str]], set[str]]:
    """(skops-untrusted types, loaders, (module, class), deprecations) over every buildable pipeline."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        untrusted, loaders, types = _collect()
    deprecations = {
        str(w.message).splitlines()[0]
        for w in caught
        if issubclass(w.category, FutureWarning | DeprecationWarning)
    }
    return untrusted, loaders, types, deprecations


def _collect() -> tuple[set[str], set[str], set[tuple[str, str]]]:
    untrusted: set[str] = set()
    loaders: set[str] = set()
    types: set[tuple[str, str]] = set()
    frame = _frame()
    for info in ESTIMATORS.values():
        variants, targets, preprocessors = _variants(info), _targets(info.task), _preprocessors()
        # every target and preprocessor with default parameters; every parameter variant on the first
        combos = [
            *itertools.product(variants[:1], targets, preprocessors),
            *itertools.product(variants[1:], targets[:1], preprocessors[:1]),
        ]
        for params, y, pre in combos:
            pipeline = Pipeline([("preprocess", pre), ("model", info.factory(**{**params, **info.fixed}))])
            try:
                pipeline.fit(frame, y)
            except ValueError:  # a combination sklearn refuses cannot be registered either
                continue
            data = sio.dumps(pipeline)
            untrusted.update(sio.get_untrusted_types(data=data))
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                stack: list[Any] = [json.loads(archive.read("schema.json"))]
            while stack:
                node = stack.pop()
                if isinstance(node, dict):
                    if "__class__" in node:
                        loaders.add(node["__loader__"])
                        types.add((node["__module__"], node["__class__"]))
                    stack.extend(node.values())
                elif isinstance(node, list):
                    stack.extend(node)
    return untrusted, loaders, types


@pytest.mark.slow
def test_allow_lists_cover_every_registered_estimator_and_transformer() -> None:
    untrusted, loaders, types, deprecations = collect()
    assert sorted(untrusted - set(ALLOWED_TYPES)) == []
    assert sorted(loaders - ALLOWED_LOADERS) == []
    assert sorted(types - ALLOWED_NODE_TYPES) == []
    assert sorted(deprecations) == []  # the registry offers no parameter value scikit-learn is retiring


def test_allow_lists_hold_nothing_dangerous() -> None:
    modules = {module for module, _ in ALLOWED_NODE_TYPES} | {t.rsplit(".", 1)[0] for t in ALLOWED_TYPES}
    for module in modules:
        assert module.split(".")[0] in {"builtins", "numpy", "scipy", "sklearn"}, module
    names = {f"{m}.{c}" for m, c in ALLOWED_NODE_TYPES}
    for dangerous in ("builtins.eval", "builtins.exec", "os.system", "builtins.getattr", "subprocess.Popen"):
        assert dangerous not in names
    assert "FunctionNode" not in ALLOWED_LOADERS and "MethodNode" not in ALLOWED_LOADERS


def test_every_registered_transformer_has_a_factory_or_is_a_keyword() -> None:
    for info in TRANSFORMERS.values():
        assert info.factory is not None or info.name in {"passthrough", "drop"}
    assert all(
        isinstance(form, Accept)
        for info in ESTIMATORS.values()
        for p in info.params.values()
        for form in p.accepts
    )


def test_a_loaded_pipeline_predicts_like_the_original() -> None:
    frame = _frame()
    info = ESTIMATORS["HistGradientBoostingClassifier"]
    pipeline = Pipeline([("preprocess", _preprocessors()[0]), ("model", info.factory(max_iter=5))])
    pipeline.fit(frame, _targets("classification")[0])
    loaded = loads_pipeline(sio.dumps(pipeline))
    np.testing.assert_array_equal(loaded.predict_proba(frame), pipeline.predict_proba(frame))


if __name__ == "__main__":
    found_untrusted, found_loaders, found_types, _ = collect()
    print("ALLOWED_TYPES =", sorted(found_untrusted))
    print("ALLOWED_LOADERS =", sorted(found_loaders))
    print("ALLOWED_NODE_TYPES =")
    for module, name in sorted(found_types):
        print(f'        ("{module}", "{name}"),')
