"""Rule-set fallbacks as plain Python: validation against a schema and task, first match wins, the table form."""

from __future__ import annotations

import math

import pytest

from steward.core.domain.rule_sets import RuleSet, from_table, operators_for, to_table
from steward.core.errors import InvalidInput
from steward.core.pipelines.schema import InputSchema

SCHEMA = InputSchema.from_dict(
    {
        "columns": [
            {"name": "amount", "kind": "numeric", "min": 0},
            {"name": "colour", "kind": "categorical", "categories": ["red", "green", "blue"]},
            {"name": "member", "kind": "boolean"},
            {"name": "age", "kind": "integer", "nullable": True, "required": False},
        ]
    }
)

BODY = {
    "rules": [
        {"when": [{"column": "amount", "operator": ">", "value": 1000}], "output": 0.9, "label": "1"},
        {
            "when": [
                {"column": "colour", "operator": "in", "value": ["red", "blue"]},
                {"column": "member", "operator": "==", "value": True},
            ],
            "output": 0.6,
        },
        {"when": [{"column": "age", "operator": "is missing"}], "output": 0.5},
    ],
    "default": {"output": 0.1, "label": "0"},
}


def parsed() -> RuleSet:
    return RuleSet.parse(BODY, SCHEMA, "classification")


def test_the_first_matching_rule_answers_and_the_default_answers_the_rest() -> None:
    rules = parsed()
    records = [
        {"amount": 5000.0, "colour": "red", "member": True, "age": 40},  # rule 1 (before rule 2)
        {"amount": 10.0, "colour": "blue", "member": 1, "age": 40},  # rule 2: 1 is true
        {"amount": 10.0, "colour": "green", "member": True, "age": None},  # rule 3
        {"amount": 10.0, "colour": "green", "member": False, "age": 30},  # default
        {"amount": 10.0, "colour": "red", "member": False, "age": float("nan")},  # NaN is missing: rule 3
    ]
    assert [rules.answer(r)[1] for r in records] == [1, 2, 3, None, 3]
    predictions, labels = rules.evaluate(records)
    assert predictions == [0.9, 0.6, 0.5, 0.1, 0.5]
    assert labels == ["1", None, None, "0", None]


def test_a_missing_value_satisfies_no_comparison() -> None:
    rules = RuleSet.parse(
        {
            "rules": [{"when": [{"column": "age", "operator": "<", "value": 30}], "output": 1}],
            "default": {"output": 0},
        },
        SCHEMA,
        "regression",
    )
    assert rules.evaluate([{"age": None}, {"age": 20}, {}])[0] == [0.0, 1.0, 0.0]


@pytest.mark.parametrize(
    ("body", "task", "message"),
    [
        ({"rules": []}, "classification", "needs a default"),
        ({"rules": [], "default": {"output": 1.5}}, "classification", "probability between 0 and 1"),
        ({"rules": [], "default": {"output": float("nan")}}, "regression", "finite number"),
        ({"rules": [], "default": {"output": "0.3"}}, "regression", "is not a number"),
        ({"rules": [], "default": {"output": 3, "label": "x"}}, "regression", "only a classifier"),
        (
            {
                "rules": [{"when": [{"column": "income", "operator": ">", "value": 1}], "output": 1}],
                "default": {"output": 0},
            },
            "regression",
            "rule 1, condition 1: no input column named 'income'",
        ),
        (
            {
                "rules": [{"when": [{"column": "colour", "operator": ">", "value": "red"}], "output": 1}],
                "default": {"output": 0},
            },
            "regression",
            "colour (categorical) takes ==, !=, in, not in",
        ),
        (
            {
                "rules": [{"when": [{"column": "colour", "operator": "==", "value": "pink"}], "output": 1}],
                "default": {"output": 0},
            },
            "regression",
            "'pink' is not one of colour's categories",
        ),
        (
            {
                "rules": [{"when": [{"column": "amount", "operator": "<", "value": "ten"}], "output": 1}],
                "default": {"output": 0},
            },
            "regression",
            "'ten' is not a number",
        ),
        (
            {
                "rules": [{"when": [{"column": "amount", "operator": "is missing"}], "output": 1}],
                "default": {"output": 0},
            },
            "regression",
            "amount (numeric) takes",  # not nullable: it is never missing
        ),
        (
            {"rules": [{"when": [], "output": 1}], "default": {"output": 0}},
            "regression",
            "at least one condition",
        ),
        ({"rules": [], "default": {"output": 0}, "extra": 1}, "regression", "not 'extra'"),
    ],
)
def test_a_bad_rule_set_is_refused_naming_the_problem(body: dict, task: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        RuleSet.parse(body, SCHEMA, task)
    assert message in str(caught.value)


def test_the_json_form_round_trips_and_so_does_the_stored_form() -> None:
    rules = parsed()
    assert RuleSet.parse(rules.to_dict(), SCHEMA, "classification") == rules
    assert RuleSet.from_stored(rules.to_dict()) == rules


def test_the_table_form_round_trips_and_groups_rows_by_rule_number() -> None:
    rules = parsed()
    rows = to_table(rules)
    assert [r["rule"] for r in rows] == [1, 2, 2, 3]
    assert rows[1]["value"] == "red, blue" and rows[2]["value"] == "true"
    back = from_table(rows, 0.1, "0", SCHEMA, "classification")
    assert back == rules


def test_the_table_form_refuses_a_rule_without_one_output_and_skips_empty_rows() -> None:
    rows = [
        {"rule": 1, "column": "amount", "operator": ">", "value": "10", "output": None, "label": ""},
        {"rule": None, "column": None, "operator": None, "value": None, "output": math.nan, "label": None},
    ]
    with pytest.raises(InvalidInput, match="rule 1 needs one output"):
        from_table(rows, 0.0, None, SCHEMA, "regression")
    rows[0]["output"] = 2.0
    assert from_table(rows, 0.0, None, SCHEMA, "regression").rules[0].outcome.prediction == 2.0
    with pytest.raises(InvalidInput, match="default output is empty"):
        from_table(rows, None, None, SCHEMA, "regression")
    rows[0]["value"] = "lots"
    with pytest.raises(InvalidInput, match="compares with a number"):
        from_table(rows, 0.0, None, SCHEMA, "regression")


def test_operators_follow_the_column_kind() -> None:
    assert "is missing" in operators_for(SCHEMA.column("age"))
    assert "in" not in operators_for(SCHEMA.column("amount"))
    assert operators_for(SCHEMA.column("member")) == ("==", "!=")
