"""The input contract a predict request meets before any model sees it.

A body is one JSON object (one record) or a list of them. Limits are checked
before and while parsing so a hostile body costs little: its size (the
caller refuses longer bodies before reading them), nesting depth (scanned on
the raw bytes before ``json.loads``), records per request and fields per
record. Each record is then checked against the pipeline's input schema:
a missing, extra or mistyped field, NaN or infinity where not allowed, a
value out of range or an unseen category is a :class:`ContractViolation`
naming every bad field; nothing is silently predicted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from steward.core.pipelines.schema import ColumnSpec, InputSchema

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 4  # a list of objects of scalars is depth 2
MAX_RECORDS = 1000


@dataclass(frozen=True)
class FieldError:
    field: str
    problem: str
    message: str
    record: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "problem": self.problem, "message": self.message, "record": self.record}


class ContractViolation(Exception):
    """The request breaks the contract; ``status`` is the HTTP answer (400, 413 or 422)."""

    def __init__(self, status: int, message: str, errors: tuple[FieldError, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors

    def to_dict(self) -> dict[str, Any]:
        return {"detail": self.message, "errors": [e.to_dict() for e in self.errors]}


def nesting_depth(body: bytes, limit: int) -> int:
    """The deepest bracket nesting of a JSON text (strings skipped), stopping once past ``limit``."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def parse_records(
    body: bytes, *, max_fields: int, max_records: int = MAX_RECORDS
) -> tuple[list[dict[str, Any]], bool]:
    """The records of a body and whether it was a batch (a list); 400/413/422 on a body that is not one."""
    if len(body) > MAX_BODY_BYTES:
        raise ContractViolation(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    if nesting_depth(body, MAX_DEPTH) > MAX_DEPTH:
        raise ContractViolation(400, f"the body nests deeper than {MAX_DEPTH} levels; send flat records")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as problem:
        raise ContractViolation(400, f"the body is not JSON: {str(problem)[:200]}") from None
    batch = isinstance(payload, list)
    records = payload if batch else [payload]
    if not records:
        raise ContractViolation(422, "the body is an empty list: send at least one record")
    if len(records) > max_records:
        raise ContractViolation(413, f"{len(records)} records; at most {max_records} per request")
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise ContractViolation(
                422, f"record {i} is {type(record).__name__}, not an object of field values"
            )
        if len(record) > max_fields:
            raise ContractViolation(
                413, f"record {i} has {len(record)} fields; at most {max_fields} are read"
            )
        for name, value in record.items():
            if isinstance(value, dict | list):
                raise ContractViolation(
                    422,
                    "a field value must be a number, text, true/false or null",
                    (FieldError(str(name)[:100], "type", f"field {str(name)[:100]!r} is not a scalar", i),),
                )
    return records, batch


_NUMBER_WORDS = {"numeric": "numbers", "integer": "integers", "boolean": "true/false or 0/1"}


def _number(column: ColumnSpec, value: Any) -> tuple[float, str | None, str]:
    """The canonical float of one numeric/integer/boolean value, or (nan, problem, message)."""
    name = column.name
    if value is None:
        return math.nan, None if column.nullable else "null", "missing values are not allowed"
    if isinstance(value, bool):
        if column.kind == "boolean":
            return float(value), None, ""
        return math.nan, "type", f"values are not {_NUMBER_WORDS[column.kind]}"
    if not isinstance(value, int | float):
        return math.nan, "type", f"values are not {_NUMBER_WORDS[column.kind]} (got {type(value).__name__})"
    number = float(value)
    if math.isnan(number):
        return math.nan, None if column.nullable else "not_finite", f"{name}: NaN is not allowed"
    if math.isinf(number):
        return math.nan, "not_finite", "infinite values are not allowed"
    if column.kind == "integer" and not number.is_integer():
        return math.nan, "not_integer", "values are not whole numbers"
    if column.kind == "boolean" and number not in (0.0, 1.0):
        return math.nan, "type", "values are not 0/1 or true/false"
    if column.min is not None and number < column.min:
        return math.nan, "below_min", f"values below the minimum {column.min}"
    if column.max is not None and number > column.max:
        return math.nan, "above_max", f"values above the maximum {column.max}"
    return number, None, ""


def _category(column: ColumnSpec, value: Any, allowed: frozenset[str] | None) -> tuple[Any, str | None, str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan, None if column.nullable else "null", "missing values are not allowed"
    if isinstance(value, str):
        label: str | None = value
    elif isinstance(value, bool):
        label = None
    elif isinstance(value, int):
        label = str(value)
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        label = str(int(value))
    else:
        label = None
    if label is None:
        return math.nan, "type", "values are not category labels (text or integers)"
    if allowed is not None and label not in allowed:
        return math.nan, "unknown_category", "values are not allowed categories"
    return label, None, ""


def check_records(schema: InputSchema, records: list[dict[str, Any]]) -> pd.DataFrame:
    """The records as the model's canonical frame, in schema order; every bad field named otherwise.

    The same rules as :meth:`InputSchema.coerce` (the equivalence is tested), written per value in
    plain Python: a single record costs microseconds, not a pandas pass per column.
    """
    errors: list[FieldError] = []
    names = set(schema.names)
    columns: dict[str, list[Any]] = {}
    for column in schema.columns:
        allowed = column.labels if column.kind == "categorical" else None
        values: list[Any] = []
        for i, record in enumerate(records):
            if column.name not in record:
                if column.required:
                    errors.append(
                        FieldError(
                            column.name, "missing", f"field {column.name!r} is required but missing", i
                        )
                    )
                values.append(math.nan)
                continue
            raw = record[column.name]
            if column.kind == "categorical":
                value, problem, text = _category(column, raw, allowed)
            else:
                value, problem, text = _number(column, raw)
            if problem is not None:
                shown = repr(raw)
                shown = shown if len(shown) <= 40 else shown[:37] + "..."
                errors.append(FieldError(column.name, problem, f"field {column.name!r}: {text} ({shown})", i))
            values.append(value)
        columns[column.name] = values
    for i, record in enumerate(records):
        for name in record:
            if name not in names:
                field = str(name)[:100]
                errors.append(FieldError(field, "extra", f"field {field!r} is not in the schema", i))
    if errors:
        fields = ", ".join(dict.fromkeys(e.field for e in errors))
        raise ContractViolation(422, f"the input breaks the schema at: {fields}", tuple(errors))
    return pd.DataFrame(
        {
            c.name: pd.Series(columns[c.name], dtype=object)
            if c.kind == "categorical"
            else np.array(columns[c.name], dtype="float64")
            for c in schema.columns
        }
    )


def field_limit(schema: InputSchema) -> int:
    """How many fields a record may carry before it is refused unread: the schema's, plus a few extra."""
    return len(schema.columns) + 8


def records_of(frame: pd.DataFrame) -> list[Mapping[str, Any]]:
    return frame.to_dict(orient="records")  # type: ignore[return-value]
