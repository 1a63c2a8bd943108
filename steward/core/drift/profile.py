"""Profiles: what drift checks keep of a data set instead of its rows.

A reference profile is built once at training time and stored; every later
check compares a production window against it without reloading the training
set. Production windows are profiled the same way, with the reference's
schema, and profiles merge exactly (hour into day into week):

* numeric columns keep their distinct finite values with counts, exactly up to
  ``max_points`` distinct values (100,000 by default), thinned to quantile points
  above that with the error bound carried in ``rank_error`` (see ``sketch``);
  mean and variance are exact at any size;
* categorical columns keep the count of every category (at most 2,000, more is
  an identifier and not monitored);
* every column keeps its missing, type-error and infinity counts.

``to_bytes`` writes a JSON header and ``numpy.savez_compressed`` arrays; nothing
is pickled and ``from_bytes`` loads with ``allow_pickle=False`` and validates.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from steward.core.drift.coerce import read_categorical, read_numeric
from steward.core.drift.kinds import ColumnKind, ColumnSpec, Schema, infer_schema
from steward.core.drift.sketch import (
    DEFAULT_MAX_POINTS,
    CategoricalSummary,
    NumericSummary,
    merge_categorical,
    merge_numeric,
)
from steward.core.drift.stats import numeric_bin_counts, numeric_bin_edges
from steward.core.errors import InvalidInput

FORMAT_VERSION = 1
_MAGIC = b"STEWARD-DRIFT-PROFILE\n"
_MAX_HEADER_BYTES = 64 * 1024 * 1024
_MERGE_EVERY = 2  # fold each chunk into the running profile: memory stays flat
_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def _finite_or_none(x: float) -> float | None:
    return x if np.isfinite(x) else None


@dataclass(frozen=True, eq=False)
class ColumnProfile:
    """Counts and the value summary of one column."""

    spec: ColumnSpec
    rows: int
    missing: int = 0
    type_errors: int = 0
    pos_inf: int = 0
    neg_inf: int = 0
    numeric: NumericSummary | None = None
    categorical: CategoricalSummary | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> ColumnKind:
        return self.spec.kind

    @property
    def valid(self) -> int:
        """Values the statistics use (finite numbers, or present categories)."""
        if self.numeric is not None:
            return self.numeric.total
        if self.categorical is not None:
            return self.categorical.total
        return 0

    def to_dict(self) -> dict[str, Any]:
        """JSON summary for pages and the database: quantiles and bins, never the raw points."""
        out: dict[str, Any] = {
            **self.spec.to_dict(),
            "rows": self.rows,
            "missing": self.missing,
            "type_errors": self.type_errors,
            "pos_inf": self.pos_inf,
            "neg_inf": self.neg_inf,
            "valid": self.valid,
        }
        num = self.numeric
        if num is not None and num.total:
            cum = num.cumulative()
            idx = np.minimum(np.searchsorted(cum, np.array(_QUANTILES) * cum[-1], side="left"), cum.size - 1)
            edges = numeric_bin_edges(num)
            out["numeric"] = {
                "count": num.total,
                "mean": num.mean,
                "std": num.std,
                "min": num.min,
                "max": num.max,
                "quantiles": {str(q): float(v) for q, v in zip(_QUANTILES, num.values[idx], strict=True)},
                "bin_edges": edges.tolist(),
                "bin_counts": numeric_bin_counts(num, edges).astype(int).tolist(),
                "points": int(num.values.size),
                "exact": num.exact,
                "rank_error": num.rank_error,
            }
        if self.categorical is not None:
            out["categorical"] = {"counts": self.categorical.as_mapping()}
        return out


def profile_column(
    series: pd.Series, spec: ColumnSpec, *, for_storage: bool = True, max_points: int | None = None
) -> ColumnProfile:
    """Profile one column read as ``spec.kind``.

    ``for_storage=False`` (a window only compared in memory) keeps duplicate
    values and skips the moments: same statistics, two passes fewer.
    ``max_points`` thins the numeric summary (for storage).
    """
    if spec.kind is ColumnKind.NUMERIC:
        col = read_numeric(series)
        if for_storage and max_points is not None:
            summary = NumericSummary.thinned_from_values(col.values, max_points)
        else:
            summary = NumericSummary.from_values(col.values, distinct=for_storage, moments=for_storage)
        return ColumnProfile(
            spec,
            col.rows,
            col.missing,
            col.type_errors,
            col.pos_inf,
            col.neg_inf,
            numeric=summary,
        )
    if spec.kind is ColumnKind.CATEGORICAL:
        cat = read_categorical(series)
        return ColumnProfile(spec, cat.rows, cat.missing, categorical=cat.summary)
    return ColumnProfile(spec, len(series), int(series.isna().sum()))


def merge_columns(parts: Sequence[ColumnProfile], max_points: int = DEFAULT_MAX_POINTS) -> ColumnProfile:
    """Exact merge of profiles of the same column (only numeric thinning adds error)."""
    spec = parts[0].spec
    if any(p.spec.kind != spec.kind for p in parts):
        raise InvalidInput(f"column {spec.name!r} has different kinds in the profiles being merged")
    numeric = [p.numeric for p in parts if p.numeric is not None]
    categorical = [p.categorical for p in parts if p.categorical is not None]
    return ColumnProfile(
        spec,
        sum(p.rows for p in parts),
        sum(p.missing for p in parts),
        sum(p.type_errors for p in parts),
        sum(p.pos_inf for p in parts),
        sum(p.neg_inf for p in parts),
        numeric=merge_numeric(numeric, max_points) if numeric else None,
        categorical=merge_categorical(categorical) if categorical else None,
    )


@dataclass(frozen=True, eq=False)
class Profile:
    """Profiles of the columns of one data set (a reference, or a production window)."""

    columns: tuple[ColumnProfile, ...]
    rows: int
    max_points: int = DEFAULT_MAX_POINTS
    extra_columns: tuple[str, ...] = ()
    ignored_columns: tuple[str, ...] = ()  # excluded on purpose: never reported as extra

    @property
    def schema(self) -> Schema:
        return Schema(tuple(c.spec for c in self.columns))

    def column(self, name: str) -> ColumnProfile | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "rows": self.rows,
            "max_points": self.max_points,
            "extra_columns": list(self.extra_columns),
            "ignored_columns": list(self.ignored_columns),
            "columns": [c.to_dict() for c in self.columns],
        }

    def to_bytes(self) -> bytes:
        """Compact, pickle-free bytes: a JSON header, then compressed numpy arrays."""
        arrays: dict[str, np.ndarray[Any, Any]] = {}
        cols = []
        for i, c in enumerate(self.columns):
            entry: dict[str, Any] = {
                "spec": c.spec.to_dict(),
                "rows": c.rows,
                "missing": c.missing,
                "type_errors": c.type_errors,
                "pos_inf": c.pos_inf,
                "neg_inf": c.neg_inf,
                "numeric": None,
                "categorical": None,
            }
            if c.numeric is not None:
                entry["numeric"] = c.numeric.header()
                arrays.update(c.numeric.to_arrays(f"n{i}"))
            if c.categorical is not None:
                entry["categorical"] = list(c.categorical.categories)
                arrays[f"c{i}.counts"] = c.categorical.counts
            cols.append(entry)
        header = json.dumps(
            {
                "format": FORMAT_VERSION,
                "rows": self.rows,
                "max_points": self.max_points,
                "extra_columns": list(self.extra_columns),
                "ignored_columns": list(self.ignored_columns),
                "columns": cols,
            },
            separators=(",", ":"),
        ).encode()
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
        return _MAGIC + struct.pack(">Q", len(header)) + header + buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        """Load bytes written by ``to_bytes``; anything malformed is ``InvalidInput``, never code."""
        if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 8:
            raise InvalidInput("not a Steward drift profile (bad header)")
        (length,) = struct.unpack(">Q", data[len(_MAGIC) : len(_MAGIC) + 8])
        start = len(_MAGIC) + 8
        if length > _MAX_HEADER_BYTES or start + length > len(data):
            raise InvalidInput("corrupt profile: header length out of range")
        try:
            header = json.loads(data[start : start + length])
            with np.load(io.BytesIO(data[start + length :]), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise InvalidInput(f"corrupt profile: {exc}") from None
        try:
            if header.get("format") != FORMAT_VERSION:
                raise InvalidInput(f"unsupported profile format {header.get('format')!r}")
            columns = []
            for i, entry in enumerate(header["columns"]):
                spec = ColumnSpec.from_dict(entry["spec"])
                numeric = None
                categorical = None
                if entry["numeric"] is not None:
                    numeric = NumericSummary.from_parts(
                        entry["numeric"], arrays[f"n{i}.values"], arrays[f"n{i}.counts"]
                    )
                if entry["categorical"] is not None:
                    counts = arrays[f"c{i}.counts"]
                    keys = entry["categorical"]
                    if (
                        counts.dtype != np.int64
                        or counts.shape != (len(keys),)
                        or not all(isinstance(k, str) for k in keys)
                    ):
                        raise InvalidInput("corrupt profile: category counts do not match the categories")
                    categorical = CategoricalSummary(tuple(keys), counts)
                columns.append(
                    ColumnProfile(
                        spec,
                        int(entry["rows"]),
                        int(entry["missing"]),
                        int(entry["type_errors"]),
                        int(entry["pos_inf"]),
                        int(entry["neg_inf"]),
                        numeric,
                        categorical,
                    )
                )
            return cls(
                tuple(columns),
                int(header["rows"]),
                int(header["max_points"]),
                tuple(str(x) for x in header.get("extra_columns", [])),
                tuple(str(x) for x in header.get("ignored_columns", [])),
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise InvalidInput(f"corrupt profile: {exc!r}") from None


def build_profile(
    data: pd.DataFrame | Iterable[pd.DataFrame],
    *,
    schema: Schema | None = None,
    kinds: Mapping[str, ColumnKind | str] | None = None,
    prediction_columns: Sequence[str] = (),
    exclude: Sequence[str] = (),
    max_points: int = DEFAULT_MAX_POINTS,
) -> Profile:
    """Profile a frame, or frames read in chunks (kinds are inferred on the first chunk).

    Pass the reference's ``schema`` when profiling a production window, so each
    column is read as the reference reads it; columns absent from the data are
    left out (the comparison reports them), columns not in the schema are
    listed in ``extra_columns``.
    """
    chunks = [data] if isinstance(data, pd.DataFrame) else data
    parts: dict[str, list[ColumnProfile]] = {}
    specs: dict[str, ColumnSpec] = {}
    extra: dict[str, None] = {}
    rows = 0
    seen_any = False
    for chunk in chunks:
        seen_any = True
        if schema is None:
            schema = infer_schema(chunk, kinds=kinds, prediction_columns=prediction_columns, exclude=exclude)
        rows += len(chunk)
        names = [str(c) for c in chunk.columns]
        by_name = dict(zip(names, chunk.columns, strict=True))
        for name in names:
            if schema.get(name) is None and name not in exclude:
                extra[name] = None
        for spec in schema.columns:
            if spec.name not in by_name:
                continue
            specs[spec.name] = spec
            col = profile_column(chunk[by_name[spec.name]], spec, max_points=max_points)
            bucket = parts.setdefault(spec.name, [])
            bucket.append(col)
            if len(bucket) >= _MERGE_EVERY:  # bound memory: fold chunks as they come
                parts[spec.name] = [merge_columns(bucket, max_points)]
    if not seen_any:
        raise InvalidInput("no data to profile")
    assert schema is not None
    columns = tuple(merge_columns(parts[s.name], max_points) for s in schema.columns if s.name in parts)
    return Profile(columns, rows, max_points, tuple(extra), tuple(exclude))


def merge(a: Profile, b: Profile, *more: Profile) -> Profile:
    """Merge profiles of windows read with the same schema (hour into day into week)."""
    profiles = (a, b, *more)
    max_points = min(p.max_points for p in profiles)
    order: dict[str, list[ColumnProfile]] = {}
    for p in profiles:
        for c in p.columns:
            order.setdefault(c.name, []).append(c)
    extra = {e: None for p in profiles for e in p.extra_columns}
    ignored = {e: None for p in profiles for e in p.ignored_columns}
    columns = tuple(merge_columns(parts, max_points) for parts in order.values())
    return Profile(columns, sum(p.rows for p in profiles), max_points, tuple(extra), tuple(ignored))
