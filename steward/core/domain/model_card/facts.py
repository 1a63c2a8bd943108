"""What every part of a card reads about a version: its target, split, classes, schema columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from steward.core.domain.metrics import BY_NAME, Scale
from steward.core.domain.model_card.holdout import _confusion
from steward.core.domain.model_card.rules import _spec_field
from steward.core.domain.model_card.wording import _label
from steward.core.domain.registry import PipelineVersion


class _Facts:
    """The facts a card's sections share; ``limits`` collects what sections find to warn about."""

    def __init__(self, version: PipelineVersion, previous: PipelineVersion | None) -> None:
        self.v = version
        self.previous = previous
        self.task = version.task
        self.target = str(_spec_field(version, "pipeline", "target", "the target"))
        self.description = str(_spec_field(version, "pipeline", "description", "") or "").strip()
        self.owner = str(_spec_field(version, "pipeline", "owner", "") or "")
        self.lineage = version.lineage
        self.split: Mapping[str, Any] = version.lineage.get("split") or {}
        self.holdout_rows = int(self.split.get("holdout_rows") or 0)
        self.classes: list[Any] = list(version.lineage.get("classes") or [])
        self.positive = version.lineage.get("positive_class")
        self.columns: list[Mapping[str, Any]] = list(version.schema.get("columns") or [])
        self.confusion = _confusion(version)
        self.limits: list[str] = []

    # -- names for cases
    def is_case(self, label: Any) -> str:
        return f"{self.target} = {_label(label)}"

    @property
    def binary(self) -> bool:
        return self.task == "classification" and self.positive is not None

    @property
    def negative(self) -> Any:
        others = [c for c in self.classes if c != self.positive]
        return others[0] if others else "other"

    def _delta(self, metric: str, value: float | None, *, percent: bool = False) -> str | None:
        if self.previous is None or value is None:
            return None
        before = self.previous.metrics.get(metric)
        if before is None:
            return None
        change = value - before
        shown = f"{change * 100:+.1f} points" if percent else f"{change:+.3f}"
        known = BY_NAME.get(metric)
        if known is not None and known.scale is Scale.TARGET:  # an error in the target's units
            shown = f"{change:+,.1f}"
        if not any(digit in "123456789" for digit in shown):
            return None  # unchanged at the precision shown: an arrow would suggest a change
        return f"{shown} vs {self.previous.label}"
