"""The Approvals metric chart: one axis per metric, thresholds said beside the bars, never on them."""

from __future__ import annotations

from steward.app.ui.charts_deployments import metric_scale, metrics_figure
from steward.core.domain.promotions import MetricRow

ROWS = (
    MetricRow("accuracy", 0.819, 0.80, True),
    MetricRow("log_loss", 0.435, 0.46, False),
    MetricRow("rmse", 80.5, 79.0, False),
)


def test_metrics_of_different_scales_or_directions_never_share_an_axis():
    figure = metrics_figure(ROWS, "v2 (proposed)", "v1 (serving)", {"accuracy": 0.75, "log_loss": 0.5})
    axes = [(trace.xaxis, trace.yaxis) for trace in figure.data]
    assert len(set(axes)) == len(ROWS), "each metric on its own axis"
    layout = figure.layout
    log_loss_axis = layout["yaxis2"]
    assert tuple(layout["yaxis"].range) == (0, 1.1), "accuracy on its 0..1 scale"
    assert log_loss_axis.range[1] >= 0.5, "the log-loss panel reaches its threshold"
    titles = [a.text for a in layout.annotations]
    assert any("log loss" in t and "lower is better" in t for t in titles)
    assert any("accuracy" in t and "higher is better" in t for t in titles)


def test_the_threshold_label_is_under_the_panel_not_on_a_bar():
    figure = metrics_figure(ROWS, "v2 (proposed)", "v1 (serving)", {"accuracy": 0.75, "log_loss": 0.5})
    layout = figure.layout
    # Only subplot titles are annotations (paper-anchored, above the panels); no label sits on the plot.
    assert all(a.yref == "paper" and a.y >= 1.0 for a in layout.annotations)
    assert layout["xaxis"].title.text == "dashed line: at least 0.75"
    assert layout["xaxis2"].title.text == "dashed line: at most 0.5"
    assert [s.y0 for s in layout.shapes] == [0.75, 0.5]


def test_direction_and_scale_come_from_one_function():
    assert metric_scale("log_loss").higher_is_better is False and not metric_scale("log_loss").bounded
    assert metric_scale("accuracy").higher_is_better and metric_scale("accuracy").bounded
