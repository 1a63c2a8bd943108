"""Plotly figure for performance estimated before labels (CBPE) beside the realised figure, per window.

One panel per metric, each on its own 0-1 axis: accuracy and ROC AUC are both
scores, but they move differently and must not be read off one scale.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from steward.app.ui.charts import COLORS, REFERENCE, _safe, _style
from steward.core.domain.estimates import ESTIMATE_METRICS, PerformanceEstimates
from steward.core.domain.metrics import metric_label


def estimate_timeline(estimates: PerformanceEstimates) -> go.Figure:
    """Estimated (dashed) and realised (solid) accuracy and ROC AUC per window."""
    labels = [_safe(w.label) for w in estimates.windows]
    figure = make_subplots(
        rows=1,
        cols=len(ESTIMATE_METRICS),
        subplot_titles=[metric_label(m) for m in ESTIMATE_METRICS],
        horizontal_spacing=0.08,
    )
    for column, metric in enumerate(ESTIMATE_METRICS, start=1):
        first = column == 1
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=[w.estimated.get(metric) for w in estimates.windows],
                mode="lines+markers",
                name="estimated before labels",
                legendgroup="estimated",
                showlegend=first,
                line={"color": COLORS[1], "dash": "dash", "width": 2},
                hovertemplate="%{x}: estimated %{y:.3f}<extra></extra>",
            ),
            row=1,
            col=column,
        )
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=[(w.realised or {}).get(metric) for w in estimates.windows],
                mode="lines+markers",
                name="realised once labels joined",
                legendgroup="realised",
                showlegend=first,
                line={"color": COLORS[0], "width": 2},
                marker={"line": {"color": REFERENCE, "width": 1}},
                hovertemplate="%{x}: realised %{y:.3f}<extra></extra>",
            ),
            row=1,
            col=column,
        )
    _style(figure, "Performance before labels: estimated beside realised, per window", "", "", height=360)
    figure.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "xanchor": "left", "x": 0.0},
        margin={"l": 10, "r": 10, "t": 70, "b": 60},
    )
    return figure
