"""Plotly figures for the Drift page: the verdict over time and one column's two distributions.

Everything is drawn from stored window results and profiles (a few hundred
numbers per chart): the browser never receives production rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from steward.app.ui.charts import COLORS, REFERENCE, _safe, _style
from steward.core.domain.monitoring import DriftWindow

VERDICT_COLORS = {"drift": "#c44e52", "no_drift": "#4c9f70", "insufficient": "#c9ced4"}
VERDICT_WORDS = {"drift": "drift", "no_drift": "no drift", "insufficient": "not enough data"}


def verdict_timeline(windows: Sequence[DriftWindow], metric: str | None = None) -> go.Figure:
    """Drifted input columns per window, coloured by verdict; the realised metric below when labels exist."""
    labels = [_safe(w.label) for w in windows]
    with_performance = metric is not None and any(w.performance for w in windows)
    figure = make_subplots(
        rows=2 if with_performance else 1,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        row_heights=[0.6, 0.4] if with_performance else [1.0],
    )
    figure.add_trace(
        go.Bar(
            x=labels,
            y=[len(w.drifted_columns()) for w in windows],
            marker_color=[VERDICT_COLORS.get(w.verdict, REFERENCE) for w in windows],
            customdata=[
                [VERDICT_WORDS.get(w.verdict, w.verdict), w.rows, _safe(w.reason, 160)] for w in windows
            ],
            hovertemplate="%{x}: %{customdata[0]}, %{y} drifted columns, %{customdata[1]} rows"
            "<br>%{customdata[2]}<extra></extra>",
            name="drifted columns",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    if with_performance and metric is not None:
        values, baseline = [], None
        for w in windows:
            found = next(
                (m for m in (w.performance or {}).get("metrics", []) if m.get("metric") == metric), None
            )
            values.append(found.get("value") if found else None)
            baseline = baseline if baseline is not None else (found or {}).get("baseline")
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=values,
                mode="lines+markers",
                name=f"realised {_safe(metric)}",
                line={"color": COLORS[0], "width": 2},
            ),
            row=2,
            col=1,
        )
        if baseline is not None:
            figure.add_trace(
                go.Scatter(
                    x=labels,
                    y=[baseline] * len(labels),
                    mode="lines",
                    name=f"hold-out {_safe(metric)} at training",
                    line={"color": REFERENCE, "dash": "dash"},
                ),
                row=2,
                col=1,
            )
    _style(
        figure,
        "Drift over time: drifted input columns per window (red = the window drifted)",
        "",
        "drifted columns",
        height=480 if with_performance else 340,
    )
    figure.update_yaxes(rangemode="tozero", row=1, col=1)
    if with_performance and metric is not None:
        figure.update_yaxes(title_text=f"realised {_safe(metric)}", row=2, col=1)
    return figure


def distribution_overlay(column: str, data: Mapping[str, Any]) -> go.Figure:
    """Training vs production: shares per bin (or category) and, for numbers, the two ECDFs side by side."""
    name = _safe(column)
    if data.get("kind") == "categorical":
        categories = [_safe(c) for c in data["categories"]]
        figure = go.Figure(
            [
                go.Bar(x=categories, y=data["reference_share"], name="training", marker_color=REFERENCE),
                go.Bar(
                    x=categories, y=data["current_share"], name="production window", marker_color=COLORS[1]
                ),
            ]
        )
        figure.update_layout(barmode="group")
        figure.update_yaxes(tickformat=".0%")
        return _style(figure, f"{name}: share of each category", name, "share of rows")
    edges = data["edges"]
    centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    figure = make_subplots(
        rows=1, cols=2, subplot_titles=("Histogram (share of rows per bin)", "Cumulative share (ECDF)")
    )
    figure.add_trace(
        go.Bar(x=centres, y=data["reference_share"], name="training", marker_color=REFERENCE, opacity=0.75),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Bar(
            x=centres, y=data["current_share"], name="production window", marker_color=COLORS[1], opacity=0.6
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=data["grid"],
            y=data["reference_ecdf"],
            name="training (ECDF)",
            mode="lines",
            line={"color": REFERENCE, "width": 2},
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    figure.add_trace(
        go.Scatter(
            x=data["grid"],
            y=data["current_ecdf"],
            name="production (ECDF)",
            mode="lines",
            line={"color": COLORS[1], "width": 2},
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    figure.update_layout(barmode="overlay")
    figure.update_yaxes(tickformat=".0%")
    return _style(figure, f"{name}: training vs this production window", name, "share of rows", height=380)
