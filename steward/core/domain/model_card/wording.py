"""Words and numbers for a reviewer: percentages, counts, lists, estimators, schema limits.

The thresholds that decide what a card warns about live here too, so they are tuned in one place."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_LINEAR = "a weighted sum of the inputs{}. Simple, and each input's weight can be read directly"
_TREES = "Usually more accurate than a weighted sum, but an individual answer is hard to explain"
_BOOSTING = (
    "gradient boosting: many small decision trees, each correcting the ones before. Usually among the "
    "most accurate methods for tables, but an individual answer is hard to explain"
)
# What each allowed estimator is, in words a reviewer can weigh (how explainable it is matters to them).
ESTIMATOR_WORDS: dict[str, str] = {
    "LogisticRegression": "logistic regression: " + _LINEAR.format(" turned into a probability"),
    "Ridge": "linear regression (ridge): " + _LINEAR.format(""),
    "RandomForestClassifier": "random forest: hundreds of decision trees that vote. " + _TREES,
    "RandomForestRegressor": "random forest: hundreds of decision trees, averaged. " + _TREES,
    "HistGradientBoostingClassifier": _BOOSTING,
    "HistGradientBoostingRegressor": _BOOSTING,
    "GradientBoostingClassifier": _BOOSTING,
    "GradientBoostingRegressor": _BOOSTING,
}

# Words in column names that often mean a protected characteristic (a prompt to look, not a verdict).
SENSITIVE_WORDS = frozenset(
    {"age", "birth", "dob", "sex", "gender", "race", "ethnic", "ethnicity", "religion", "marriage"}
    | {"marital", "nationality", "citizenship", "disability", "pregnant", "pregnancy", "education"}
)

CALIBRATION_TOLERANCE = 0.05  # mean gap (probability points) above which probabilities are not chances
IMBALANCE_SHARE = 0.25  # a class rarer than this makes accuracy misleading
SMALL_HOLDOUT = 200  # fewer hold-out cases than this: the figures are shaky
SMALL_TRAINING = 1000
TOP_INPUTS = 5
INPUTS_LISTED = 12


def allowed_values(column: Mapping[str, Any]) -> str:
    """What a schema column accepts, in words: "18 to 120", "one of 1, 2", "0 or more", "any number"."""
    categories = column.get("categories")
    if categories:
        return "one of " + ", ".join(str(c) for c in categories)
    low, high = column.get("min"), column.get("max")
    kind = column.get("kind")
    if kind == "boolean":
        return "true or false"
    if low is not None and high is not None:
        return f"{_bound(low)} to {_bound(high)}"
    if low is not None:
        return f"{_bound(low)} or more"
    if high is not None:
        return f"{_bound(high)} or less"
    return {"numeric": "any number", "integer": "any whole number", "categorical": "any label"}.get(
        str(kind), "any"
    )


def _pct(share: float, digits: int = 0) -> str:
    return f"{share * 100:.{digits}f}%"


def _count(value: int | float) -> str:
    return f"{int(value):,}"


def _num(value: float) -> str:
    """A measurement in the target's units: no false precision."""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:,.1f}"
    if magnitude >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def _bound(value: Any) -> str:
    number = float(value)
    return f"{int(number):,}" if number.is_integer() else f"{number:g}"


def _label(value: Any) -> str:
    return str(value)


def _list(names: Sequence[str], limit: int = INPUTS_LISTED) -> str:
    shown = list(names[:limit])
    more = len(names) - len(shown)
    if not shown:
        return ""
    text = ", ".join(shown)
    return f"{text} and {more} more" if more > 0 else text


def _years_mentioned(text: str, before: int) -> list[int]:
    years = {int(match) for match in re.findall(r"(?<!\d)(?:19|20)\d{2}(?!\d)", text)}
    return sorted(year for year in years if 1900 <= year <= before)


def _sensitive_columns(names: Sequence[str]) -> list[str]:
    found = []
    for name in names:
        words = {word for word in re.split(r"[^a-z]+", name.lower()) if word}
        if words & SENSITIVE_WORDS:
            found.append(name)
    return found
