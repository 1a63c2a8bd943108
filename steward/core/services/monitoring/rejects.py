"""Rows, not batches, are rejected: which rows of a production frame break the schema, and why.

The schema (``pipelines/schema.py``) judges whole columns and refuses a frame
on its first problem. A batch run needs the same rules per row, so that one
``AGE=150`` sets one row aside instead of failing 20,000. Each column is put in
canonical form by the schema's own ``ColumnSpec.check``; the per-row masks are
then read off the canonical values with the spec's declared bounds, so the two
can not disagree on what a value is. What is structural (a required column
missing, a column twice) is not a row's fault and still fails the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from steward.core.domain.monitoring import SAMPLE_REJECTED, RejectedRow, RowReason
from steward.core.errors import InvalidInput
from steward.core.pipelines.schema import ColumnSpec, InputSchema


@dataclass(frozen=True)
class RowSplit:
    """The rows that conform, and the rejected ones: how many, and a sample with their reasons."""

    accepted: pd.DataFrame
    rejected: int
    sample: tuple[RejectedRow, ...]


def _text(value: Any) -> str:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _masks(spec: ColumnSpec, series: pd.Series[Any]) -> dict[str, np.ndarray[Any, Any]]:
    """Rule name -> rows of ``series`` that break it."""
    canonical, _ = spec.check(series)
    present = series.notna().to_numpy()
    masks: dict[str, np.ndarray[Any, Any]] = {}
    if spec.kind == "categorical":
        missing = canonical.isna().to_numpy()
        masks["type"] = present & missing
        if not spec.nullable:
            masks["null"] = ~present
        allowed = spec.labels
        if allowed is not None:
            masks["unknown_category"] = ~missing & ~canonical.isin(allowed).to_numpy()
        return masks
    values = canonical.to_numpy(dtype="float64", na_value=np.nan)
    nan = np.isnan(values)
    masks["type"] = present & nan
    if not spec.nullable:
        masks["null"] = ~present
    infinite = np.isinf(values)
    masks["not_finite"] = infinite
    finite = ~nan & ~infinite
    safe = np.where(finite, values, 0.0)
    if spec.kind == "integer":
        masks["not_integer"] = finite & (np.floor(safe) != safe)
    if spec.kind == "boolean":
        masks["type"] = masks["type"] | (finite & (safe != 0.0) & (safe != 1.0))
    if spec.min is not None:
        masks["below_min"] = finite & (safe < spec.min)
    if spec.max is not None:
        masks["above_max"] = finite & (safe > spec.max)
    return masks


def _numbers_from_text(schema: InputSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns a CSV reader left as text because of a few bad cells, read as numbers.

    One ``"lots"`` in a column of numbers makes the whole column text; per row,
    the numbers are numbers and only that cell breaks the rule. A cell that is
    not a number stays as it was, so the type rule still names it.
    """
    converted: dict[str, pd.Series[Any]] = {}
    for spec in schema.columns:
        if spec.kind in ("numeric", "integer") and spec.name in frame.columns:
            series = frame[spec.name]
            if not pd.api.types.is_numeric_dtype(series.dtype):
                numbers = pd.to_numeric(series, errors="coerce")
                text = series.notna() & numbers.isna()
                converted[spec.name] = (
                    numbers.astype(object).where(~text, series.astype(object)) if text.any() else numbers
                )
    return frame.assign(**converted) if converted else frame


def split_rows(schema: InputSchema, frame: pd.DataFrame, *, sample: int = SAMPLE_REJECTED) -> RowSplit:
    """Set aside each row that breaks a column rule; keep the rest in file order.

    Raises ``InvalidInput`` for problems of the whole frame (a required column
    missing, a column appearing twice), which no row split can fix.
    """
    names = [str(name) for name in frame.columns]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InvalidInput(f"column {twice[0]!r} appears more than once in the production data")
    for spec in schema.columns:
        if spec.required and spec.name not in frame.columns:
            raise InvalidInput(f"column {spec.name!r} is required but missing from the production data")
    frame = _numbers_from_text(schema, frame)
    bad = np.zeros(len(frame), dtype=bool)
    per_column: list[tuple[ColumnSpec, dict[str, np.ndarray[Any, Any]]]] = []
    for spec in schema.columns:
        if spec.name not in frame.columns:
            continue
        masks = {rule: mask for rule, mask in _masks(spec, frame[spec.name]).items() if mask.any()}
        for mask in masks.values():
            bad |= mask
        if masks:
            per_column.append((spec, masks))
    if not bad.any():
        return RowSplit(frame, 0, ())  # (text columns of numbers were converted above)
    positions = np.flatnonzero(bad)
    kept: list[RejectedRow] = []
    for position in positions[:sample]:
        reasons = tuple(
            RowReason(spec.name, rule, _text(frame[spec.name].iloc[position]))
            for spec, masks in per_column
            for rule, mask in masks.items()
            if mask[position]
        )
        values = {str(c): _text(frame[c].iloc[position]) for c in frame.columns}
        kept.append(RejectedRow(int(frame.index[position]) + 1, values, reasons))
    accepted = frame.loc[~bad]
    numeric = [s.name for s in schema.columns if s.kind in ("numeric", "integer") and s.name in accepted]
    accepted = accepted.astype(
        {name: "float64" for name in numeric if not pd.api.types.is_numeric_dtype(accepted[name].dtype)}
    )
    return RowSplit(accepted, int(bad.sum()), tuple(kept))
