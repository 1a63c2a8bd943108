"""An armed rule set held by the scoring service: checked against the primary it stands in for.

The rule set was checked when it was saved, against the version serving
then; a later promotion may have changed the schema, so the service checks
it again against the primary it loads and refuses (keeps no rule set) when it
no longer fits. Answering is the domain's evaluation over the records the
input contract has already checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from steward.core.domain.rule_sets import RuleSet, RuleSetArm
from steward.core.scoring.model import ServingVersion


@dataclass(frozen=True)
class LiveRuleSet:
    rule_set_id: int
    number: int
    rule_set: RuleSet
    engaged: bool  # a fail-over made it answer every request

    @property
    def metric_version(self) -> str:
        return f"rules-v{self.number}"

    def answer(self, records: list[dict[str, Any]]) -> tuple[list[float], list[Any] | None]:
        predictions, labels = self.rule_set.evaluate(records)
        return predictions, labels if self.rule_set.has_labels else None


def live_rule_set(arm: RuleSetArm, primary: ServingVersion) -> LiveRuleSet:
    """The arm as the service holds it; InvalidInput when it no longer fits the primary's schema or task."""
    checked = RuleSet.parse(arm.version.rule_set.to_dict(), primary.schema, primary.task)
    return LiveRuleSet(arm.version.id, arm.version.number, checked, arm.engaged)
