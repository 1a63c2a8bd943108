"""The input schema: the contract a pipeline's input must meet, at training and at scoring.

scikit-learn accepts reordered and extra columns, numbers sent as text, NaN
and infinity without complaint, so every frame goes through
:meth:`InputSchema.coerce` before ``fit`` or ``predict``. The same schema gives
drift monitoring its column kinds, hence ``to_dict``/``from_dict``.

Canonical forms the model sees (the same at training and scoring):

- ``numeric`` and ``integer``: float64 (NaN for missing); infinity is never allowed;
  text is refused, never parsed.
- ``boolean``: float64 0.0/1.0 (NaN for missing), from booleans or the numbers 0/1.
- ``categorical``: text labels (object dtype, NaN for missing); integers and
  integral floats are written as integers (``2.0`` -> ``"2"``), so ``2`` and
  ``"2"`` are the same category.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from steward.core.errors import InvalidInput
from steward.core.pipelines.names import validate_name

Kind = Literal["numeric", "integer", "categorical", "boolean"]
KINDS: tuple[str, ...] = get_args(Kind)
Category = str | int

_MAX_EXAMPLES = 3
_COLUMN_KEYS = frozenset({"name", "kind", "required", "nullable", "min", "max", "categories", "description"})


def _example(value: object) -> str:
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Finding:
    """One problem with one column of a frame; ``row`` is the 0-based position of the first bad value."""

    column: str
    problem: str
    message: str
    count: int = 0
    row: int | None = None
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "problem": self.problem,
            "message": self.message,
            "count": self.count,
            "row": self.row,
            "examples": list(self.examples),
        }


@dataclass(frozen=True)
class ColumnSpec:
    """One input column: its kind and the values it may take.

    An optional column (``required=False``) may be absent from the input; it is
    then filled with missing values, so it must be ``nullable``.
    """

    name: str
    kind: Kind
    required: bool = True
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    categories: tuple[Category, ...] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        validate_name(self.name, "column name")
        where = f"column {self.name!r}"
        if self.kind not in KINDS:
            raise InvalidInput(f"{where}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        for flag in ("required", "nullable"):
            if not isinstance(getattr(self, flag), bool):
                raise InvalidInput(f"{where}: {flag} must be true or false")
        if not self.required and not self.nullable:
            raise InvalidInput(
                f"{where}: an optional column must be nullable (it is filled with missing values)"
            )
        if not isinstance(self.description, str) or len(self.description) > 1000:
            raise InvalidInput(f"{where}: description must be text of at most 1000 characters")
        for bound in ("min", "max"):
            value = getattr(self, bound)
            if value is None:
                continue
            if self.kind not in ("numeric", "integer"):
                raise InvalidInput(f"{where}: {bound} applies only to numeric and integer columns")
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InvalidInput(f"{where}: {bound} must be a finite number")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise InvalidInput(f"{where}: min {self.min} is greater than max {self.max}")
        if self.categories is not None:
            self._check_categories(where)

    def _check_categories(self, where: str) -> None:
        categories = self.categories
        if self.kind != "categorical":
            raise InvalidInput(f"{where}: categories apply only to categorical columns")
        if not isinstance(categories, tuple) or not categories:
            raise InvalidInput(f"{where}: categories must be a non-empty list")
        if len(categories) > 10_000:
            raise InvalidInput(f"{where}: {len(categories)} categories; the limit is 10000")
        for category in categories:
            if isinstance(category, bool) or not isinstance(category, str | int):
                raise InvalidInput(f"{where}: category {category!r} must be text or an integer")
            if isinstance(category, str):
                validate_name(category, f"{where}: category", max_length=200)
        labels = [_label(c) for c in categories]
        if len(set(labels)) != len(labels):
            duplicate = next(label for label in labels if labels.count(label) > 1)
            raise InvalidInput(f"{where}: category {duplicate!r} is listed twice")

    @property
    def labels(self) -> frozenset[str] | None:
        """The allowed categories in canonical text form, or None if any label is allowed."""
        return None if self.categories is None else frozenset(_label(c) for c in self.categories)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind, "required": self.required}
        data["nullable"] = self.nullable
        if self.min is not None:
            data["min"] = self.min
        if self.max is not None:
            data["max"] = self.max
        if self.categories is not None:
            data["categories"] = list(self.categories)
        if self.description:
            data["description"] = self.description
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSpec:
        if not isinstance(data, Mapping):
            raise InvalidInput("a schema column must be a table with at least name and kind")
        unknown = sorted(set(data) - _COLUMN_KEYS)
        label = data.get("name", "?")
        if unknown:
            raise InvalidInput(f"column {label!r}: unknown key {unknown[0]!r}")
        for key in ("name", "kind"):
            if key not in data:
                raise InvalidInput(f"column {label!r}: missing key {key!r}")
        categories = data.get("categories")
        if categories is not None and not isinstance(categories, list | tuple):
            raise InvalidInput(f"column {label!r}: categories must be a list")
        return cls(
            name=data["name"],
            kind=data["kind"],
            required=data.get("required", True),
            nullable=data.get("nullable", False),
            min=data.get("min"),
            max=data.get("max"),
            categories=None if categories is None else tuple(categories),
            description=data.get("description", ""),
        )

    def check(self, series: pd.Series[Any] | None) -> tuple[pd.Series[Any], list[Finding]]:
        """Return the column in canonical form and the problems found (empty when it conforms)."""
        if series is None:
            if self.required:
                return _missing_series(self.kind, 0), [
                    Finding(self.name, "missing", f"column {self.name!r} is required but missing")
                ]
            return _missing_series(self.kind, 0), []
        if self.kind == "categorical":
            return self._check_categorical(series)
        return self._check_number(series)

    def _check_number(self, series: pd.Series[Any]) -> tuple[pd.Series[Any], list[Finding]]:
        findings: list[Finding] = []
        values, bad_type = _as_float(series, boolean=self.kind == "boolean")
        if bad_type is not None:
            count, row, examples = bad_type
            expected = {"numeric": "numbers", "integer": "integers", "boolean": "true/false or 0/1"}[
                self.kind
            ]
            findings.append(self._finding("type", f"values are not {expected}", count, row, examples))
            return pd.Series(values, index=series.index, name=self.name), findings
        missing = np.isnan(values)
        self._null_finding(missing, series, findings)
        infinite = np.isinf(values)
        if infinite.any():
            findings.append(
                self._finding("not_finite", "infinite values are not allowed", *_where(infinite, series))
            )
        finite = ~missing & ~infinite
        if self.kind == "integer":
            fractional = finite & (np.floor(np.where(finite, values, 0.0)) != np.where(finite, values, 0.0))
            if fractional.any():
                findings.append(
                    self._finding("not_integer", "values are not whole numbers", *_where(fractional, series))
                )
        if self.kind == "boolean":
            not_bool = finite & (values != 0.0) & (values != 1.0)
            if not_bool.any():
                findings.append(
                    self._finding("type", "values are not 0/1 or true/false", *_where(not_bool, series))
                )
        if self.min is not None:
            below = finite & (values < self.min)
            if below.any():
                findings.append(
                    self._finding("below_min", f"values below the minimum {self.min}", *_where(below, series))
                )
        if self.max is not None:
            above = finite & (values > self.max)
            if above.any():
                findings.append(
                    self._finding("above_max", f"values above the maximum {self.max}", *_where(above, series))
                )
        return pd.Series(values, index=series.index, name=self.name, dtype="float64"), findings

    def _check_categorical(self, series: pd.Series[Any]) -> tuple[pd.Series[Any], list[Finding]]:
        findings: list[Finding] = []
        raw = series.to_numpy(dtype=object, na_value=np.nan)
        labels = np.empty(len(raw), dtype=object)
        missing = np.zeros(len(raw), dtype=bool)
        bad_type = np.zeros(len(raw), dtype=bool)
        for i, value in enumerate(raw):
            label = _label_or_none(value)
            if label is _MISSING:
                missing[i] = True
                labels[i] = np.nan
            elif label is None:
                bad_type[i] = True
                labels[i] = np.nan
            else:
                labels[i] = label
        if bad_type.any():
            findings.append(
                self._finding(
                    "type", "values are not category labels (text or integers)", *_where(bad_type, series)
                )
            )
        self._null_finding(missing, series, findings)
        allowed = self.labels
        if allowed is not None:
            unknown = np.array(
                [
                    not m and not b and label not in allowed
                    for label, m, b in zip(labels, missing, bad_type, strict=True)
                ],
                dtype=bool,
            )
            if unknown.any():
                findings.append(
                    self._finding(
                        "unknown_category", "values are not allowed categories", *_where(unknown, series)
                    )
                )
        return pd.Series(labels, index=series.index, name=self.name, dtype=object), findings

    def _null_finding(
        self, missing: np.ndarray[Any, Any], series: pd.Series[Any], findings: list[Finding]
    ) -> None:
        if missing.any() and not self.nullable:
            findings.append(
                self._finding("null", "missing values (NaN/empty) are not allowed", *_where(missing, series))
            )

    def _finding(
        self, problem: str, text: str, count: int, row: int | None, examples: tuple[str, ...]
    ) -> Finding:
        rows = "1 row" if count == 1 else f"{count} rows"
        first = f", first at row {row}: {', '.join(examples)}" if examples and row is not None else ""
        return Finding(
            self.name, problem, f"column {self.name!r}: {text} ({rows}{first})", count, row, examples
        )


@dataclass(frozen=True)
class InputSchema:
    """The ordered input columns of a pipeline (the target is not part of it)."""

    columns: tuple[ColumnSpec, ...]
    _by_name: dict[str, ColumnSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.columns, tuple) or not self.columns:
            raise InvalidInput("the schema must list at least one column")
        by_name: dict[str, ColumnSpec] = {}
        for column in self.columns:
            if not isinstance(column, ColumnSpec):
                raise InvalidInput("schema columns must be ColumnSpec")
            if column.name in by_name:
                raise InvalidInput(f"column {column.name!r} appears twice in the schema")
            by_name[column.name] = column
        object.__setattr__(self, "_by_name", by_name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> ColumnSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise InvalidInput(f"column {name!r} is not in the schema") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [column.to_dict() for column in self.columns]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputSchema:
        if not isinstance(data, Mapping) or not isinstance(data.get("columns"), list | tuple):
            raise InvalidInput("the schema must have a list of columns")
        unknown = sorted(set(data) - {"columns"})
        if unknown:
            raise InvalidInput(f"schema: unknown key {unknown[0]!r}")
        return cls(tuple(ColumnSpec.from_dict(column) for column in data["columns"]))

    def _check(self, frame: pd.DataFrame, allow_extra: bool) -> tuple[pd.DataFrame, list[Finding]]:
        if not isinstance(frame, pd.DataFrame):
            raise InvalidInput(f"expected a table of rows, got {type(frame).__name__}")
        findings: list[Finding] = []
        names = [str(name) for name in frame.columns]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        for name in duplicates:
            findings.append(
                Finding(name, "duplicate_column", f"column {name!r} appears more than once in the input")
            )
        if not allow_extra:
            for name in names:
                if name not in self._by_name:
                    findings.append(Finding(name, "extra", f"column {name!r} is not in the schema"))
        canonical: dict[str, pd.Series[Any]] = {}
        for column in self.columns:
            if column.name in duplicates:
                continue
            present = column.name in frame.columns
            series = frame[column.name] if present else None
            values, column_findings = column.check(series)
            if series is None:
                values = _missing_series(column.kind, len(frame)).set_axis(frame.index)
            findings.extend(column_findings)
            canonical[column.name] = values.rename(column.name)
        return pd.DataFrame(canonical, index=frame.index), findings

    def validate_frame(self, frame: pd.DataFrame, *, allow_extra: bool = True) -> list[Finding]:
        """Every problem with ``frame``, one finding per column and kind of problem (empty: conforms)."""
        return self._check(frame, allow_extra)[1]

    def coerce(self, frame: pd.DataFrame, *, allow_extra: bool = True) -> pd.DataFrame:
        """The schema's columns of ``frame``, in schema order and canonical types; raise on any finding.

        The message names the first offending column and how many more problems there are.
        """
        result, findings = self._check(frame, allow_extra)
        if findings:
            more = f" (and {len(findings) - 1} more problems)" if len(findings) > 1 else ""
            raise InvalidInput(findings[0].message + more)
        return result


_MISSING = object()


def _label(value: Category) -> str:
    return value if isinstance(value, str) else str(int(value))


def _label_or_none(value: object) -> object:
    """Canonical text of a category value, ``_MISSING`` for a missing value, None for a wrong type."""
    if value is None or value is pd.NA or value is pd.NaT:
        return _MISSING
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return _MISSING
        if math.isfinite(value) and float(value).is_integer():
            return str(int(value))
    return None


def _missing_series(kind: str, length: int) -> pd.Series[Any]:
    if kind == "categorical":
        return pd.Series(np.full(length, np.nan, dtype=object), dtype=object)
    return pd.Series(np.full(length, np.nan), dtype="float64")


def _where(mask: np.ndarray[Any, Any], series: pd.Series[Any]) -> tuple[int, int | None, tuple[str, ...]]:
    positions = np.flatnonzero(mask)
    examples = tuple(_example(series.iloc[int(i)]) for i in positions[:_MAX_EXAMPLES])
    return len(positions), int(positions[0]) if len(positions) else None, examples


def _as_float(
    series: pd.Series[Any], *, boolean: bool
) -> tuple[np.ndarray[Any, Any], tuple[int, int | None, tuple[str, ...]] | None]:
    """Numbers as float64, or the positions of values that are not numbers (text is never parsed)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        if not boolean:
            return np.full(len(series), np.nan), _where(np.ones(len(series), dtype=bool), series)
        return series.astype("float64").to_numpy(dtype="float64", na_value=np.nan), None
    if pd.api.types.is_numeric_dtype(dtype):
        return series.to_numpy(dtype="float64", na_value=np.nan), None
    raw = series.to_numpy(dtype=object, na_value=np.nan)
    values = np.full(len(raw), np.nan)
    bad = np.zeros(len(raw), dtype=bool)
    for i, value in enumerate(raw):
        if value is None or value is pd.NA:
            continue
        if isinstance(value, bool | np.bool_):
            if boolean:
                values[i] = float(value)
            else:
                bad[i] = True
        elif isinstance(value, int | float | np.integer | np.floating):
            values[i] = float(value)
        else:
            bad[i] = True
    if bad.any():
        return values, _where(bad, series)
    return values, None


def schema_from_columns(columns: Iterable[Mapping[str, Any]]) -> InputSchema:
    """Build a schema from column tables (as written in a spec file)."""
    return InputSchema(tuple(ColumnSpec.from_dict(column) for column in columns))


__all__ = ["KINDS", "ColumnSpec", "Finding", "InputSchema", "Kind", "schema_from_columns"]
