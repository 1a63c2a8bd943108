"""Checks a version passes before it takes traffic: schema, warm-up predictions, finite outputs.

The artifact's digest is checked when it is loaded (the artifact store
refuses bytes that no longer hash to what was registered). Warm-up rows come
from the version's stored reference profile, the training data's own points:
row i takes each numeric column's training quantile (i+1)/(n+1) and the i-th
most frequent training category, so a candidate is checked on values it was
trained on without reading a data file. A column the profile lacks (or a
version without one) falls back to a value from the schema itself (inside the
range, a known category).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from steward.core.drift.coerce import category_key
from steward.core.drift.profile import ColumnProfile, Profile
from steward.core.pipelines.schema import ColumnSpec, InputSchema

WARMUP_ROWS = 3


class CandidateRejected(Exception):
    """The candidate failed a check; the message says which."""


def _value(column: ColumnSpec, i: int) -> Any:
    if column.kind == "categorical":
        if column.categories:
            return column.categories[i % len(column.categories)]
        return f"warmup-{i}"
    if column.kind == "boolean":
        return float(i % 2)
    low = column.min if column.min is not None else (column.max - 10 if column.max is not None else 0.0)
    high = column.max if column.max is not None else low + 10
    value = low + (high - low) * (i + 1) / (WARMUP_ROWS + 1)
    return float(round(value)) if column.kind == "integer" else float(value)


def _trained_value(column: ColumnSpec, profiled: ColumnProfile | None, i: int) -> Any:
    """Row i's value from the training data's profile; None when the profile has none to give."""
    if profiled is None:
        return None
    numeric = profiled.numeric
    if numeric is not None and numeric.total and column.kind != "categorical":
        cumulative = numeric.cumulative()
        at = int(np.searchsorted(cumulative, cumulative[-1] * (i + 1) / (WARMUP_ROWS + 1), side="left"))
        return _of_kind(column, float(numeric.values[min(at, numeric.values.size - 1)]))
    categorical = profiled.categorical
    if categorical is not None and categorical.categories:
        ranked = [categorical.categories[j] for j in np.argsort(-categorical.counts, kind="stable")]
        key = ranked[i % len(ranked)]
        if column.kind == "categorical":
            known = {category_key(c): c for c in column.categories or ()}
            return known.get(key, key)
        return _number_from_key(column, key)
    return None


def _number_from_key(column: ColumnSpec, key: str) -> float | None:
    """A numeric column the drift profile read as categories (few distinct values) keeps text keys."""
    try:
        value = float(key)
    except ValueError:
        return None
    return _of_kind(column, value) if np.isfinite(value) else None


def _of_kind(column: ColumnSpec, value: float) -> float:
    """An integer column gets a whole number (as float: the schema's coercion makes it an int)."""
    return float(round(value)) if column.kind == "integer" else value


def warmup_frame(schema: InputSchema, reference: Profile | None = None) -> pd.DataFrame:
    """A few rows every column of the schema accepts, from the training data where it is profiled."""
    records = []
    for i in range(WARMUP_ROWS):
        record: dict[str, Any] = {}
        for c in schema.columns:
            trained = _trained_value(c, reference.column(c.name) if reference is not None else None, i)
            record[c.name] = _value(c, i) if trained is None else trained
        records.append(record)
    return schema.coerce(pd.DataFrame.from_records(records, columns=list(schema.names)))


def verify(
    schema_dict: Any,
    model: Any,
    predict: Callable[[Any, pd.DataFrame], np.ndarray[Any, Any]],
    reference: Profile | None = None,
) -> InputSchema:
    """The candidate's schema if it parses, the model accepts its columns and answers finite numbers.

    ``reference`` is the version's stored training profile: the warm-up rows are drawn from it.
    """
    try:
        schema = InputSchema.from_dict(schema_dict)
    except Exception as problem:
        raise CandidateRejected(f"its input schema does not parse: {problem}") from None
    expected = getattr(model, "feature_names_in_", None)
    if expected is not None and list(expected) != list(schema.names):
        raise CandidateRejected(
            f"schema mismatch: the model expects {list(expected)[:10]}, "
            f"the schema gives {list(schema.names)[:10]}"
        )
    try:
        outputs = np.asarray(predict(model, warmup_frame(schema, reference)), dtype=float)
    except Exception as problem:
        raise CandidateRejected(f"the warm-up prediction failed: {str(problem)[:300]}") from None
    if outputs.shape[0] != WARMUP_ROWS:
        raise CandidateRejected(f"the warm-up answered {outputs.shape[0]} outputs for {WARMUP_ROWS} rows")
    if not np.isfinite(outputs).all():
        raise CandidateRejected("the warm-up prediction gave NaN or infinite outputs")
    return schema
