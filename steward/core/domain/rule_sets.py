"""Rule-set fallbacks: a small declarative table that answers when the primary model cannot.

A rule set is a list of rules and a default. A rule is one or more
conditions (column, operator, value), all of which must hold, and an output;
the first rule that matches a record answers, the default answers the rest.
It is validated against the input schema and the task of the version it
stands in for (a classifier's output is a probability in [0, 1], with an
optional label; a regressor's is any finite number), so a rule set that
names a missing column or compares a category with a number is refused when
it is saved, not when it is needed.

Evaluation is plain Python over the records the input contract already
checked, so it answers even when no model can be loaded.

The editor's table form (one row per condition; rows with the same rule
number are ANDed; the output is written on one row of the rule) is
:func:`from_table` / :func:`to_table`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from steward.core.errors import InvalidInput
from steward.core.pipelines.schema import ColumnSpec, InputSchema

MAX_RULES = 200
MAX_CONDITIONS = 20
MAX_LIST = 100
MAX_LABEL = 100

NUMERIC_OPERATORS = ("==", "!=", "<", "<=", ">", ">=")
CATEGORY_OPERATORS = ("==", "!=", "in", "not in")
BOOLEAN_OPERATORS = ("==", "!=")
MISSING_OPERATORS = ("is missing", "is present")
OPERATORS: tuple[str, ...] = (*NUMERIC_OPERATORS, "in", "not in", *MISSING_OPERATORS)


def operators_for(column: ColumnSpec) -> tuple[str, ...]:
    """The operators a column of this kind may be compared with (missing checks only when nullable)."""
    base = {
        "numeric": NUMERIC_OPERATORS,
        "integer": NUMERIC_OPERATORS,
        "categorical": CATEGORY_OPERATORS,
        "boolean": BOOLEAN_OPERATORS,
    }[column.kind]
    return (*base, *MISSING_OPERATORS) if column.nullable else base


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{where}: {value!r} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(f"{where}: the value must be a finite number")
    return number


def _category(value: Any) -> str:
    """Categories compare as text, as the schema's canonical form does (2 and "2" are one category)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Condition:
    """One test of one column of a record."""

    column: str
    operator: str
    value: Any = None

    def holds(self, record: Mapping[str, Any]) -> bool:
        value = record.get(self.column)
        if self.operator == "is missing":
            return _missing(value)
        if self.operator == "is present":
            return not _missing(value)
        if _missing(value):
            return False  # a missing value satisfies no comparison
        target = self.value
        if self.operator in ("in", "not in"):
            inside = _category(value) in target
            return inside if self.operator == "in" else not inside
        if isinstance(target, str):  # a categorical column: compare as text
            same = _category(value) == target
            return same if self.operator == "==" else not same
        if isinstance(target, bool):  # a boolean column: 0/1, true/false
            same = bool(value) == target
            return same if self.operator == "==" else not same
        number, bound = float(cast(float, value)), float(cast(float, target))
        return {
            "==": number == bound,
            "!=": number != bound,
            "<": number < bound,
            "<=": number <= bound,
            ">": number > bound,
            ">=": number >= bound,
        }[self.operator]

    def describe(self) -> str:
        if self.operator in MISSING_OPERATORS:
            return f"{self.column} {self.operator}"
        if self.operator in ("in", "not in"):
            return f"{self.column} {self.operator} [{', '.join(self.value)}]"
        return f"{self.column} {self.operator} {self.value!r}"


@dataclass(frozen=True)
class Outcome:
    """What a rule (or the default) answers: the score, and for a classifier optionally a label."""

    prediction: float
    label: str | None = None


@dataclass(frozen=True)
class Rule:
    conditions: tuple[Condition, ...]
    outcome: Outcome

    def matches(self, record: Mapping[str, Any]) -> bool:
        return all(c.holds(record) for c in self.conditions)


@dataclass(frozen=True)
class RuleSet:
    """First match wins; the default answers every record no rule matches."""

    rules: tuple[Rule, ...]
    default: Outcome

    def answer(self, record: Mapping[str, Any]) -> tuple[Outcome, int | None]:
        """The outcome for one record and the 1-based number of the rule that gave it (None: the default)."""
        for number, rule in enumerate(self.rules, start=1):
            if rule.matches(record):
                return rule.outcome, number
        return self.default, None

    def evaluate(self, records: Iterable[Mapping[str, Any]]) -> tuple[list[float], list[str | None]]:
        """Predictions and labels for a batch, in order."""
        predictions: list[float] = []
        labels: list[str | None] = []
        for record in records:
            outcome, _rule = self.answer(record)
            predictions.append(outcome.prediction)
            labels.append(outcome.label)
        return predictions, labels

    @property
    def has_labels(self) -> bool:
        return self.default.label is not None or any(r.outcome.label is not None for r in self.rules)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules": [
                {
                    "when": [
                        {"column": c.column, "operator": c.operator, "value": _json_value(c.value)}
                        for c in rule.conditions
                    ],
                    **_outcome_dict(rule.outcome),
                }
                for rule in self.rules
            ],
            "default": _outcome_dict(self.default),
        }

    @classmethod
    def parse(cls, data: Any, schema: InputSchema, task: str) -> RuleSet:
        """A rule set from its JSON form, checked against ``schema`` and ``task``; InvalidInput says why."""
        if not isinstance(data, Mapping):
            raise InvalidInput("a rule set is an object with 'rules' and 'default'")
        unknown = sorted(set(data) - {"rules", "default"})
        if unknown:
            raise InvalidInput(f"a rule set has only 'rules' and 'default', not {unknown[0]!r}")
        rules_data = data.get("rules", [])
        if not isinstance(rules_data, list):
            raise InvalidInput("'rules' must be a list")
        if len(rules_data) > MAX_RULES:
            raise InvalidInput(f"a rule set holds at most {MAX_RULES} rules, not {len(rules_data)}")
        if "default" not in data:
            raise InvalidInput("a rule set needs a default output (what answers when no rule matches)")
        rules = tuple(_rule(item, i, schema, task) for i, item in enumerate(rules_data, start=1))
        return cls(rules, _outcome(data["default"], "the default", task))

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> RuleSet:
        """A saved rule set read back (it was checked against its schema when saved; see :meth:`parse`)."""

        def outcome(item: Mapping[str, Any]) -> Outcome:
            label = item.get("label")
            return Outcome(float(item["output"]), None if label is None else str(label))

        def condition(item: Mapping[str, Any]) -> Condition:
            value = item.get("value")
            return Condition(
                str(item["column"]), str(item["operator"]), tuple(value) if isinstance(value, list) else value
            )

        rules = tuple(
            Rule(tuple(condition(c) for c in rule["when"]), outcome(rule)) for rule in data.get("rules", [])
        )
        return cls(rules, outcome(data["default"]))


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _outcome_dict(outcome: Outcome) -> dict[str, Any]:
    data: dict[str, Any] = {"output": outcome.prediction}
    if outcome.label is not None:
        data["label"] = outcome.label
    return data


def _outcome(data: Any, where: str, task: str) -> Outcome:
    if not isinstance(data, Mapping) or "output" not in data:
        raise InvalidInput(f"{where} needs an output")
    prediction = _number(data["output"], f"{where}: output")
    if task == "classification" and not 0.0 <= prediction <= 1.0:
        raise InvalidInput(
            f"{where}: a classifier's output is a probability between 0 and 1, not {prediction}"
        )
    label = data.get("label")
    if label is not None and label != "":
        if task != "classification":
            raise InvalidInput(f"{where}: only a classifier's output has a label")
        label = str(label).strip()
        if len(label) > MAX_LABEL:
            raise InvalidInput(f"{where}: the label is longer than {MAX_LABEL} characters")
    else:
        label = None
    return Outcome(prediction, label)


def _rule(data: Any, number: int, schema: InputSchema, task: str) -> Rule:
    where = f"rule {number}"
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{where} must be an object with 'when' and 'output'")
    when = data.get("when")
    if not isinstance(when, list) or not when:
        raise InvalidInput(f"{where} needs at least one condition ('when')")
    if len(when) > MAX_CONDITIONS:
        raise InvalidInput(f"{where} has more than {MAX_CONDITIONS} conditions")
    conditions = tuple(_condition(c, f"{where}, condition {i}", schema) for i, c in enumerate(when, 1))
    return Rule(conditions, _outcome(data, where, task))


def _condition(data: Any, where: str, schema: InputSchema) -> Condition:
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{where} must be an object with column, operator and value")
    name = data.get("column")
    if name not in schema.names:
        raise InvalidInput(f"{where}: no input column named {str(name)[:100]!r}")
    column = schema.column(str(name))
    operator = data.get("operator")
    allowed = operators_for(column)
    if operator not in allowed:
        raise InvalidInput(
            f"{where}: {column.name} ({column.kind}) takes {', '.join(allowed)}, not {str(operator)[:20]!r}"
        )
    operator = str(operator)
    value = data.get("value")
    if operator in MISSING_OPERATORS:
        return Condition(column.name, operator, None)
    if column.kind in ("numeric", "integer"):
        return Condition(column.name, operator, _number(value, where))
    if column.kind == "boolean":
        if value not in (True, False, 0, 1):
            raise InvalidInput(f"{where}: {column.name} is true or false, not {value!r}")
        return Condition(column.name, operator, bool(value))
    if operator in ("in", "not in"):
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            raise InvalidInput(f"{where}: {operator!r} takes a list of 1 to {MAX_LIST} categories")
        values = tuple(_known(column, v, where) for v in value)
        return Condition(column.name, operator, values)
    return Condition(column.name, operator, _known(column, value, where))


def _known(column: ColumnSpec, value: Any, where: str) -> str:
    if value is None or isinstance(value, bool | list | dict) or _missing(value) or value == "":
        raise InvalidInput(f"{where}: {column.name} needs a category, not {value!r}")
    text = _category(value)
    if column.categories and text not in {_category(c) for c in column.categories}:
        raise InvalidInput(
            f"{where}: {text[:100]!r} is not one of {column.name}'s categories "
            f"({', '.join(_category(c) for c in column.categories[:10])})"
        )
    return text


# ---- the editor's table form --------------------------------------------------------------------
TABLE_COLUMNS = ("rule", "column", "operator", "value", "output", "label")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def _cell_value(text: Any, column: ColumnSpec | None, operator: str, where: str) -> Any:
    """A value typed into the editor as text, read as the column's kind wants it."""
    if operator in MISSING_OPERATORS or column is None:
        return None
    raw = str(text).strip() if not _blank(text) else ""
    if column.kind in ("numeric", "integer"):
        try:
            return float(raw)
        except ValueError:
            raise InvalidInput(f"{where}: {column.name} compares with a number, not {raw[:40]!r}") from None
    if column.kind == "boolean":
        words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
        if raw.lower() not in words:
            raise InvalidInput(f"{where}: {column.name} is true or false, not {raw[:40]!r}")
        return words[raw.lower()]
    if operator in ("in", "not in"):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def from_table(
    rows: Sequence[Mapping[str, Any]],
    default_output: Any,
    default_label: Any,
    schema: InputSchema,
    task: str,
) -> RuleSet:
    """The rule set an editor table describes: rows with the same rule number are one rule, ANDed."""
    grouped: dict[int, list[Mapping[str, Any]]] = {}
    for i, row in enumerate(rows, start=1):
        if all(_blank(row.get(k)) for k in TABLE_COLUMNS):
            continue  # an empty row the editor added
        try:
            number = int(float(str(row.get("rule"))))
        except ValueError:
            raise InvalidInput(f"row {i}: the rule number must be a whole number") from None
        grouped.setdefault(number, []).append(row)
    rules = []
    for number in sorted(grouped):
        where = f"rule {number}"
        outputs = {float(r["output"]) for r in grouped[number] if not _blank(r.get("output"))}
        labels = {str(r["label"]).strip() for r in grouped[number] if not _blank(r.get("label"))}
        if len(outputs) != 1:
            raise InvalidInput(f"{where} needs one output (write it on one of its rows), not {len(outputs)}")
        if len(labels) > 1:
            raise InvalidInput(f"{where} names {len(labels)} different labels")
        when = []
        for row in grouped[number]:
            name, operator = str(row.get("column") or ""), str(row.get("operator") or "")
            column = schema.column(name) if name in schema.names else None
            when.append(
                {
                    "column": name,
                    "operator": operator,
                    "value": _cell_value(row.get("value"), column, operator, where),
                }
            )
        rules.append({"when": when, "output": outputs.pop(), "label": labels.pop() if labels else None})
    if _blank(default_output):
        raise InvalidInput("the default output is empty")
    try:
        default = float(default_output)
    except (TypeError, ValueError):
        raise InvalidInput("the default output must be a number") from None
    label = None if _blank(default_label) else str(default_label)
    return RuleSet.parse({"rules": rules, "default": {"output": default, "label": label}}, schema, task)


def to_table(rule_set: RuleSet) -> list[dict[str, Any]]:
    """The editor's rows for a rule set (the output and label on each rule's first row)."""
    rows: list[dict[str, Any]] = []
    for number, rule in enumerate(rule_set.rules, start=1):
        for i, condition in enumerate(rule.conditions):
            value = condition.value
            if isinstance(value, tuple):
                text = ", ".join(value)
            elif isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, float):
                text = f"{value:g}"
            else:
                text = "" if value is None else str(value)
            rows.append(
                {
                    "rule": number,
                    "column": condition.column,
                    "operator": condition.operator,
                    "value": text,
                    "output": rule.outcome.prediction if i == 0 else None,
                    "label": (rule.outcome.label or "") if i == 0 else "",
                }
            )
    return rows


# ---- stored versions and arming -------------------------------------------------------------------
@dataclass(frozen=True)
class RuleSetVersion:
    """One saved edit of a deployment's rule set; never changed afterwards."""

    id: int
    environment_name: str
    pipeline_name: str
    number: int
    rule_set: RuleSet
    comment: str
    created_by: str
    created_at: datetime

    @property
    def label(self) -> str:
        return f"rule set v{self.number}"


@dataclass(frozen=True)
class RuleSetArm:
    """A deployment's armed rule set, and whether a fail-over made it answer every request."""

    environment_id: int
    environment_name: str
    pipeline_id: int
    pipeline_name: str
    version: RuleSetVersion
    armed_by: str
    armed_at: datetime
    engaged: bool
    engaged_by: str | None
    engaged_at: datetime | None
    row_version: int
