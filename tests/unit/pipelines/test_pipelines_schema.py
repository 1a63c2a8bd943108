"""The input schema refuses what scikit-learn would silently accept, naming the column."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.core.errors import InvalidInput
from steward.core.pipelines.schema import ColumnSpec, InputSchema

SCHEMA = InputSchema(
    (
        ColumnSpec("amount", "numeric", min=0),
        ColumnSpec("age", "integer", min=18, max=120, nullable=True),
        ColumnSpec("colour", "categorical", categories=("red", "green")),
        ColumnSpec("code", "categorical", categories=(1, 2, 3)),
        ColumnSpec("member", "boolean"),
        ColumnSpec("note", "numeric", required=False, nullable=True),
    )
)


def good() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "member": [True, False],
            "amount": [10.0, 0.0],
            "age": [30, None],
            "colour": ["red", "green"],
            "code": [1, 3],
        }
    )


def problems(frame: pd.DataFrame, **kwargs: bool) -> list[tuple[str, str]]:
    return [(f.column, f.problem) for f in SCHEMA.validate_frame(frame, **kwargs)]


def test_a_conforming_frame_is_reordered_typed_and_completed() -> None:
    result = SCHEMA.coerce(good().assign(extra=[1, 2]))
    assert list(result.columns) == ["amount", "age", "colour", "code", "member", "note"]
    assert result["member"].tolist() == [1.0, 0.0]
    assert result["code"].tolist() == ["1", "3"]
    assert result["age"].isna().tolist() == [False, True]
    assert result["note"].isna().all()
    assert str(result["amount"].dtype) == "float64"


def test_missing_required_column_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"column 'colour' is required but missing"):
        SCHEMA.coerce(good().drop(columns=["colour"]))


def test_numbers_sent_as_text_are_refused_not_parsed() -> None:
    frame = good().astype({"amount": str})
    assert ("amount", "type") in problems(frame)
    with pytest.raises(InvalidInput, match=r"column 'amount': values are not numbers"):
        SCHEMA.coerce(frame)


def test_the_example_shown_is_the_unparsable_text() -> None:
    frame = pd.concat([good()] * 3, ignore_index=True).astype({"amount": object})
    frame.loc[4, "amount"] = "lots"
    finding = next(f for f in SCHEMA.validate_frame(frame) if f.column == "amount")
    assert finding.row == 4 and finding.examples == ("'lots'",)


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("amount", np.nan, "null"),
        ("amount", np.inf, "not_finite"),
        ("amount", -np.inf, "not_finite"),
        ("amount", -1.0, "below_min"),
        ("age", 130, "above_max"),
        ("age", 30.5, "not_integer"),
        ("colour", "purple", "unknown_category"),
        ("code", 4, "unknown_category"),
        ("code", 1.5, "type"),
        ("member", 2, "type"),
    ],
)
def test_each_bad_value_gives_a_finding_naming_column_and_row(
    column: str, value: object, problem: str
) -> None:
    frame = good().astype({column: object})
    frame.loc[1, column] = value  # type: ignore[call-overload]
    found = [f for f in SCHEMA.validate_frame(frame) if f.column == column]
    assert [f.problem for f in found] == [problem]
    assert found[0].row == 1 and found[0].count == 1
    assert f"column {column!r}" in found[0].message


def test_infinity_is_refused_even_in_a_nullable_column() -> None:
    frame = good()
    frame["age"] = [np.inf, 20]
    assert problems(frame) == [("age", "not_finite")]


def test_extra_columns_are_a_finding_only_when_not_allowed() -> None:
    frame = good().assign(surprise=1)
    assert problems(frame) == []
    assert problems(frame, allow_extra=False) == [("surprise", "extra")]


def test_duplicate_columns_are_refused() -> None:
    frame = pd.concat([good(), good()[["amount"]]], axis=1)
    assert ("amount", "duplicate_column") in problems(frame)


def test_categories_compare_as_text_so_2_and_2_0_and_text_2_agree() -> None:
    frame = pd.concat([good()] * 2, ignore_index=True)
    frame["code"] = pd.Series([2, 2.0, "2", 3], dtype=object)
    assert SCHEMA.coerce(frame)["code"].tolist() == ["2", "2", "2", "3"]


def test_all_problems_are_counted_in_the_one_line_message() -> None:
    frame = good()
    frame["amount"] = [-1.0, np.inf]
    frame["colour"] = ["red", "mauve"]
    with pytest.raises(InvalidInput) as caught:
        SCHEMA.coerce(frame)
    assert "(and 2 more problems)" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"kind": "text"}, "kind 'text'"),
        ({"kind": "numeric", "required": False}, "optional column must be nullable"),
        ({"kind": "categorical", "min": 0}, "min applies only"),
        ({"kind": "numeric", "min": 5, "max": 1}, "greater than max"),
        ({"kind": "numeric", "categories": ("a",)}, "categories apply only"),
        ({"kind": "categorical", "categories": ("a", "a")}, "listed twice"),
        ({"kind": "categorical", "categories": (1, "1")}, "listed twice"),
        ({"kind": "categorical", "categories": ("<b>",)}, "markup"),
        ({"kind": "numeric", "max": float("nan")}, "finite number"),
    ],
)
def test_bad_column_definitions_are_refused(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidInput, match="column 'x'") as caught:
        ColumnSpec("x", **kwargs)  # type: ignore[arg-type]
    assert fragment in str(caught.value)


def test_schema_round_trips_through_plain_data() -> None:
    data = SCHEMA.to_dict()
    assert InputSchema.from_dict(data) == SCHEMA
    assert json.loads(json.dumps(data)) == data


def test_unknown_keys_in_a_stored_schema_are_refused() -> None:
    data = SCHEMA.to_dict()
    data["columns"][0]["minimum"] = 3
    with pytest.raises(InvalidInput, match="unknown key 'minimum'"):
        InputSchema.from_dict(data)


def test_duplicate_schema_columns_are_refused() -> None:
    with pytest.raises(InvalidInput, match="'a' appears twice"):
        InputSchema((ColumnSpec("a", "numeric"), ColumnSpec("a", "integer")))


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=30))
def test_numeric_coercion_never_lets_a_non_finite_value_through(values: list[float]) -> None:
    schema = InputSchema((ColumnSpec("v", "numeric", nullable=True),))
    frame = pd.DataFrame({"v": values})
    if any(np.isinf(values)):
        with pytest.raises(InvalidInput, match="column 'v': infinite"):
            schema.coerce(frame)
    else:
        assert np.array_equal(schema.coerce(frame)["v"].to_numpy(), np.array(values), equal_nan=True)
