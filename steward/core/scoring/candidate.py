"""Checks a version passes before it takes traffic: schema, warm-up predictions, finite outputs.

The artifact's digest is checked when it is loaded (the artifact store
refuses bytes that no longer hash to what was registered). Warm-up rows come
from the schema itself (a value inside every column's range, a known
category), so every version can be checked without touching data files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

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


def warmup_frame(schema: InputSchema) -> pd.DataFrame:
    """A few rows every column of the schema accepts, in canonical form."""
    records = [{c.name: _value(c, i) for c in schema.columns} for i in range(WARMUP_ROWS)]
    return schema.coerce(pd.DataFrame.from_records(records, columns=list(schema.names)))


def verify(
    schema_dict: Any, model: Any, predict: Callable[[Any, pd.DataFrame], np.ndarray[Any, Any]]
) -> InputSchema:
    """The candidate's schema if it parses, the model accepts its columns and answers finite numbers."""
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
        outputs = np.asarray(predict(model, warmup_frame(schema)), dtype=float)
    except Exception as problem:
        raise CandidateRejected(f"the warm-up prediction failed: {str(problem)[:300]}") from None
    if outputs.shape[0] != WARMUP_ROWS:
        raise CandidateRejected(f"the warm-up answered {outputs.shape[0]} outputs for {WARMUP_ROWS} rows")
    if not np.isfinite(outputs).all():
        raise CandidateRejected("the warm-up prediction gave NaN or infinite outputs")
    return schema
