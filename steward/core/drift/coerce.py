"""Reading one column as the kind the reference says it is, counting what does not fit.

A production window is read against the reference schema: a numeric column's
text values are type errors (a data-quality finding), not a reason to crash or
to re-type the column; infinities and missing values are counted apart. A
category is a canonical string, so ``1``, ``1.0`` and ``"1"`` read from CSV,
Parquet or a Python object column are the same category.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from steward.core.drift.sketch import CategoricalSummary, FloatArray


@dataclass(frozen=True, eq=False)
class NumericColumn:
    """Finite values of a column and the counts of everything else."""

    values: FloatArray
    rows: int
    missing: int
    type_errors: int
    pos_inf: int
    neg_inf: int


@dataclass(frozen=True, eq=False)
class CategoricalColumn:
    """Category counts of a column and its missing count."""

    summary: CategoricalSummary
    rows: int
    missing: int


def read_numeric(series: pd.Series) -> NumericColumn:
    """Finite float64 values of a column; non-numbers are type errors, NaN/None are missing."""
    rows = len(series)
    dtype = series.dtype
    type_errors = 0
    if dtype == np.float64:
        values = series.to_numpy()  # no copy: NaN is already the missing marker
    elif pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    elif pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        missing = int(series.isna().sum())
        return NumericColumn(np.empty(0, np.float64), rows, missing, rows - missing, 0, 0)
    else:
        if isinstance(dtype, pd.CategoricalDtype):  # e.g. text read dictionary-encoded
            series = series.astype(object)
        present = series.notna().to_numpy()
        converted = pd.to_numeric(series, errors="coerce")
        values = np.asarray(converted.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
        type_errors = int(np.count_nonzero(present & np.isnan(values)))
    finite = np.isfinite(values)
    if finite.all():
        return NumericColumn(values, rows, 0, 0, 0, 0)
    pos_inf = int(np.count_nonzero(values == np.inf))
    neg_inf = int(np.count_nonzero(values == -np.inf))
    missing = rows - int(np.count_nonzero(finite)) - pos_inf - neg_inf - type_errors
    return NumericColumn(values[finite], rows, missing, type_errors, pos_inf, neg_inf)


def category_key(value: Any) -> str | None:
    """Canonical string of a category; None for a missing value."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return None
        if v.is_integer() and abs(v) < 2**53:
            return str(int(v))
        return repr(v)
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def read_categorical(series: pd.Series) -> CategoricalColumn:
    """Counts per canonical category: hashing once per row, Python once per distinct value."""
    rows = len(series)
    try:
        counted = series.value_counts(dropna=True, sort=False)
    except TypeError:  # unhashable values (lists, dicts): compare their text
        counted = series[series.notna()].map(repr).value_counts(sort=False)
    totals: dict[str, int] = {}
    for value, count in zip(counted.index.tolist(), counted.to_numpy().tolist(), strict=True):
        key = category_key(value)
        if key is not None and count:
            totals[key] = totals.get(key, 0) + int(count)
    missing = rows - sum(totals.values())
    return CategoricalColumn(CategoricalSummary.from_mapping(totals), rows, missing)
