"""Plotly figures for the model card and the versions view, from the small chart data training recorded.

Training keeps only aggregates (a 101-point ROC curve, 10 calibration bins, 500
sampled residuals, the top 30 importances), so every figure here is a few
kilobytes; nothing is computed from raw rows in the browser. Axis titles are
in words because the readers include people who sign off models, not only
people who build them.

Plotly renders a subset of HTML in titles and labels (including links), so
every value that came from a spec or from data goes through :func:`_safe`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

COLORS = ("#1f5f8b", "#e07b39", "#4c9f70", "#8e6bb5", "#c44e52", "#7f7f7f")
REFERENCE = "#9aa5b1"
POSITIVE, NEGATIVE = "#c44e52", "#1f5f8b"
HEIGHT = 380
TOP_BARS = 15


def _safe(value: object, limit: int = 80) -> str:
    """Text from specs or data, shown as text: HTML-escaped (plotly renders tags and links) and capped."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return html.escape(text, quote=True)


def _style(figure: go.Figure, title: str, x_title: str, y_title: str, height: int = HEIGHT) -> go.Figure:
    figure.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        font={"size": 12},
        # Inside the lower right: empty in ROC, calibration and estimated-vs-actual plots alike.
        legend={
            "yanchor": "bottom",
            "y": 0.02,
            "xanchor": "right",
            "x": 0.98,
            "bgcolor": "rgba(255,255,255,0.85)",
            "bordercolor": "#d5dbe1",
            "borderwidth": 1,
        },
        hoverlabel={"namelength": -1},
    )
    figure.update_xaxes(title_text=x_title, automargin=True)
    figure.update_yaxes(title_text=y_title, automargin=True)
    return figure


def roc_figure(
    curves: Sequence[tuple[str, Mapping[str, Any]]], *, positive: object, negative: object
) -> go.Figure:
    """ROC curves (one per labelled version, first is highlighted) against the coin-toss diagonal."""
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="coin toss",
            line={"color": REFERENCE, "dash": "dash", "width": 1},
            hoverinfo="skip",
        )
    )
    for index, (label, roc) in enumerate(curves):
        figure.add_trace(
            go.Scatter(
                x=list(roc.get("fpr") or []),
                y=list(roc.get("tpr") or []),
                mode="lines",
                name=_safe(label),
                line={
                    "color": COLORS[index % len(COLORS)],
                    "width": 3 if index == 0 else 1.5,
                    "dash": "solid" if index == 0 else "dot",
                },
                hovertemplate="false alarms %{x:.0%}<br>caught %{y:.0%}<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_xaxes(range=[0, 1], tickformat=".0%", constrain="domain")
    figure.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return _style(
        figure,
        "Catching cases vs false alarms, at every cut-off (ROC curve)",
        f"False alarms: share of {_safe(negative)} cases flagged",
        f"Caught: share of {_safe(positive)} cases flagged",
    )


def calibration_figure(bins: Sequence[Mapping[str, Any]], *, positive: object) -> go.Figure:
    """Predicted chance against what happened, per tenth of the probability scale; dot size is cases."""
    counts = [int(b.get("count", 0)) for b in bins]
    largest = max(counts, default=1) or 1
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="predicted = actual",
            line={"color": REFERENCE, "dash": "dash", "width": 1},
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[float(b["mean_predicted"]) for b in bins],
            y=[float(b["fraction_positive"]) for b in bins],
            mode="lines+markers",
            name="model",
            line={"color": COLORS[0], "width": 2},
            marker={"size": [8 + 16 * (count / largest) ** 0.5 for count in counts], "color": COLORS[0]},
            customdata=counts,
            hovertemplate=(
                "predicted %{x:.0%}<br>actually happened %{y:.0%}<br>%{customdata:,} cases<extra></extra>"
            ),
        )
    )
    figure.update_xaxes(range=[0, 1], tickformat=".0%")
    figure.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return _style(
        figure,
        "Are its probabilities right? (calibration)",
        f"Predicted chance of {_safe(positive)}",
        f"Share that really was {_safe(positive)}",
    )


def confusion_figure(labels: Sequence[object], matrix: Sequence[Sequence[int]]) -> go.Figure:
    """Counts of actual against answered class on the test cases (the diagonal is right answers)."""
    names = [_safe(label) for label in labels]
    totals = [sum(row) or 1 for row in matrix]
    text = [
        [f"{cell:,}<br>({cell / totals[i]:.0%} of actual {names[i]})" for cell in row]
        for i, row in enumerate(matrix)
    ]
    figure = go.Figure(
        go.Heatmap(
            z=[[cell / totals[i] for cell in row] for i, row in enumerate(matrix)],
            x=[f"answered {name}" for name in names],
            y=[f"actually {name}" for name in names],
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            showscale=False,
            hovertemplate="%{y}, %{x}: %{text}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed")
    return _style(
        figure, "Right and wrong answers on the test cases", "Model's answer", "Actual outcome", 320
    )


def residuals_figure(residuals: Mapping[str, Any], *, target: object) -> go.Figure:
    """Estimated against actual for the sampled test cases; points on the diagonal are exact."""
    predicted = [float(v) for v in residuals.get("predicted") or []]
    actual = [float(v) for v in residuals.get("actual") or []]
    low = min([*predicted, *actual], default=0.0)
    high = max([*predicted, *actual], default=1.0)
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[low, high],
            y=[low, high],
            mode="lines",
            name="exact",
            line={"color": REFERENCE, "dash": "dash", "width": 1},
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=predicted,
            y=actual,
            mode="markers",
            name="test cases",
            marker={"color": COLORS[0], "size": 6, "opacity": 0.55},
            hovertemplate="estimated %{x:,.1f}<br>actual %{y:,.1f}<extra></extra>",
        )
    )
    sampled = int(residuals.get("sampled_from") or len(predicted))
    note = f" ({len(predicted):,} of {sampled:,} test cases)" if sampled > len(predicted) else ""
    return _style(
        figure,
        f"Estimated against actual{note}",
        f"Estimated {_safe(target)}",
        f"Actual {_safe(target)}",
    )


def residual_histogram(residuals: Mapping[str, Any], *, target: object) -> go.Figure:
    """How far off the estimates are, and in which direction (right of zero: actual was higher)."""
    predicted = [float(v) for v in residuals.get("predicted") or []]
    actual = [float(v) for v in residuals.get("actual") or []]
    misses = [a - p for a, p in zip(actual, predicted, strict=False)]
    figure = go.Figure(
        go.Histogram(
            x=misses,
            nbinsx=40,
            marker={"color": COLORS[0]},
            hovertemplate="miss %{x}<br>%{y} cases<extra></extra>",
            name="test cases",
        )
    )
    figure.add_vline(x=0, line={"color": REFERENCE, "dash": "dash"})
    figure.update_layout(bargap=0.05, showlegend=False)
    return _style(
        figure,
        "Size of the misses",
        f"Actual minus estimated {_safe(target)} (right of 0: the model estimated too low)",
        "Test cases",
    )


def importance_figure(data: Mapping[str, Any], *, top: int = TOP_BARS) -> go.Figure:
    """The inputs the model relies on most, largest at the top; weights are coloured by direction."""
    features = [str(f) for f in data.get("features") or []][:top]
    values = [float(v) for v in data.get("values") or []][:top]
    kind = data.get("kind")
    if kind == "permutation":
        scoring = str(data.get("scoring") or "score").replace("_", " ").upper().replace("R2", "R²")
        x_title = f"Drop in {scoring} on the test cases when the input is shuffled"
        colors = [COLORS[0]] * len(values)
        title = "Inputs the model relies on most"
    elif kind == "coefficient":
        x_title = "Weight on the scaled input (right: raises the score, left: lowers it)"
        colors = [POSITIVE if v > 0 else NEGATIVE for v in values]
        title = "Inputs with the largest weights"
    elif kind == "mean_abs_coefficient":
        x_title = "Average size of the weight on the scaled input"
        colors = [COLORS[0]] * len(values)
        title = "Inputs with the largest weights"
    else:
        x_title = "Share of the trees' improvement from splits on this input"
        colors = [COLORS[0]] * len(values)
        title = "Inputs the trees rely on most"
    errors = [float(v) for v in data.get("std") or []][:top]
    figure = go.Figure(
        go.Bar(
            x=values[::-1],
            y=[_safe(f, 60) for f in features][::-1],
            orientation="h",
            marker={"color": colors[::-1]},
            error_x=(
                {"type": "data", "array": errors[::-1], "color": REFERENCE}
                if len(errors) == len(values)
                else None
            ),
            hovertemplate="%{y}: %{x:.4f}<extra></extra>",
            name="importance",
        )
    )
    figure.update_layout(showlegend=False)
    return _style(figure, title, x_title, "", height=max(260, 60 + 24 * len(features)))


def _bar_text(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"


def metrics_by_version_figure(
    rows: Sequence[tuple[str, Mapping[str, float | None]]],
    metrics: Sequence[str],
    labels: Mapping[str, str],
    *,
    highlight: str | None = None,
) -> go.Figure:
    """One small panel per metric, one bar per version (each metric keeps its own scale)."""
    columns = max(len(metrics), 1)
    figure = make_subplots(
        rows=1,
        cols=columns,
        subplot_titles=[_safe(labels.get(m, m)) for m in metrics] or [""],
        horizontal_spacing=0.06,
    )
    versions = [label for label, _ in rows]
    for position, metric in enumerate(metrics, start=1):
        values = [by_metric.get(metric) for _, by_metric in rows]
        figure.add_trace(
            go.Bar(
                x=versions,
                y=[v if v is not None else 0.0 for v in values],
                text=[_bar_text(v) for v in values],
                textposition="outside",
                cliponaxis=False,
                marker={
                    "color": [COLORS[0] if label == highlight else REFERENCE for label in versions],
                },
                name=_safe(labels.get(metric, metric)),
                hovertemplate="%{x}: %{text}<extra>%{fullData.name}</extra>",
            ),
            row=1,
            col=position,
        )
        figure.update_yaxes(showticklabels=False, row=1, col=position, rangemode="tozero")
    figure.update_layout(showlegend=False, bargap=0.35)
    styled = _style(figure, "Hold-out metrics by version", "", "", height=300)
    styled.update_layout(margin={"t": 70})
    return styled
