"""Plotly figures for deployments and promotion evidence: the ledger as a timeline, champion vs challenger.

Names of pipelines, environments and versions come from people, and plotly
renders a subset of HTML in labels, so every such value goes through
:func:`_safe`. Figures hold aggregates only (a ledger, a few metrics, a
101-point ROC curve), a few kilobytes each.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from steward.core.domain.metrics import Scale, higher_is_better, metric, metric_phrase
from steward.core.domain.promotions import LedgerEntry, LedgerKind, MetricRow, RocCurve

CHALLENGER, CHAMPION, REFERENCE = "#1f5f8b", "#9aa5b1", "#c9d1d9"
VERSION_COLORS = ("#1f5f8b", "#e07b39", "#4c9f70", "#8e6bb5", "#c44e52", "#7f7f7f", "#b8860b", "#17becf")
KIND_PATTERN = {
    LedgerKind.PROMOTION: "",
    LedgerKind.ROLLBACK: "/",
    LedgerKind.FAILOVER: "x",
    LedgerKind.FAILBACK: ".",
}


def _safe(value: object, limit: int = 60) -> str:
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return html.escape(text, quote=True)


def _layout(figure: go.Figure, title: str, height: int) -> go.Figure:
    figure.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        font={"size": 12},
        hoverlabel={"namelength": -1},
    )
    return figure


def timeline_figure(entries: Sequence[LedgerEntry], now: datetime, order: Sequence[str] = ()) -> go.Figure:
    """One lane per environment and pipeline; a bar for each stretch a version served, labelled with it.

    Hatched bars came from a rollback or a fail-over rather than a promotion.
    """
    lanes: list[str] = []
    rank = {name: index for index, name in enumerate(order)}
    for entry in sorted(entries, key=lambda e: (rank.get(e.environment_name, 99), e.pipeline_name)):
        lane = f"{_safe(entry.environment_name, 30)} · {_safe(entry.pipeline_name, 40)}"
        if lane not in lanes:
            lanes.append(lane)
    figure = go.Figure()
    shown: set[int] = set()
    first = min((e.occurred_at for e in entries), default=now)
    # Stretches too short to see (a demo seeded in seconds, a quick rollback) get a sliver of width;
    # the hover tells the exact times.
    least_ms = max((now - first).total_seconds() * 1000 * 0.04, 1000.0)
    for entry in sorted(entries, key=lambda e: e.id):
        lane = f"{_safe(entry.environment_name, 30)} · {_safe(entry.pipeline_name, 40)}"
        start, end = entry.occurred_at, entry.ended_at or now
        duration_ms = max((end - start).total_seconds() * 1000, least_ms)
        color = VERSION_COLORS[(entry.version_number - 1) % len(VERSION_COLORS)]
        approvers = ", ".join(_safe(a, 40) for a in entry.approvers) or "no sign-off needed"
        figure.add_trace(
            go.Bar(
                x=[duration_ms],
                base=[start.isoformat()],
                y=[lane],
                orientation="h",
                name=f"v{entry.version_number}",
                legendgroup=f"v{entry.version_number}",
                showlegend=entry.version_number not in shown,
                marker={"color": color, "pattern": {"shape": KIND_PATTERN[entry.kind]}},
                text=[f"v{entry.version_number}"],
                textposition="inside",
                insidetextanchor="middle",
                customdata=[
                    [
                        entry.id,
                        entry.kind.value,
                        _safe(entry.actor_name, 60),
                        approvers,
                        "serving" if entry.ended_at is None else entry.ended_at.strftime("%Y-%m-%d %H:%M"),
                    ]
                ],
                hovertemplate=(
                    "ledger #%{customdata[0]}: %{text} (%{customdata[1]})<br>"
                    "from %{base|%Y-%m-%d %H:%M} until %{customdata[4]}<br>"
                    "by %{customdata[2]}<br>approved by %{customdata[3]}<extra></extra>"
                ),
            )
        )
        shown.add(entry.version_number)
    figure.update_yaxes(categoryorder="array", categoryarray=list(reversed(lanes)), automargin=True)
    figure.update_xaxes(type="date", title_text="when it served (UTC)")
    figure.update_layout(
        barmode="overlay",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
    )
    return _layout(figure, "What served where, and when", height=max(240, 90 + 55 * len(lanes)))


@dataclass(frozen=True)
class MetricScale:
    """How a metric is drawn: its words, which way is better, and whether it lives on 0..1."""

    label: str
    higher_is_better: bool
    bounded: bool


def metric_scale(name: str) -> MetricScale:
    """A metric's direction and scale, from the metric vocabulary (``steward.core.domain.metrics``).

    Metrics of different scales or directions are never drawn on one shared axis: each gets its own
    panel, and scores between 0 and 1 are drawn on that scale rather than zoomed in."""
    known = metric(name)
    return MetricScale(
        metric_phrase(name), higher_is_better(name), known is not None and known.scale is Scale.UNIT
    )


def metrics_figure(
    rows: Sequence[MetricRow],
    challenger: str,
    champion: str | None,
    floors: Mapping[str, float] | None = None,
) -> go.Figure:
    """One small panel per metric: the proposed version beside the serving one, with the environment's
    threshold as a dashed line. Scores live on their 0..1 scale so a lone bar still says something."""
    floors = floors or {}
    shown = [row for row in rows if row.challenger is not None or row.champion is not None]
    scales = [metric_scale(row.metric) for row in shown]
    columns = max(len(shown), 1)
    figure = make_subplots(
        rows=1,
        cols=columns,
        subplot_titles=[
            f"{_safe(scale.label)}<br><sup>{'higher' if scale.higher_is_better else 'lower'} is better</sup>"
            for scale in scales
        ]
        or [""],
        horizontal_spacing=0.05,
    )
    labels = [_safe(challenger)] + ([_safe(champion)] if champion else [])
    for position, (row, scale) in enumerate(zip(shown, scales, strict=True), start=1):
        values = [row.challenger] + ([row.champion] if champion else [])
        figure.add_trace(
            go.Bar(
                x=labels,
                y=[v if v is not None else 0.0 for v in values],
                text=[_number(v) for v in values],
                textposition="outside",
                cliponaxis=False,
                marker={"color": [CHALLENGER, CHAMPION][: len(values)]},
                name=_safe(scale.label),
                hovertemplate="%{x}: %{text}<extra>%{fullData.name}</extra>",
            ),
            row=1,
            col=position,
        )
        if scale.bounded:
            figure.update_yaxes(range=[0, 1.1], row=1, col=position)
        else:
            top = max([v for v in values if v is not None] + [floors.get(row.metric, 0.0)], default=1.0)
            figure.update_yaxes(range=[0, top * 1.25 or 1.0], row=1, col=position)
        # Every panel shows its own scale: an unbounded metric's full-height bar must not read as "high".
        figure.update_yaxes(tickformat=".1f" if scale.bounded else "", row=1, col=position)
        if row.metric in floors:
            # The threshold's words go under the panel, not on the line: a label drawn on the plot
            # lands on a bar as soon as a bar reaches it.
            figure.add_hline(
                y=floors[row.metric],
                line={"color": "#c44e52", "dash": "dash", "width": 1.5},
                row=1,
                col=position,
            )
            word = "at least" if scale.higher_is_better else "at most"
            figure.update_xaxes(
                title_text=f"dashed line: {word} {floors[row.metric]:g}",
                title_font={"size": 10, "color": "#c44e52"},
                row=1,
                col=position,
            )
    figure.update_layout(showlegend=False, bargap=0.3)
    title = f"Hold-out metrics: {_safe(challenger)}" + (f" against {_safe(champion)}" if champion else "")
    figure = _layout(figure, title, height=340)
    figure.update_layout(margin={"t": 90})
    return figure


def roc_figure(curves: Sequence[tuple[str, RocCurve]]) -> go.Figure:
    """ROC curves of the proposed and the serving version on the hold-out, against a coin toss."""
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="coin toss",
            line={"color": REFERENCE, "dash": "dash"},
            hoverinfo="skip",
        )
    )
    for index, (label, roc) in enumerate(curves):
        figure.add_trace(
            go.Scatter(
                x=list(roc.fpr),
                y=list(roc.tpr),
                mode="lines",
                name=_safe(label),
                line={"color": [CHALLENGER, CHAMPION][index % 2], "width": 3 if index == 0 else 2},
                hovertemplate="false alarms %{x:.0%}<br>caught %{y:.0%}<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_xaxes(
        range=[0, 1], tickformat=".0%", title_text="false alarms (share of good cases flagged)"
    )
    figure.update_yaxes(range=[0, 1.02], tickformat=".0%", title_text="caught (share of bad cases flagged)")
    figure.update_layout(legend={"yanchor": "bottom", "y": 0.02, "xanchor": "right", "x": 0.98})
    return _layout(figure, "Catching cases vs false alarms (ROC curve)", height=360)


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"
