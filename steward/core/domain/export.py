"""Exports people open in spreadsheets: neutralise formulas, keep the data.

A cell starting with ``= + - @`` (or a tab/carriage return that hides one) is
run as a formula by Excel and LibreOffice; prefixing a single quote makes it
text. JSON exports need nothing but correct escaping.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([neutralise_cell(name) for name in header])
    for row in rows:
        writer.writerow([neutralise_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")  # BOM so spreadsheets read UTF-8


def to_json(records: Iterable[dict[str, Any]]) -> bytes:
    return json.dumps(list(records), ensure_ascii=False, indent=2, default=str).encode("utf-8")
