"""Plotly figures for Service health: latency percentiles, throughput and errors per version, against the SLA.

Every point is one rollup (a minute or an hour) of one version, already
summed in the database, so a day is at most 1,440 points a line. Each version
is its own line, so a swap shows as one line ending and the next starting;
the SLA's targets are dashed horizontal lines.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from steward.app.ui.charts import COLORS
from steward.core.domain.service_health import SeriesPoint
from steward.core.domain.sla import SlaTargets

HEIGHT = 620
_DASHES = {"p50": "dot", "p95": "solid", "p99": "dash"}


def _by_version(points: Sequence[SeriesPoint]) -> dict[int, list[SeriesPoint]]:
    lines: dict[int, list[SeriesPoint]] = {}
    for point in points:
        lines.setdefault(point.version_number, []).append(point)
    return dict(sorted(lines.items()))


def service_figure(points: Sequence[SeriesPoint], targets: SlaTargets | None, span_seconds: int) -> go.Figure:
    """Three stacked panels sharing time: latency (p50/p95/p99), throughput, error rate; SLA lines dashed."""
    unit = "minute" if span_seconds == 60 else "hour"
    figure = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        subplot_titles=(
            f"Latency per {unit} (ms)",
            f"Throughput (requests/s, per {unit})",
            "Errors and fallback answers (% of requests)",
        ),
    )
    for index, (number, line) in enumerate(_by_version(points).items()):
        color = COLORS[index % len(COLORS)]
        times = [p.start for p in line]
        for label, values in (
            ("p50", [p.p50_ms for p in line]),
            ("p95", [p.p95_ms for p in line]),
            ("p99", [p.p99_ms for p in line]),
        ):
            figure.add_trace(
                go.Scatter(
                    x=times,
                    y=values,
                    name=f"v{number} {label}",
                    legendgroup=f"v{number}",
                    line={"color": color, "dash": _DASHES[label]},
                    mode="lines+markers" if len(line) < 30 else "lines",
                ),
                row=1,
                col=1,
            )
        figure.add_trace(
            go.Scatter(
                x=times,
                y=[round(p.throughput_rps, 3) for p in line],
                name=f"v{number} throughput",
                legendgroup=f"v{number}",
                line={"color": color},
                mode="lines",
            ),
            row=2,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=times,
                y=[round(100 * p.error_rate, 3) for p in line],
                name=f"v{number} errors",
                legendgroup=f"v{number}",
                line={"color": color},
                mode="lines",
            ),
            row=3,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=times,
                y=[round(100 * p.fallbacks / p.requests, 3) if p.requests else 0 for p in line],
                name=f"v{number} fallback",
                legendgroup=f"v{number}",
                line={"color": color, "dash": "dot"},
                mode="lines",
            ),
            row=3,
            col=1,
        )
    if targets is not None:
        for name, label, row in (
            ("p50_ms", "SLA p50", 1),
            ("p95_ms", "SLA p95", 1),
            ("p99_ms", "SLA p99", 1),
            ("min_throughput_rps", "SLA minimum", 2),
        ):
            value = getattr(targets, name)
            if value is not None:
                figure.add_hline(
                    y=value,
                    line={"color": "#b71c1c", "dash": "dash", "width": 1},
                    annotation_text=f"{label} {value:g}",
                    row=row,
                    col=1,
                )
        if targets.max_error_rate is not None:
            figure.add_hline(
                y=100 * targets.max_error_rate,
                line={"color": "#b71c1c", "dash": "dash", "width": 1},
                annotation_text=f"SLA errors {100 * targets.max_error_rate:g} %",
                row=3,
                col=1,
            )
    figure.update_layout(
        height=HEIGHT, margin={"l": 40, "r": 20, "t": 40, "b": 20}, legend={"orientation": "h"}
    )
    return figure
