"""Known limits: what the figures cannot promise, stated rather than implied."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from steward.core.domain.model_card.card import Section
from steward.core.domain.model_card.facts import _Facts
from steward.core.domain.model_card.wording import (
    SMALL_HOLDOUT,
    SMALL_TRAINING,
    _bound,
    _count,
    _list,
    _sensitive_columns,
    _years_mentioned,
)


class _Limits(_Facts):
    def known_limits(self) -> Section:
        limits: list[str] = []
        if self.split.get("method") == "ordered":
            limits.append(
                f"The figures come from the latest {_count(self.holdout_rows)} rows of the training data, "
                "not from live use. That is closer to real use than a random test, but results on new "
                "cases can still be worse; the drift monitors watch for this once it is deployed."
            )
        else:
            limits.append(
                f"The figures come from {_count(self.holdout_rows)} cases of the same data it learned "
                "from, not from live use. They show how it does on cases like those; results on new "
                "cases can be worse, and the drift monitors watch for this once it is deployed."
            )
        if 0 < self.holdout_rows < SMALL_HOLDOUT:
            limits.append(
                f"Only {_count(self.holdout_rows)} test cases: the figures could move by several points "
                "with other cases."
            )
        if 0 < self.v.data_rows < SMALL_TRAINING:
            limits.append(f"It learned from only {_count(self.v.data_rows)} rows.")
        limits.extend(self.limits)
        years = _years_mentioned(self.description, self.v.trained_at.year)
        period = (
            f"The description mentions {_list([str(y) for y in years])}: if the data is from then, it "
            f"was about {self.v.trained_at.year - years[-1]} years old when this version was trained. "
            if years
            else "The period the data covers is not recorded. "
        )
        limits.append(period + "Customers, prices and rules change: a model is only as current as its data.")
        ranged = [c for c in self.columns if c.get("min") is not None and c.get("max") is not None]
        listed = [c for c in self.columns if c.get("categories")]
        example = "; ".join(
            f"{column.get('name')} {self._range_text(column)}" for column in [*ranged[:1], *listed[:1]]
        )
        limits.append(
            "Inputs outside the declared schema are refused rather than guessed"
            + (f" (for example {example})" if example else "")
            + ". Cases within those limits but unlike anything it learned from still get an answer, "
            "which may be poor."
        )
        sensitive = _sensitive_columns([str(column.get("name")) for column in self.columns])
        fairness = (
            "No fairness assessment has been recorded: nobody has yet checked whether the model's "
            "mistakes fall more on some groups of people than on others."
        )
        if sensitive:
            fairness += (
                f" The inputs include {_list(sensitive)}, which may be protected characteristics: "
                "using them in decisions about people may be unlawful or need a documented reason."
            )
        limits.append(fairness)
        if self.v.origin == "uploaded":
            limits.append(
                "This version was fitted outside Steward and uploaded: Steward tested it on the same "
                "cases as its own versions, but cannot re-create it from the spec."
            )
        for warning in self.v.warnings:
            if warning.startswith("uploaded:"):
                continue
            limits.append(f"Training reported: {warning}")
        return Section("Known limits", (), tuple(limits))

    @staticmethod
    def _range_text(column: Mapping[str, Any]) -> str:
        low, high = column.get("min"), column.get("max")
        categories = column.get("categories")
        if categories:
            return "must be one of " + _list([str(c) for c in categories], 8)
        if low is not None and high is not None:
            return f"must be from {_bound(low)} to {_bound(high)}"
        return ""
