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

import pandas as pd

from steward.core.pipelines.schema import InputSchema

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


def _non_finite(schema: InputSchema, records: list[dict[str, Any]]) -> list[FieldError]:
    """NaN or infinity sent where the schema does not allow them (JSON's NaN token parses to a float)."""
    errors = []
    for i, record in enumerate(records):
        for name, value in record.items():
            if isinstance(value, float) and not math.isfinite(value) and name in schema:
                column = schema.column(name)
                if math.isinf(value) or not column.nullable:
                    errors.append(
                        FieldError(name, "not_finite", f"field {name!r}: {value} is not allowed", i)
                    )
    return errors


def check_records(schema: InputSchema, records: list[dict[str, Any]]) -> pd.DataFrame:
    """The records as the model's canonical frame, in schema order; every bad field named otherwise."""
    errors: list[FieldError] = _non_finite(schema, records)
    names = set(schema.names)
    for i, record in enumerate(records):
        for name in record:
            if name not in names:
                errors.append(
                    FieldError(str(name)[:100], "extra", f"field {str(name)[:100]!r} is not in the schema", i)
                )
    frame = pd.DataFrame.from_records(
        records, columns=[c for c in schema.names if any(c in r for r in records)]
    )
    for i, record in enumerate(records):  # a field missing from only some records of a batch
        for column in schema.columns:
            if column.required and column.name not in record and len(records) > 1 and column.name in frame:
                errors.append(
                    FieldError(column.name, "missing", f"field {column.name!r} is required but missing", i)
                )
    for finding in schema.validate_frame(frame, allow_extra=True):
        if any(e.field == finding.column and e.problem == "not_finite" for e in errors):
            continue
        errors.append(FieldError(finding.column, finding.problem, finding.message, finding.row))
    if errors:
        fields = ", ".join(dict.fromkeys(e.field for e in errors))
        raise ContractViolation(422, f"the input breaks the schema at: {fields}", tuple(errors))
    return schema.coerce(frame, allow_extra=True)


def field_limit(schema: InputSchema) -> int:
    """How many fields a record may carry before it is refused unread: the schema's, plus a few extra."""
    return len(schema.columns) + 8


def records_of(frame: pd.DataFrame) -> list[Mapping[str, Any]]:
    return frame.to_dict(orient="records")  # type: ignore[return-value]
