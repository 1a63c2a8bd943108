"""Column kinds and schemas: which statistics apply to a column.

The kind is decided once, from the reference (training) data, and stored in the
profile; every production window is then read with the reference's kinds, so a
column never silently changes test because one window happened to look
different.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from steward.core.errors import InvalidInput

# A numeric column with at most this many distinct values is a coded category
# (season 1..4, weekday 0..6, a 0/1 flag): comparing category frequencies is more
# meaningful there than comparing distributions of a handful of points.
MAX_DISTINCT_FOR_NUMERIC_CATEGORY = 20

# Above this many categories a column is an identifier or free text, not a
# category; its frequencies would be mostly ones and every window would "drift".
MAX_CATEGORIES = 2000

# A text column whose values are nearly all distinct is an identifier.
IDENTIFIER_DISTINCT_SHARE = 0.9
IDENTIFIER_MIN_DISTINCT = 100


class ColumnKind(enum.StrEnum):
    """What a column holds, as far as drift statistics are concerned."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    UNSUPPORTED = "unsupported"


class ColumnRole(enum.StrEnum):
    """Why a column is monitored: features drive the verdict, predictions get their own."""

    FEATURE = "feature"
    PREDICTION = "prediction"


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a schema: its name, kind, role and, if unsupported, why."""

    name: str
    kind: ColumnKind
    role: ColumnRole = ColumnRole.FEATURE
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": str(self.kind), "role": str(self.role), "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSpec:
        try:
            return cls(
                name=str(data["name"]),
                kind=ColumnKind(data["kind"]),
                role=ColumnRole(data.get("role", "feature")),
                reason=str(data.get("reason", "")),
            )
        except (KeyError, ValueError) as exc:
            raise InvalidInput(f"malformed column spec: {exc}") from None


@dataclass(frozen=True)
class Schema:
    """Ordered column specs; the contract a production window is read against."""

    columns: tuple[ColumnSpec, ...]

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise InvalidInput(f"duplicate column names: {', '.join(dupes)}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def get(self, name: str) -> ColumnSpec | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        cols = data.get("columns")
        if not isinstance(cols, list):
            raise InvalidInput("malformed schema: 'columns' must be a list")
        return cls(tuple(ColumnSpec.from_dict(c) for c in cols))


def _is_numeric_dtype(dtype: Any) -> bool:
    return bool(pd.api.types.is_numeric_dtype(dtype)) and not pd.api.types.is_bool_dtype(dtype)


def infer_kind(series: pd.Series) -> tuple[ColumnKind, str]:
    """Kind of one reference column, with the reason when it cannot be monitored."""
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
        return ColumnKind.UNSUPPORTED, "date/time column: it drifts by construction; monitor derived features"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return ColumnKind.UNSUPPORTED, "duration column: convert it to a number of seconds to monitor it"
    if pd.api.types.is_bool_dtype(dtype):
        return ColumnKind.CATEGORICAL, ""
    if _is_numeric_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        # A few thousand values usually settle it; only a coded column needs the full count.
        head = values[:4096]
        if np.unique(head[np.isfinite(head)]).size > MAX_DISTINCT_FOR_NUMERIC_CATEGORY:
            return ColumnKind.NUMERIC, ""
        finite = values[np.isfinite(values)]
        if finite.size and np.unique(finite).size <= MAX_DISTINCT_FOR_NUMERIC_CATEGORY:
            return ColumnKind.CATEGORICAL, ""
        return ColumnKind.NUMERIC, ""
    # Text, categorical dtype, or a column of mixed Python objects.
    non_null = series.dropna()
    try:
        distinct = int(non_null.nunique())
    except TypeError:  # unhashable objects (lists, dicts)
        return ColumnKind.UNSUPPORTED, "values are not hashable (lists or mappings)"
    if distinct > MAX_CATEGORIES:
        return (
            ColumnKind.UNSUPPORTED,
            f"{distinct} distinct values (more than {MAX_CATEGORIES}): an identifier or free text",
        )
    if distinct >= IDENTIFIER_MIN_DISTINCT and distinct >= IDENTIFIER_DISTINCT_SHARE * len(non_null):
        return (
            ColumnKind.UNSUPPORTED,
            f"{distinct} distinct values in {len(non_null)} rows: looks like an identifier",
        )
    return ColumnKind.CATEGORICAL, ""


def infer_schema(
    frame: pd.DataFrame,
    *,
    kinds: Mapping[str, ColumnKind | str] | None = None,
    prediction_columns: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Schema:
    """Schema of a reference frame; ``kinds`` overrides inference for named columns."""
    overrides = {k: ColumnKind(v) for k, v in (kinds or {}).items()}
    names = [str(c) for c in frame.columns]
    for name in [*overrides, *prediction_columns, *exclude]:
        if name not in names:
            raise InvalidInput(f"column {name!r} is not in the reference data")
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInput(f"duplicate column names in the data: {', '.join(dupes)}")
    specs = []
    for col, name in zip(frame.columns, names, strict=True):
        if name in exclude:
            continue
        role = ColumnRole.PREDICTION if name in prediction_columns else ColumnRole.FEATURE
        if name in overrides:
            specs.append(ColumnSpec(name, overrides[name], role))
            continue
        kind, reason = infer_kind(frame[col])
        specs.append(ColumnSpec(name, kind, role, reason))
    return Schema(tuple(specs))
