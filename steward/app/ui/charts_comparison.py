"""Plotly figures for a challenger against the champion on the same rows, for business reviewers.

Two figures, read side by side: per metric, both versions' values and the
paired difference with its confidence interval (a bar for the difference, a
whisker for the interval, a line at "no difference"), worded as "better" or
"worse" rather than as signs; and per segment, the share of answers the
challenger would change. Everything drawn is in the recorded comparison; no
row is read here.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from steward.app.ui.charts import COLORS, REFERENCE, _safe, _style
from steward.core.domain.head_to_head import DecisionDiff, HeadToHead, MetricComparison

BETTER, WORSE, UNDECIDED = "#4c9f70", "#c44e52", "#9aa5b1"
TOP_SEGMENTS = 12


def _verdict_color(metric: MetricComparison) -> str:
    return {"challenger": BETTER, "champion": WORSE}.get(metric.verdict, UNDECIDED)


def metric_intervals_figure(h2h: HeadToHead) -> go.Figure:
    """One row per metric: champion and challenger side by side, then the difference and its interval."""
    metrics = list(h2h.metrics)
    champion, challenger = f"v{h2h.champion_number} (serving)", f"v{h2h.challenger_number} (challenger)"
    figure = make_subplots(
        rows=max(1, len(metrics)),
        cols=2,
        column_widths=[0.5, 0.5],
        horizontal_spacing=0.12,
        subplot_titles=[
            title
            for m in metrics
            for title in (
                f"{_safe(m.metric)}: {'higher' if m.higher_is_better else 'lower'} is better",
                f"{_safe(m.metric)}: challenger minus serving, {m.confidence:.0%} interval",
            )
        ],
    )
    for row, metric in enumerate(metrics, start=1):
        figure.add_trace(
            go.Bar(
                x=[champion, challenger],
                y=[metric.champion, metric.challenger],
                marker_color=[COLORS[0], COLORS[1]],
                text=[f"{metric.champion:.4g}", f"{metric.challenger:.4g}"],
                textposition="auto",
                name=_safe(metric.metric),
                showlegend=False,
                hovertemplate="%{x}: %{y:.4g}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=[metric.difference],
                y=[_safe(metric.metric)],
                mode="markers",
                marker={"size": 12, "color": _verdict_color(metric)},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [max(0.0, metric.ci_high - metric.difference)],
                    "arrayminus": [max(0.0, metric.difference - metric.ci_low)],
                    "thickness": 2,
                    "width": 8,
                },
                name=f"{_safe(metric.metric)} difference",
                showlegend=False,
                hovertemplate=(
                    f"difference {metric.difference:+.4g}<br>interval {metric.ci_low:+.4g} to "
                    f"{metric.ci_high:+.4g}<br>p = {metric.p_value:.3g} ({_safe(metric.test)})<extra></extra>"
                ),
            ),
            row=row,
            col=2,
        )
        figure.add_vline(x=0, line={"color": REFERENCE, "dash": "dash"}, row=row, col=2)
    verdicts = ", ".join(f"{m.metric}: {verdict_words(m)}" for m in metrics) or "no metric in common"
    height = 120 + 170 * max(1, len(metrics))
    _style(figure, f"Same {h2h.rows:,} rows: {_safe(verdicts, 200)}", "", "", height=height)
    return figure


def verdict_words(metric: MetricComparison) -> str:
    """ "challenger better", "serving version better" or "no clear difference", for a reviewer."""
    return {
        "challenger": "challenger better",
        "champion": "serving version better",
    }.get(metric.verdict, "no clear difference")


def decision_diff_figure(decisions: DecisionDiff, *, top: int = TOP_SEGMENTS) -> go.Figure:
    """Per segment, the share of answers that change; the overall share as a reference line."""
    segments = list(decisions.segments[:top])
    labels = [f"{_safe(s.column, 30)} = {_safe(s.value, 30)} ({s.rows:,} rows)" for s in segments]
    shares = [s.changed / s.rows if s.rows else 0.0 for s in segments]
    figure = go.Figure(
        go.Bar(
            x=shares,
            y=labels,
            orientation="h",
            marker_color=COLORS[1],
            text=[f"{s.changed:,} of {s.rows:,}" for s in segments],
            textposition="auto",
            hovertemplate="%{y}: %{x:.0%} of answers change<extra></extra>",
            name="answers changed",
        )
    )
    figure.add_vline(x=decisions.share, line={"color": REFERENCE, "dash": "dash"})
    unit = f" by more than {decisions.tolerance:g}" if decisions.tolerance else ""
    title = f"Answers that change{unit}: {decisions.changed:,} of {decisions.rows:,} ({decisions.share:.0%})"
    _style(
        figure,
        title,
        "share of the segment's answers that change",
        "",
        height=120 + 28 * max(3, len(segments)),
    )
    figure.update_xaxes(range=[0, 1], tickformat=".0%")
    figure.update_yaxes(autorange="reversed")
    return figure
