"""Compared with the version before: the headline verdict, whether it is fair, every metric's move."""

from __future__ import annotations

from steward.core.domain.metrics import format_metric, is_better, metric_label, ordered_metrics
from steward.core.domain.model_card.card import Section
from steward.core.domain.model_card.facts import _Facts
from steward.core.domain.model_card.rules import compare_versions


class _Changes(_Facts):
    def compared(self) -> Section | None:
        if self.previous is None:
            return None
        comparison = compare_versions(self.v, self.previous)
        label = metric_label(comparison.metric)
        if comparison.current is None or comparison.previous is None:
            text = f"{label} cannot be compared with {self.previous.label}: one of them was not measured."
        else:
            verdict = {True: "better than", False: "worse than", None: "the same as"}[comparison.better]
            text = (
                f"On {label}, {self.v.label} is {verdict} {self.previous.label}: "
                f"{format_metric(comparison.metric, comparison.current)} against "
                f"{format_metric(comparison.metric, comparison.previous)}."
            )
        if comparison.fair:
            fairness = "Both were tested on exactly the same cases, so the comparison is fair."
        elif comparison.same_data:
            fairness = (
                "Both learned from the same data but were tested on different cases: "
                "the comparison is indicative only."
            )
        else:
            fairness = (
                f"They learned from different data (fingerprints {self.v.data_digest[:12]} and "
                f"{self.previous.data_digest[:12]}), so they were tested on different cases: "
                "the comparison is indicative only."
            )
        changes = []
        for name in ordered_metrics(self.v.metrics):
            now, before = self.v.metrics.get(name), self.previous.metrics.get(name)
            if now is None or before is None:
                continue
            better = is_better(name, now, before)
            mark = {True: "better", False: "worse", None: "same"}[better]
            changes.append(
                f"{metric_label(name)}: {format_metric(name, before)} -> {format_metric(name, now)} ({mark})"
            )
        return Section(f"Compared with {self.previous.label}", (text, fairness), tuple(changes))
