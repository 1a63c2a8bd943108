"""The model card: what a pipeline version predicts, from what, how well, and where it falls short.

Written for a business reviewer who signs off a model without being a data
scientist: every metric is translated into a sentence about cases, the
accuracy is set against the share of the most common answer (81 % right is not
impressive when 78 % never default), and the limits are stated, not implied.
Built only from what the registry recorded at training time (metrics, chart
data, lineage, schema, warnings), so the card of a version never changes.

Plain Python on purpose: the page, a PDF export or the CLI render the same
card. All text is plain (no Markdown): shells must escape it, since it
contains names and descriptions people typed.

One module per concept: ``card`` (what a card is), ``rules`` (what a page must
not decide: which version is better, where versions serve), ``holdout`` (the
recorded hold-out read back), ``features`` (inputs as people name them),
``wording`` (numbers and lists in words, the warning thresholds), then one
module per section (``performance``, ``reliance``, ``changes``, ``limits``)
put together by ``builder``. Metric names, directions and formats come from
:mod:`steward.core.domain.metrics`, the one vocabulary.
"""

from __future__ import annotations

from steward.core.domain.metrics import (
    format_metric,
    is_better,
    metric_label,
    ordered_metrics,
    primary_metric,
)
from steward.core.domain.model_card.builder import build_model_card
from steward.core.domain.model_card.card import Comparison, KeyFigure, ModelCard, Section
from steward.core.domain.model_card.features import feature_label, importance_chart_data
from steward.core.domain.model_card.holdout import calibration_gap, recall_of
from steward.core.domain.model_card.rules import (
    compare_versions,
    deployed_versions,
    previous_version,
    spec_changed_since,
)
from steward.core.domain.model_card.wording import allowed_values

__all__ = [
    "Comparison",
    "KeyFigure",
    "ModelCard",
    "Section",
    "allowed_values",
    "build_model_card",
    "calibration_gap",
    "compare_versions",
    "deployed_versions",
    "feature_label",
    "format_metric",
    "importance_chart_data",
    "is_better",
    "metric_label",
    "ordered_metrics",
    "previous_version",
    "primary_metric",
    "recall_of",
    "spec_changed_since",
]
