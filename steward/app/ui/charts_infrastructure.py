"""Plotly figures for the Infrastructure page: a day of per-minute history, aggregated server-side.

The history is already one sample per process (or probe) per minute, so a day
is at most 1,440 points a line; nothing is computed in the browser. Names of
hosts and processes go through :func:`steward.app.ui.charts._safe` (plotly
renders HTML in labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from steward.app.ui.charts import COLORS, _safe
from steward.core.services.heartbeats import Sample
from steward.core.services.infrastructure import ProbeSample

HEIGHT = 520


def _series(samples: Sequence[Sample]) -> dict[str, list[Sample]]:
    lines: dict[str, list[Sample]] = {}
    for sample in samples:
        lines.setdefault(f"{sample.kind} {sample.name} ({sample.instance})", []).append(sample)
    return lines


def process_history_figure(samples: Sequence[Sample]) -> go.Figure:
    """CPU and memory of every process, and each host's CPU and load per core, minute by minute."""
    figure = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=(
            "Process CPU (%)",
            "Process memory (MB)",
            "Host CPU (%)",
            "Host load per core (1 min)",
        ),
    )
    for index, (label, points) in enumerate(_series(samples).items()):
        color = COLORS[index % len(COLORS)]
        minutes = [p.minute for p in points]
        name = _safe(label, 60)
        figure.add_trace(
            go.Scatter(
                x=minutes,
                y=[round(p.cpu_percent, 1) for p in points],
                name=name,
                legendgroup=name,
                line={"color": color},
                mode="lines",
            ),
            row=1,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=minutes,
                y=[round(p.memory_bytes / 1e6, 1) for p in points],
                name=name,
                legendgroup=name,
                line={"color": color},
                mode="lines",
                showlegend=False,
            ),
            row=2,
            col=1,
        )
    hosts: dict[str, dict[datetime, list[Sample]]] = {}
    for sample in samples:
        hosts.setdefault(sample.host, {}).setdefault(sample.minute, []).append(sample)
    for index, (host, per_minute) in enumerate(sorted(hosts.items())):
        ordered = sorted(per_minute.items())
        x = [minute for minute, _ in ordered]
        cpu = [round(sum(s.host_cpu_percent for s in group) / len(group), 1) for _, group in ordered]
        load = [
            round(sum(s.host_load_1m for s in group) / len(group) / max(1, group[0].host_cpu_count), 2)
            for _, group in ordered
        ]
        color = COLORS[(index + 3) % len(COLORS)]
        figure.add_trace(
            go.Scatter(x=x, y=cpu, name=f"{_safe(host)} CPU %", line={"color": color}, mode="lines"),
            row=3,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=load,
                name=f"{_safe(host)} load/core",
                line={"color": color, "dash": "dot"},
                mode="lines",
            ),
            row=4,
            col=1,
        )
    figure.update_layout(
        template="plotly_white",
        height=HEIGHT + 200,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        font={"size": 12},
        legend={"orientation": "h", "yanchor": "top", "y": -0.1},
        hoverlabel={"namelength": -1},
    )
    figure.update_xaxes(title_text="Time (UTC)", row=4, col=1)
    return figure


def probe_history_figure(samples: Sequence[ProbeSample]) -> go.Figure:
    """The database's round trip and size, and free space where artifacts and data live."""
    figure = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("Database round trip (ms)", "Database size (MB)", "Free space (GB)"),
    )
    by_probe: dict[str, list[ProbeSample]] = {}
    for sample in samples:
        by_probe.setdefault(sample.probe, []).append(sample)
    database = by_probe.get("Database", [])
    if database:
        x = [s.minute for s in database]
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[s.readings.get("latency_ms") for s in database],
                name="round trip",
                line={"color": COLORS[0]},
                mode="lines",
            ),
            row=1,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[round((s.readings.get("size_bytes") or 0) / 1e6, 2) for s in database],
                name="size",
                line={"color": COLORS[1]},
                mode="lines",
            ),
            row=2,
            col=1,
        )
    for index, name in enumerate(("Artifact store", "Data folder")):
        points = by_probe.get(name, [])
        if points:
            figure.add_trace(
                go.Scatter(
                    x=[s.minute for s in points],
                    y=[round((s.readings.get("free_bytes") or 0) / 1e9, 2) for s in points],
                    name=name.lower(),
                    line={"color": COLORS[2 + index]},
                    mode="lines",
                ),
                row=3,
                col=1,
            )
    figure.update_layout(
        template="plotly_white",
        height=HEIGHT,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        font={"size": 12},
        legend={"orientation": "h", "yanchor": "top", "y": -0.1},
    )
    figure.update_xaxes(title_text="Time (UTC)", row=3, col=1)
    return figure
