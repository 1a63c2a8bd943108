"""The per-record contract check agrees with the schema's own check, value for value and finding for finding."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from steward.core.pipelines.schema import schema_from_columns
from steward.core.scoring.contract import ContractViolation, check_records, nesting_depth, parse_records

SCHEMA = schema_from_columns(
    [
        {"name": "amount", "kind": "numeric", "min": 0},
        {"name": "age", "kind": "integer", "min": 18, "max": 120},
        {"name": "flag", "kind": "boolean", "required": False, "nullable": True},
        {"name": "colour", "kind": "categorical", "categories": ["red", 2]},
        {"name": "note", "kind": "categorical", "required": False, "nullable": True},
    ]
)
GOOD = [
    {"amount": 1.5, "age": 30, "flag": True, "colour": "red", "note": "x"},
    {"amount": 0, "age": 40.0, "flag": None, "colour": 2, "note": None},
    {"amount": 7, "age": 18, "flag": 0, "colour": 2.0},
]
BAD = [
    ({"amount": "1", "age": 30, "colour": "red"}, "amount", "type"),
    ({"amount": -1, "age": 30, "colour": "red"}, "amount", "below_min"),
    ({"amount": 1, "age": 30.5, "colour": "red"}, "age", "not_integer"),
    ({"amount": 1, "age": 121, "colour": "red"}, "age", "above_max"),
    ({"amount": 1, "age": 30, "colour": "blue"}, "colour", "unknown_category"),
    ({"amount": 1, "age": 30, "colour": True}, "colour", "type"),
    ({"amount": 1, "age": 30, "colour": None}, "colour", "null"),
    ({"amount": 1, "age": 30, "flag": 2, "colour": "red"}, "flag", "type"),
    ({"amount": math.inf, "age": 30, "colour": "red"}, "amount", "not_finite"),
    ({"amount": True, "age": 30, "colour": "red"}, "amount", "type"),
    ({"age": 30, "colour": "red"}, "amount", "missing"),
    ({"amount": 1, "age": 30, "colour": "red", "size": 1}, "size", "extra"),
]


def test_good_records_give_the_schemas_canonical_frame():
    expected = SCHEMA.coerce(pd.DataFrame.from_records(GOOD))
    pd.testing.assert_frame_equal(check_records(SCHEMA, GOOD), expected)


@pytest.mark.parametrize(("record", "field", "problem"), BAD)
def test_each_bad_value_is_named_as_the_schema_names_it(record, field, problem):
    with pytest.raises(ContractViolation) as caught:
        check_records(SCHEMA, [record])
    assert caught.value.status == 422
    assert {(e.field, e.problem) for e in caught.value.errors} == {(field, problem)}
    if problem not in ("extra", "not_finite"):  # the frame check reports inf as not_finite too
        findings = SCHEMA.validate_frame(pd.DataFrame.from_records([record]), allow_extra=True)
        assert {(f.column, f.problem) for f in findings} == {(field, problem)}


def test_nan_is_refused_where_the_column_is_not_nullable():
    with pytest.raises(ContractViolation) as caught:
        check_records(SCHEMA, [{"amount": math.nan, "age": 30, "colour": "red"}])
    assert [(e.field, e.problem) for e in caught.value.errors] == [("amount", "not_finite")]


def test_hostile_shapes_are_refused_before_the_schema():
    assert nesting_depth(b'[{"a": "[[[["}]', 10) == 2
    assert nesting_depth(b"[" * 1000, 4) == 5  # stops counting past the limit
    with pytest.raises(ContractViolation, match="deeper"):
        parse_records(b"[[[[[[1]]]]]]", max_fields=10)
    with pytest.raises(ContractViolation, match="fields"):
        parse_records(b'{"a":1,"b":2,"c":3}', max_fields=2)
    assert parse_records(b'[{"a":1}]', max_fields=2) == ([{"a": 1}], True)
