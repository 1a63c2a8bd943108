"""The Drift page on the seeded demo: the selected monitor's own evidence, performance estimated before
labels beside the realised figures, statuses in words, filters from the Overview's links, and pausing.

Figures on the page are checked against the service's, not only that the page rendered.
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from steward.core.domain.metrics import format_metric
from steward.core.setup.demo import as_user
from steward.core.steward import Steward
from testkit import REPO_ROOT, demo_tokens

pytestmark = pytest.mark.xdist_group("app_drift")
ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")


@pytest.fixture(scope="module")
def demo(demo_steward: Steward) -> tuple[Steward, dict[str, str]]:
    return demo_steward, demo_tokens(demo_steward)


def open_page(token: str, page: str = "drift.py", **query: str) -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=120)
    at.session_state["steward_token"] = token
    at.run()
    at.query_params.update(query)
    at.switch_page(f"../pages/{page}").run()
    assert not at.exception, at.exception
    return at


def frame_with(at: AppTest, column: str) -> list[dict[str, object]]:
    return [row for f in at.dataframe if column in f.value.columns for row in f.value.to_dict("records")]


def texts(at: AppTest) -> str:
    parts = [str(e.value) for kind in ("caption", "markdown", "warning", "info") for e in at.get(kind)]
    return re.sub(r"\\(.)", r"\1", "\n".join(parts + [f.value.to_string() for f in at.dataframe]))


def test_a_classifier_monitor_shows_estimated_beside_realised_performance(demo):
    steward, tokens = demo
    credit = next(m for m in steward.monitoring.monitors() if m.pipeline_name == "credit-default")
    at = open_page(tokens["otto"], pipeline="credit-default", environment="Test")
    assert at.selectbox(key="drift_monitor").value == credit.id
    assert "Performance before labels arrive" in [s.value for s in at.subheader]
    estimates = steward.monitoring.page(as_user(steward, "otto"), credit.id).estimates
    assert estimates is not None and estimates.windows
    rows = frame_with(at, "Accuracy estimated")
    assert [r["Window"] for r in rows] == [w.label for w in estimates.windows]
    for row, window in zip(rows, estimates.windows, strict=True):
        assert window.realised is not None  # the demo's labels joined
        assert row["Accuracy estimated"] == format_metric("accuracy", window.estimated["accuracy"])
        assert row["Accuracy realised"] == format_metric("accuracy", window.realised["accuracy"])
        assert row["ROC AUC estimated"] == format_metric("roc_auc", window.estimated["roc_auc"])
        assert row["ROC AUC realised"] == format_metric("roc_auc", window.realised["roc_auc"])
        assert (
            abs(float(str(row["Accuracy error"]))) <= 0.04
        )  # the tolerance in docs/performance-estimation.md
    assert "Measured error: Accuracy off by" in texts(at)
    assert len(at.get("plotly_chart")) >= 2  # the verdict timeline and the estimate beside the realised


def test_the_filter_picks_the_monitor_and_statuses_read_in_words(demo):
    steward, tokens = demo
    bike = next(m for m in steward.monitoring.monitors() if m.pipeline_name == "bike-demand")
    at = open_page(tokens["otto"], pipeline="bike-demand", environment="Dev")
    assert at.selectbox(key="drift_monitor").value == bike.id
    assert "Showing the monitors of bike-demand in Dev." in texts(at)
    assert "Performance before labels arrive" not in [s.value for s in at.subheader]  # a regressor
    windows = steward.monitoring.windows("bike-demand", "Dev", monitor_id=bike.id)
    assert [r["Rows"] for r in frame_with(at, "Quality findings")] == [w.rows for w in windows]
    shown = texts(at)
    assert "no_drift" not in shown and "insufficient" not in shown
    columns = frame_with(at, "p-value (adjusted)")
    assert columns and {str(r["Drift"]) for r in columns} <= {"drift", "no drift", "not enough data"}
    assert "Past threshold" in columns[0]
    at = open_page(tokens["otto"], pipeline="credit-default", environment="Prod")
    assert "No monitor watches credit-default in Prod: showing every monitor." in texts(at)


def test_an_operator_pauses_and_resumes_a_monitor_from_the_page(demo):
    steward, tokens = demo
    bike = next(m for m in steward.monitoring.monitors() if m.pipeline_name == "bike-demand")
    at = open_page(tokens["otto"], pipeline="bike-demand")
    at.button(key="drift_pause").click().run()
    assert not at.exception, at.exception
    assert steward.monitoring.monitor(bike.id).enabled is False
    assert "is paused (by otto" in texts(at)
    assert not [b for b in at.button if b.key == "drift_run"]  # no Run now while paused
    assert steward.audit.recent(1)[0].action == "monitor.pause"
    at.button(key="drift_pause").click().run()
    assert steward.monitoring.monitor(bike.id).enabled is True
    assert steward.audit.recent(1)[0].action == "monitor.resume"


def test_a_viewer_sees_no_pause_controls(demo):
    _, tokens = demo
    at = open_page(tokens["vera"], pipeline="bike-demand")
    assert not [b for b in at.button if b.key in ("drift_pause", "drift_remove")]


def test_infrastructure_honours_the_environment_filter(demo):
    _, tokens = demo
    at = open_page(tokens["otto"], "infrastructure.py", environment="Test")
    assert any(str(m.value).startswith("### ") and "for Test" in str(m.value) for m in at.markdown)
    assert "scoring replicas only" in texts(at)
    at = open_page(tokens["otto"], "infrastructure.py", environment="Nowhere")
    assert "No environment named Nowhere: showing every environment." in texts(at)
