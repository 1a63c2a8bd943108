"""The prediction log: batch runs answer each request once, monitors judge what was logged, windows roll up."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_monitoring import SAMPLE, deploy, register_data

from steward.core.drift.profile import build_profile
from steward.core.drift.report import DriftOptions, compare
from steward.core.errors import InvalidInput
from steward.core.services.predictions import EVENT_TIME, REQUEST_ID, ScoredBatch, request_ids
from steward.core.services.registry import PREDICTION_COLUMN
from steward.core.services.uow import UnitOfWork
from steward.core.steward import Steward
from testkit import add_user, sign_in


@pytest.fixture
def dana(steward: Steward):
    register_data(steward)
    add_user(steward, "dana", "data_scientist")
    return sign_in(steward, "dana")


def bike_monitor(steward: Steward, dana, window: str = "month") -> tuple[str, int]:
    name = deploy(steward, dana, "bike_demand.toml")
    monitor = steward.monitoring.add_monitor(
        dana,
        pipeline=name,
        environment="Dev",
        dataset="bike/production_2012",
        window=window,
        time_column="dteday",
        labels_dataset="bike/labels_2012",
        id_column="instant",
        label_column="cnt",
    )
    return name, monitor.id


def test_a_batch_answers_each_request_once_and_the_monitor_judges_the_log(steward, dana):
    name, monitor_id = bike_monitor(steward, dana)
    first = steward.monitoring.run(dana, monitor_id)
    assert first.status == "succeeded" and first.rows == 8734, first.detail
    assert first.detail.startswith("8734 new prediction(s) logged;")

    summary = steward.predictions.summary(name, "Dev")
    assert summary.predictions == 8734 and summary.by_version == ((1, 8734),)
    assert summary.first_event is not None and summary.first_event.isoformat().startswith("2012-01-01")
    assert summary.last_event is not None and summary.last_event.isoformat().startswith("2012-12-31")

    second = steward.monitoring.run(dana, monitor_id)
    assert second.status == "succeeded" and second.rows == 0 and second.windows == 12, second.detail
    assert "8734 answered before" in second.detail
    assert steward.predictions.summary(name, "Dev").predictions == 8734
    first_windows = steward.monitoring.windows(name, "Dev", run_id=first.id)
    second_windows = steward.monitoring.windows(name, "Dev", run_id=second.id)
    assert [(w.label, w.rows, w.verdict) for w in first_windows] == [
        (w.label, w.rows, w.verdict) for w in second_windows
    ], "the same log judged twice gives the same windows"
    assert [w.report["columns"] for w in first_windows] == [w.report["columns"] for w in second_windows]
    # yr is in 2012's data and was in 2011's training data, left out of the schema on purpose: no finding.
    findings = {(f["check"], f.get("column")) for w in first_windows for f in w.report["quality"]}
    assert ("extra_column", "yr") not in findings, findings


def test_a_column_training_never_had_is_a_schema_finding(steward, dana):
    name = deploy(steward, dana, "credit_default.toml")
    production = pd.read_csv(SAMPLE / "credit" / "production.csv").head(200).assign(channel="web")
    production.to_csv(steward.datasets.resolve("credit/with-channel.csv"), index=False)
    steward.datasets.register(dana, "credit/with-channel", "credit/with-channel.csv", role="production")
    monitor = steward.monitoring.add_monitor(
        dana,
        pipeline=name,
        environment="Dev",
        dataset="credit/with-channel",
        window="rows:200",
        id_column="ID",
    )
    assert steward.monitoring.run(dana, monitor.id).status == "succeeded"
    (window,) = steward.monitoring.windows(name, "Dev")
    findings = {(f["check"], f.get("column")) for f in window.report["quality"]}
    assert ("extra_column", "channel") in findings


def test_the_log_keeps_inputs_and_answers_exactly(steward, dana):
    name, monitor_id = bike_monitor(steward, dana)
    steward.monitoring.run(dana, monitor_id)
    version = steward.pipelines.version(name, 1)
    logged = steward.predictions.frame(name, "Dev", version.id, PREDICTION_COLUMN)
    production = pd.read_csv(SAMPLE / "bike" / "production_2012.csv")
    assert logged[REQUEST_ID].tolist() == production["instant"].astype(str).tolist()
    features = [c for c in production.columns if c not in ("instant", "dteday")]
    pd.testing.assert_frame_equal(logged[features], production[features], check_dtype=False)
    expected = steward.pipelines.score(version, production)[PREDICTION_COLUMN]
    np.testing.assert_array_equal(logged[PREDICTION_COLUMN].to_numpy(), expected.to_numpy())
    assert (logged[EVENT_TIME].dt.strftime("%Y-%m-%d") == production["dteday"]).all()


def test_a_request_logged_twice_is_kept_once_without_an_error(steward, dana):
    name = deploy(steward, dana, "credit_default.toml")
    version = steward.pipelines.version(name, 1)
    when = steward.ctx.clock.now()
    batch = ScoredBatch(
        request_ids=["a", "b"],
        event_times=[when, when],
        features=pd.DataFrame({"x": [1.0, math.nan], "y": ["text", "1"]}),
        predictions=[0.25, 0.75],
        labels=[0, 1],
    )
    for _ in range(2):  # two runs racing over the same rows: the second writes nothing and does not fail
        with UnitOfWork(steward.ctx) as uow:
            steward.predictions.append(
                uow, batch, pipeline=name, environment="Dev", version_id=version.id, source="test"
            )
            uow.commit()
    logged = steward.predictions.frame(name, "Dev", version.id, PREDICTION_COLUMN)
    assert logged[REQUEST_ID].tolist() == ["a", "b"]
    assert logged["y"].tolist() == ["text", "1"], "text stays text: a type error stays visible"
    assert math.isnan(logged["x"].iloc[1])
    assert steward.predictions.known(name, "Dev", ["a", "c"]) == {"a"}


def test_a_new_version_judges_only_what_it_answered(steward, dana):
    name, monitor_id = bike_monitor(steward, dana)
    steward.monitoring.run(dana, monitor_id)
    version = steward.pipelines.train(dana, name, importances=False)
    request = steward.promotions.request(dana, name, version.number, "Dev", "a retrained model")
    assert request.status.value == "executed"
    run = steward.monitoring.run(dana, monitor_id)
    assert run.status == "succeeded" and run.rows == 0 and run.windows == 0, run.detail
    assert "answered no requests here yet" in run.detail
    assert steward.predictions.summary(name, "Dev").by_version == ((1, 8734),)


def test_bad_request_ids_are_refused_naming_the_problem(steward, dana, tmp_path):
    name = deploy(steward, dana, "credit_default.toml")
    production = pd.read_csv(SAMPLE / "credit" / "production.csv")
    twice = pd.concat([production.head(40), production.head(1)], ignore_index=True)
    path = steward.datasets.resolve("credit/repeated.csv")
    twice.to_csv(path, index=False)
    steward.datasets.register(dana, "credit/repeated", "credit/repeated.csv", role="production")
    monitor = steward.monitoring.add_monitor(
        dana, pipeline=name, environment="Dev", dataset="credit/repeated", window="rows:20", id_column="ID"
    )
    run = steward.monitoring.run(dana, monitor.id)
    first_id = str(production["ID"].iloc[0])
    assert run.status == "failed" and f"repeats {first_id!r}: each request needs its own id" in run.detail
    assert steward.predictions.summary(name, "Dev").predictions == 0, "a failed run logs nothing"


def test_request_ids_read_as_floats_still_join():
    assert request_ids(pd.Series([1.0, 2.0, 30.0], name="id")).tolist() == ["1", "2", "30"]
    assert request_ids(pd.Series(["a-1", "b"], name="id")).tolist() == ["a-1", "b"]
    with pytest.raises(InvalidInput, match="'id' has an empty value"):
        request_ids(pd.Series(["a", None], name="id"))


def test_windows_roll_up_from_their_profiles_as_if_the_rows_were_read_again(steward, dana):
    name, monitor_id = bike_monitor(steward, dana)
    steward.monitoring.run(dana, monitor_id)
    quarters = steward.monitoring.rollup(name, "Dev", "quarter")
    assert [q.label for q in quarters] == ["2012-Q1", "2012-Q2", "2012-Q3", "2012-Q4"]
    assert [q.windows for q in quarters] == [3, 3, 3, 3]
    assert sum(q.rows for q in quarters) == 8734
    assert all(q.verdict == "drift" for q in quarters)

    # The merged profile judges a quarter as the quarter's own rows do.
    version = steward.pipelines.version(name, 1)
    reference = steward.pipelines.reference_profile(version.id)
    logged = steward.predictions.frame(name, "Dev", version.id, PREDICTION_COLUMN)
    summer = logged[logged[EVENT_TIME].dt.quarter == 3].drop(columns=[REQUEST_ID, EVENT_TIME])
    direct = compare(reference, build_profile(summer, schema=reference.schema), DriftOptions())
    q3 = quarters[2]
    assert q3.rows == len(summer)
    assert q3.verdict == direct.verdict.status
    assert set(q3.drifted) == set(direct.verdict.drifted)

    (year,) = steward.monitoring.rollup(name, "Dev", "all")
    assert year.windows == 12 and year.rows == 8734
    with pytest.raises(InvalidInput, match="roll up into quarter, year, all, not 'week'"):
        steward.monitoring.rollup(name, "Dev", "week")


def test_drift_history_follows_a_renamed_environment(steward, dana):
    name, monitor_id = bike_monitor(steward, dana)
    steward.monitoring.run(dana, monitor_id)
    before = [(w.label, w.verdict) for w in steward.monitoring.windows(name, "Dev")]
    add_user(steward, "ada", "admin")
    admin = sign_in(steward, "ada")
    steward.environments.rename(admin, "Dev", "Development")
    assert [(w.label, w.verdict) for w in steward.monitoring.windows(name, "Development")] == before
    assert steward.monitoring.windows(name, "Dev") == []
    assert len(steward.monitoring.rollup(name, "Development", "all")) == 1
    assert steward.predictions.summary(name, "Development").predictions == 8734
