"""The Pipelines page in Streamlit's AppTest on a seeded demo: register, train, refuse, and the model card.

A data scientist registers a spec through the page's form and trains it; a
viewer gets no controls; a bad spec is refused with one line naming the field
and registers nothing; the card speaks in sentences and carries plotly charts.
"""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from steward.core.domain.accounts import Actor
from steward.core.domain.permissions import Action, is_allowed
from steward.core.setup.demo import as_user
from steward.core.steward import Steward
from testkit import REPO_ROOT, demo_tokens

ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")
PAGE = "../pages/pipelines.py"

SPEC = """
spec_version = 1

[pipeline]
name = "{name}"
owner = "operations"
task = "regression"
target = "cnt"
description = "{description}"

[source]
type = "file"
path = "bike/train_2011.csv"

[training]
seed = 7
holdout = 0.2

[schema]
columns = [
  {{ name = "hr", kind = "integer", min = 0, max = 23 }},
  {{ name = "temp", kind = "numeric", min = 0, max = 1, description = "normalised temperature" }},
  {{ name = "workingday", kind = "boolean" }},
]

[model]
estimator = "{estimator}"
params = {{ {params} }}

[[preprocess]]
name = "numbers"
columns = ["hr", "temp", "workingday"]
steps = ["StandardScaler"]
"""


def spec(
    name: str = "bike-ridge",
    *,
    estimator: str = "Ridge",
    params: str = "alpha = 1.0",
    description: str = "Bikes per hour from the hour, temperature and working day.",
) -> str:
    return SPEC.format(name=name, estimator=estimator, params=params, description=description)


@pytest.fixture(scope="module")
def demo(demo_steward: Steward) -> tuple[Steward, dict[str, str]]:
    """This module's copy of the seeded demo and a fresh session token per demo user."""
    return demo_steward, demo_tokens(demo_steward)


def open_pipelines(token: str) -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=120)
    at.session_state["steward_token"] = token
    at.run()
    assert not at.exception, at.exception
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert [title.value for title in at.title] == ["Pipelines"]
    return at


def unescape(text: str) -> str:
    """Markdown as a person reads it: the page escapes every special character of the card's text."""
    return re.sub(r"\\(.)", r"\1", text)


def markdown_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    return unescape("\n".join(parts))


def button(at: AppTest, label: str) -> Any:
    return next(b for b in at.button if b.label == label)


def pipeline_names(steward: Steward) -> list[str]:
    return [overview.pipeline.name for overview in steward.pipelines.list()]


def test_data_scientist_registers_a_spec_through_the_form_and_trains_it(
    demo: tuple[Steward, dict[str, str]],
) -> None:
    steward, tokens = demo
    at = open_pipelines(tokens["dana"])
    at.text_area(key="spec_text").input(spec())
    button(at, "Register").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("Registered bike" in unescape(s.value) for s in at.success)
    assert "bike-ridge" in pipeline_names(steward)
    assert at.selectbox(key="pipelines_choice").value == "bike-ridge"  # the page moved to it
    assert "No versions yet" in markdown_text(at)

    at.button(key="train_pipeline").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("Trained bike-ridge v1 (8,645 rows)" in unescape(s.value) for s in at.success)
    versions = steward.pipelines.versions("bike-ridge")
    assert [v.number for v in versions] == [1]
    assert versions[0].trained_by == "dana" and versions[0].lineage["estimator"] == "Ridge"
    text = markdown_text(at)
    assert "Model card: bike-ridge v1" in [unescape(s.value) for s in at.subheader]
    assert "on average the estimate is" in text and "away from the actual cnt" in text
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    assert any(
        trace.get("name") == "test cases" and trace["type"] == "scatter"
        for figure in figures
        for trace in figure["data"]
    )


@pytest.mark.parametrize(
    ("bad_spec", "named"),
    [
        (spec("bike-bad", estimator="MagicForest"), "model.estimator: unknown estimator 'MagicForest'"),
        (spec("bike-bad", params="alpah = 1.0"), "unknown parameter 'alpah' for Ridge"),
        (spec("../etc/bike"), "pipeline.name must not contain path separators"),
        (spec("<b>bike</b>"), "pipeline.name must not contain markup characters"),
        ("spec_version = 1\n[pipeline\nname = 'x'", "TOML"),
    ],
    ids=["unknown-estimator", "unknown-parameter", "path-separator", "markup", "broken-toml"],
)
def test_a_bad_spec_is_refused_in_one_line_naming_the_field_and_nothing_is_registered(
    demo: tuple[Steward, dict[str, str]], bad_spec: str, named: str
) -> None:
    steward, tokens = demo
    before = pipeline_names(steward)
    at = open_pipelines(tokens["dana"])
    at.text_area(key="spec_text").input(bad_spec)
    button(at, "Register").click().run()
    assert not at.exception, at.exception
    errors = [unescape(e.value) for e in at.error]
    assert len(errors) == 1 and "\n" not in errors[0], errors
    assert named.lower() in errors[0].lower(), errors
    assert not at.success
    assert pipeline_names(steward) == before


def test_an_empty_form_asks_for_a_spec(demo: tuple[Steward, dict[str, str]]) -> None:
    _, tokens = demo
    at = open_pipelines(tokens["dana"])
    button(at, "Register").click().run()
    assert [e.value for e in at.error] == ["Paste a spec or upload a .toml file first."]


@pytest.mark.parametrize("username", ["vera", "bea"])
def test_viewer_and_business_reviewer_see_the_card_but_no_register_or_train_controls(
    demo: tuple[Steward, dict[str, str]], username: str
) -> None:
    _, tokens = demo
    at = open_pipelines(tokens[username])
    assert [tab.label for tab in at.tabs] == ["Model card", "Versions", "Schema"]
    labels = {b.label for b in at.button}
    assert not labels & {"Register", "Train", "Register the upload as a new version"}, labels
    assert not at.text_area
    assert not at.get("file_uploader")
    assert "Register or update a pipeline" not in [e.label for e in at.expander]
    assert "Model card:" in " ".join(s.value for s in at.subheader)


def test_model_card_says_auc_and_accuracy_in_words_with_charts(demo: tuple[Steward, dict[str, str]]) -> None:
    _, tokens = demo
    at = open_pipelines(tokens["bea"])
    at.selectbox(key="pipelines_choice").set_value("credit-default").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="pipelines_version_credit-default").value == 3  # the latest by default
    at.selectbox(key="pipelines_version_credit-default").set_value(2).run()  # the one deployed
    text = markdown_text(at)
    assert (
        "given a random case with default_next_month = 1 and a random case with default_next_month = 0, "
        "the model gives the first the higher score 77% of the time" in text
    )
    # Accuracy is set against always answering the majority class (77.7% of the hold-out never default).
    assert "always answering 0 would already be right 77.7% of the time" in text
    assert "The model adds 4.2 percentage points" in text
    assert "On ROC AUC, v2 is better than v1: 0.773 against 0.703." in text
    assert "No fairness assessment has been recorded" in text
    assert {m.label: m.value for m in at.metric}["Ranking (ROC AUC)"] == "0.773"

    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    roc = next(f for f in figures if "ROC curve" in f["layout"]["title"]["text"])
    names = [trace["name"] for trace in roc["data"]]
    assert names == ["coin toss", "v2 (ROC AUC 0.773)", "v1 (ROC AUC 0.703)"]
    assert len(roc["data"][1]["x"]) <= 101  # aggregated at training time, not raw rows
    assert any("calibration" in f["layout"]["title"]["text"] for f in figures)

    at.selectbox(key="pipelines_version_credit-default").set_value(1).run()
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    bars = next(f for f in figures if f["layout"]["title"]["text"] == "Inputs with the largest weights")
    assert bars["data"][0]["type"] == "bar" and "PAY_0" in " ".join(bars["data"][0]["y"])


def test_versions_sit_side_by_side_with_lineage_and_the_schema_is_listed(
    demo: tuple[Steward, dict[str, str]],
) -> None:
    _, tokens = demo
    at = open_pipelines(tokens["rick"])
    at.selectbox(key="pipelines_choice").set_value("credit-default").run()
    frames = [frame.value for frame in at.dataframe]
    side_by_side = next(f for f in frames if list(f.columns)[:4] == ["", "v3", "v2", "v1"])
    rows = dict(zip(side_by_side[""], side_by_side["v2"], strict=True))
    assert rows["ROC AUC"] == "0.773" and rows["Trained by"] == "sam"
    challenger = dict(zip(side_by_side[""], side_by_side["v3"], strict=True))
    assert challenger["ROC AUC"] == "0.771" and challenger["Trained by"] == "dana"
    assert rows["Log loss (lower is better)"] == "0.435"
    assert side_by_side.loc[side_by_side[""] == "Data digest", "v1"].item() == rows["Data digest"]
    assert {"Lineage of v1", "Lineage of v2", "Lineage of v3"} <= {e.label for e in at.expander}
    lineage = next(f for f in frames if list(f.columns) == ["What", "Value"])
    assert "Library: scikit-learn" in set(lineage["What"])
    schema = next(f for f in frames if "Allowed values" in f.columns)
    allowed = dict(zip(schema["Column"], schema["Allowed values"], strict=True))
    assert allowed["AGE"] == "18 to 120" and allowed["SEX"] == "one of 1, 2"


def test_text_people_typed_is_shown_as_text(demo: tuple[Steward, dict[str, str]]) -> None:
    steward, tokens = demo
    hostile = "Click [here](javascript:alert(1)) <img src=x onerror=alert(1)> **now**"
    steward.pipelines.register(as_user(steward, "dana"), spec("bike-hostile", description=hostile))
    at = open_pipelines(tokens["dana"])
    at.selectbox(key="pipelines_choice").set_value("bike-hostile").run()
    captions = [c.value for c in at.caption]
    shown = next(c for c in captions if "javascript" in c)
    assert "\\[here\\]\\(javascript" in shown and "\\<img" in shown and "\\*\\*now\\*\\*" in shown


# ---- uploads: refused by the page's real path ----------------------------------------------------


class WritesMarker:
    """Unpickling this runs code: it creates the marker file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return (Path.touch, (self.path,))


def upload_through_the_page(at: AppTest, filename: str, data: bytes) -> None:
    at.selectbox(key="pipelines_choice").set_value("credit-default").run()
    at.file_uploader(key="artifact_upload").upload(filename, data)
    at.run()
    assert not at.exception, at.exception
    at.button(key="upload_artifact").click().run()
    assert not at.exception, at.exception


def test_a_pickle_uploaded_through_the_page_is_refused_never_runs_and_registers_nothing(
    demo: tuple[Steward, dict[str, str]], tmp_path: Path
) -> None:
    steward, tokens = demo
    before = len(steward.pipelines.versions("credit-default"))
    marker = tmp_path / "pwned"
    at = open_pipelines(tokens["dana"])
    upload_through_the_page(at, "model.skops", pickle.dumps(WritesMarker(marker)))
    errors = [unescape(e.value) for e in at.error]
    assert len(errors) == 1 and "\n" not in errors[0], errors
    assert "model.skops is a Python pickle; only skops files are accepted" in errors[0]
    assert not at.success and not marker.exists()
    assert len(steward.pipelines.versions("credit-default")) == before
    refusal = steward.audit.recent(1)[0]
    assert (refusal.action, refusal.actor, refusal.outcome.value) == ("pipeline.upload", "dana", "failed")


@pytest.fixture
def small_upload_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app under test with STEWARD_MAX_UPLOAD_BYTES=1000 (its cached Steward is rebuilt, then again after)."""
    monkeypatch.setenv("STEWARD_MAX_UPLOAD_BYTES", "1000")
    st.cache_resource.clear()  # the app's Steward is cached per process: build one with this limit
    yield
    st.cache_resource.clear()


def test_an_upload_over_the_limit_is_refused_stating_the_limit_exactly(
    demo: tuple[Steward, dict[str, str]], small_upload_limit: None
) -> None:
    steward, tokens = demo
    before = len(steward.pipelines.versions("credit-default"))
    at = open_pipelines(tokens["dana"])
    at.selectbox(key="pipelines_choice").set_value("credit-default").run()
    assert "up to 1,000 bytes (1.0 kB)" in markdown_text(at)
    upload_through_the_page(at, "big.skops", b"PK\x03\x04" + b"\0" * 4998)
    errors = [unescape(e.value) for e in at.error]
    assert errors == ["big.skops is 5,002 bytes (5.0 kB); the limit is 1,000 bytes (1.0 kB)"], errors
    assert len(steward.pipelines.versions("credit-default")) == before


# ---- retraining on production data ---------------------------------------------------------------


def labelled_production(steward: Steward) -> str:
    """Production rows whose delayed labels have arrived, registered once as a production data set."""
    name = "credit/production-labelled"
    if name not in {d.name for d in steward.datasets.list()}:
        frame = pd.read_csv(
            REPO_ROOT / "steward" / "sample_data" / "credit" / "train.csv",
            skiprows=range(1, 20001),
            nrows=800,
        )
        path = steward.datasets.resolve(f"{name}.csv")
        frame.to_csv(path, index=False)
        steward.datasets.register(Actor.system_actor("test"), name, f"{name}.csv", role="production")
    return name


def open_retrain(token: str) -> AppTest:
    at = open_pipelines(token)
    at.selectbox(key="pipelines_choice").set_value("credit-default").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("username", ["otto", "dana", "admin", "vera", "bea", "rick"])
def test_the_retrain_control_offers_exactly_the_environments_the_matrix_allows(
    demo: tuple[Steward, dict[str, str]], username: str
) -> None:
    steward, tokens = demo
    labelled_production(steward)
    at = open_retrain(tokens[username])
    roles = steward.users.get(Actor.system_actor("test"), username).roles
    allowed = [e.name for e in steward.environments.list() if is_allowed(roles, Action.RETRAIN, e.tier)]
    tabs = [tab.label for tab in at.tabs]
    if not allowed:
        assert "Retrain" not in tabs and "Retrain" not in {b.label for b in at.button}
        return
    assert "Retrain" in tabs
    offered = [
        f"{d.name} ({d.environment})"
        for d in steward.datasets.list(role="production")
        if d.environment in allowed
    ]
    if not offered:  # only Prod's data is registered in the demo: nothing this role may train on
        assert any("No production data set of an environment you may retrain in" in i.value for i in at.info)
        return
    assert at.selectbox(key="retrain_dataset").options == offered
    assert "credit/production-labelled (Prod)" in offered


def test_an_operator_retrains_on_prod_data_through_the_page(demo: tuple[Steward, dict[str, str]]) -> None:
    steward, tokens = demo
    dataset = labelled_production(steward)
    before = [v.number for v in steward.pipelines.versions("credit-default")]
    at = open_retrain(tokens["otto"])
    at.selectbox(key="retrain_dataset").set_value(dataset)
    next(b for b in at.button if b.label == "Retrain").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    number = before[-1] + 1
    assert any(f"Retrained credit-default v{number} (800 rows)" in unescape(s.value) for s in at.success)
    version = steward.pipelines.version("credit-default", number)
    assert (version.origin, version.trained_by) == ("retrained", "otto")
    assert version.lineage["retrained_from"]["environment"] == "Prod"
    assert version.lineage["retrained_from"]["dataset"] == dataset


def test_production_data_without_labels_is_refused_on_the_page(demo: tuple[Steward, dict[str, str]]) -> None:
    steward, tokens = demo
    before = len(steward.pipelines.versions("credit-default"))
    at = open_retrain(tokens["otto"])
    at.selectbox(key="retrain_dataset").set_value("credit/production")  # the demo's: labels come separately
    next(b for b in at.button if b.label == "Retrain").click().run()
    errors = [unescape(e.value) for e in at.error]
    assert len(errors) == 1 and "has no target column 'default_next_month'" in errors[0], errors
    assert not at.success and len(steward.pipelines.versions("credit-default")) == before
