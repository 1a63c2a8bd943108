"""A stable SHA-256 of a table's values, for lineage ("was this version trained on that data?").

Canonical serialisation, version ``steward-frame-v1`` (change the tag if this changes):

- the tag, then the column count and row count as 8-byte little-endian integers;
- per column, in the frame's order: the name (4-byte little-endian length, UTF-8),
  one tag byte, then every value in row order:
  - ``f`` float and boolean columns (and integer columns holding missing
    values), as float64: 8-byte little-endian IEEE 754, with every NaN written
    as the one quiet NaN ``0x7ff8000000000000`` and ``-0.0`` as ``0.0``;
  - ``i`` integer columns: 8-byte little-endian signed;
  - ``t`` text columns (object dtype): per value, a 4-byte little-endian length
    and UTF-8, or the length ``0xffffffff`` for a missing value.

So the digest depends on the values, their column order and their row order,
not on file formatting (``5e+05`` and ``500000`` read the same), pandas'
in-memory layout or the library version. Frames are hashed after
``InputSchema.coerce``, which fixes column order and types.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import numpy as np
import pandas as pd

from steward.core.errors import InvalidInput

FORMAT_TAG = b"steward-frame-v1\n"
_MISSING_TEXT = struct.pack("<I", 0xFFFFFFFF)
_CANONICAL_NAN = np.array([0x7FF8000000000000], dtype="<u8").view("<f8")[0]


def _float_bytes(values: np.ndarray[Any, Any]) -> bytes:
    canonical = np.array(values, dtype="<f8", copy=True)
    canonical[np.isnan(canonical)] = _CANONICAL_NAN
    canonical[canonical == 0.0] = 0.0  # folds -0.0 into 0.0
    return canonical.tobytes()


def _text_bytes(values: np.ndarray[Any, Any], column: str) -> bytes:
    parts: list[bytes] = []
    for value in values:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            parts.append(_MISSING_TEXT)
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"column {column!r}: cannot digest a {type(value).__name__} value as text")
        encoded = value.encode("utf-8")
        parts.append(struct.pack("<I", len(encoded)) + encoded)
    return b"".join(parts)


def frame_digest(frame: pd.DataFrame) -> str:
    """Hex SHA-256 of ``frame`` in the canonical serialisation described in this module."""
    hasher = hashlib.sha256(FORMAT_TAG)
    hasher.update(struct.pack("<QQ", frame.shape[1], frame.shape[0]))
    for position in range(frame.shape[1]):
        name = str(frame.columns[position])
        series = frame.iloc[:, position]
        encoded_name = name.encode("utf-8")
        hasher.update(struct.pack("<I", len(encoded_name)) + encoded_name)
        dtype = series.dtype
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
            hasher.update(b"f")
            hasher.update(_float_bytes(series.to_numpy(dtype="float64", na_value=np.nan)))
        elif pd.api.types.is_integer_dtype(dtype) and not series.isna().any():
            hasher.update(b"i")
            hasher.update(series.to_numpy(dtype="<i8").tobytes())
        elif pd.api.types.is_integer_dtype(dtype):
            hasher.update(b"f")
            hasher.update(_float_bytes(series.to_numpy(dtype="float64", na_value=np.nan)))
        else:
            hasher.update(b"t")
            hasher.update(_text_bytes(series.to_numpy(dtype=object, na_value=np.nan), name))
    return hasher.hexdigest()
