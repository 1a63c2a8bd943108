"""Batch monitoring on real data and real databases: drift where 2012 differs from 2011, none on a random hold-out."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import text

from steward.core.domain.accounts import Actor
from steward.core.domain.monitoring import parse_window
from steward.core.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from steward.core.services.jobs import slot_for
from steward.core.steward import Steward
from testkit import REPO_ROOT, add_user, sign_in

SAMPLE = REPO_ROOT / "steward" / "sample_data"
SYSTEM = Actor.system_actor("test")


def register_data(steward: Steward) -> None:
    """The demo's data sets, copied under the data folder and registered like the demo does."""
    target = steward.datasets.root
    for relative in (
        "bike/train_2011.csv",
        "bike/production_2012.csv",
        "bike/labels_2012.csv",
        "credit/train.csv",
        "credit/production.csv",
        "credit/labels.csv",
    ):
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE / relative, target / relative)
        steward.datasets.register(
            SYSTEM,
            relative.removesuffix(".csv"),
            relative,
            role="labels" if "label" in relative else "production",
        )


def deploy(steward: Steward, actor: Actor, spec: str, environment: str = "Dev") -> str:
    pipeline = steward.pipelines.register(actor, (SAMPLE / "specs" / spec).read_bytes())
    version = steward.pipelines.train(actor, pipeline.name, importances=False)
    steward.promotions.request(actor, pipeline.name, version.number, environment, "monitoring test")
    return pipeline.name


@pytest.fixture
def dana(steward: Steward) -> Actor:
    register_data(steward)
    add_user(steward, "dana", "data_scientist")
    return sign_in(steward, "dana")


def test_bike_trained_on_2011_drifts_on_2012_where_seasons_and_growth_show(steward, dana):
    name = deploy(steward, dana, "bike_demand.toml")
    monitor = steward.monitoring.add_monitor(
        dana,
        pipeline=name,
        environment="Dev",
        dataset="bike/production_2012",
        window="month",
        time_column="dteday",
        labels_dataset="bike/labels_2012",
        id_column="instant",
        label_column="cnt",
    )
    run = steward.monitoring.run(dana, monitor.id)
    assert run.status == "succeeded" and run.rows == 8734 and run.windows == 12
    windows = steward.monitoring.windows(name, "Dev")
    assert [w.label for w in windows] == [f"2012-{month:02d}" for month in range(1, 13)]
    assert all(w.verdict == "drift" for w in windows)
    drifted = {c["name"] for w in windows for c in w.drifted_columns()[:4]}
    assert {"temp", "mnth", "season"} <= drifted  # the seasons turn
    assert sum(w.prediction_verdict == "drift" for w in windows) >= 9  # predicted demand moves with them
    assert all(
        w.performance_status == "degraded" for w in windows
    )  # ridership grew: errors beyond the hold-out
    overlay = steward.monitoring.overlay(windows[6].id, "temp")
    assert overlay and overlay["kind"] == "numeric"
    assert sum(overlay["reference_share"]) == pytest.approx(1, abs=1e-4)  # shares are rounded to 6 places
    assert sum(overlay["current_share"]) == pytest.approx(1, abs=1e-4)
    event = next(e for e in steward.audit.recent(5) if e.action != "alert.open")
    assert (
        event.action == "batch.run" and event.after["windows"] == 12 and event.after["status"] == "succeeded"
    )


def test_credit_shows_no_drift_on_its_random_hold_out(steward, dana):
    name = deploy(steward, dana, "credit_default.toml")
    monitor = steward.monitoring.add_monitor(
        dana,
        pipeline=name,
        environment="Dev",
        dataset="credit/production",
        window="rows:6000",
        labels_dataset="credit/labels",
        id_column="ID",
        label_column="default_next_month",
    )
    run = steward.monitoring.run(dana, monitor.id)
    assert run.status == "succeeded"
    (window,) = steward.monitoring.windows(name, "Dev")
    assert window.verdict == "no_drift", window.reason
    assert window.prediction_verdict == "no_drift"
    assert window.performance_status == "ok"


def test_a_failed_run_is_recorded_with_the_reason(steward, dana):
    name = deploy(steward, dana, "credit_default.toml")
    path = steward.datasets.resolve("credit/production_short.csv")
    pd.read_csv(steward.datasets.resolve("credit/production.csv")).drop(columns=["PAY_AMT3"]).to_csv(
        path, index=False
    )
    steward.datasets.register(
        SYSTEM, "credit/production_short", "credit/production_short.csv", role="production"
    )
    monitor = steward.monitoring.add_monitor(
        dana, pipeline=name, environment="Dev", dataset="credit/production_short", window="rows:2000"
    )
    run = steward.monitoring.run(dana, monitor.id)
    assert run.status == "failed" and "PAY_AMT3" in run.detail and run.error == run.detail
    assert steward.monitoring.windows(name, "Dev") == []
    event = next(e for e in steward.audit.recent(5) if e.action != "alert.open")
    assert event.action == "batch.run" and event.outcome.value == "failed"
    assert [r.status for r in steward.monitoring.batch_health()] == ["failed"]


def test_nothing_serving_is_a_failed_run_not_a_crash(steward, dana):
    steward.pipelines.register(dana, (SAMPLE / "specs" / "credit_default.toml").read_bytes())
    monitor = steward.monitoring.add_monitor(
        dana, pipeline="credit-default", environment="Test", dataset="credit/production", window="rows:2000"
    )
    run = steward.monitoring.run(dana, monitor.id)
    assert run.status == "failed" and "nothing serves credit-default in Test" in run.detail


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"window": "fortnight"}, InvalidInput, "fortnight"),
        ({"window": "month"}, InvalidInput, "needs a time column"),
        ({"window": "rows:5"}, InvalidInput, "at least 10 rows"),
        ({"window": "day", "time_column": "when"}, InvalidInput, "'when' is not a column"),
        ({"window": "rows:100", "labels_dataset": "credit/labels"}, InvalidInput, "id column"),
        ({"window": "rows:100", "dataset": "credit/nothing"}, NotFound, "credit/nothing"),
        ({"window": "rows:100", "mode": "psychic"}, InvalidInput, "psychic"),
    ],
)
def test_bad_monitors_are_refused_naming_the_problem(steward, dana, options, error, message):
    steward.pipelines.register(dana, (SAMPLE / "specs" / "credit_default.toml").read_bytes())
    arguments = {
        "pipeline": "credit-default",
        "environment": "Dev",
        "dataset": "credit/production",
        **options,
    }
    with pytest.raises(error, match=message):
        steward.monitoring.add_monitor(dana, **arguments)
    assert steward.monitoring.monitors() == []


def test_duplicate_monitor_and_production_batches_are_for_operators(steward, dana):
    steward.pipelines.register(dana, (SAMPLE / "specs" / "credit_default.toml").read_bytes())
    monitor = steward.monitoring.add_monitor(
        dana, pipeline="credit-default", environment="Prod", dataset="credit/production", window="rows:1000"
    )
    with pytest.raises(AlreadyExists):
        steward.monitoring.add_monitor(
            dana,
            pipeline="credit-default",
            environment="Prod",
            dataset="credit/production",
            window="rows:1000",
        )
    with pytest.raises(PermissionDenied):
        steward.monitoring.run(dana, monitor.id)  # Prod batches: operators and admins
    add_user(steward, "otto", "operator")
    assert steward.monitoring.run(sign_in(steward, "otto"), monitor.id).status == "failed"  # nothing serves


def test_each_job_slot_runs_once_across_workers(steward, tmp_path, database_url, clock):
    from testkit import make_settings

    other = Steward(make_settings(tmp_path, database_url), clock=clock)
    ran: list[str] = []
    every = timedelta(hours=1)
    first = steward.jobs.run_once("demo.job", every, "worker-a", lambda: ran.append("a") or "done")
    second = other.jobs.run_once("demo.job", every, "worker-b", lambda: ran.append("b") or "done")
    assert ran == ["a"] and first is not None and first.status == "ok" and second is None
    clock.advance(hours=1)
    later = other.jobs.run_once("demo.job", every, "worker-b", lambda: ran.append("b") or "done")
    assert ran == ["a", "b"] and later is not None and later.worker == "worker-b"
    failed = steward.jobs.run_once("broken.job", every, "worker-a", lambda: 1 / 0)  # type: ignore[arg-type,return-value]
    assert failed is not None and failed.status == "failed" and "ZeroDivisionError" in failed.detail
    other.close()


def test_slots_align_to_the_interval():
    moment = datetime(2026, 11, 26, 9, 47, 12, tzinfo=UTC)
    assert slot_for(moment, timedelta(minutes=15)) == datetime(2026, 11, 26, 9, 45, tzinfo=UTC)
    assert slot_for(moment, timedelta(hours=24)) == datetime(2026, 11, 26, tzinfo=UTC)
    assert parse_window("rows:500", None).rows == 500


def test_the_worker_jobs_checkpoint_and_run_due_monitors(steward, dana):
    from steward.core.setup.jobs import audit_checkpoint, run_due_monitors, verify_artifacts

    name = deploy(steward, dana, "credit_default.toml")
    steward.monitoring.add_monitor(
        dana,
        pipeline=name,
        environment="Dev",
        dataset="credit/production",
        window="rows:6000",
        every_minutes=60,
    )
    assert run_due_monitors(steward) == "1 monitor run(s), 0 failed"
    assert run_due_monitors(steward) == "0 monitor run(s), 0 failed"  # not due again within the hour
    assert "checkpoint #" in audit_checkpoint(steward)
    assert steward.audit.verify().checkpoint is not None
    assert verify_artifacts(steward) == "every artifact matches its registered digest"
    with steward.engines.write.begin() as connection:
        connection.execute(text("UPDATE pipeline_versions SET artifact_sha256 = :h"), {"h": "0" * 64})
    with pytest.raises(RuntimeError, match="credit-default v1"):
        verify_artifacts(steward)


def test_delayed_labels_can_come_from_a_database_query(steward, dana, tmp_path, clock, database_url):
    """Labels arriving in a warehouse table are joined on the request id, like labels in a file."""
    from sqlalchemy import create_engine

    from testkit import make_settings

    warehouse = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = create_engine(warehouse)
    pd.read_csv(SAMPLE / "credit" / "labels.csv").to_sql("outcomes", engine, index=False)
    engine.dispose()
    with_warehouse = Steward(
        make_settings(tmp_path, database_url, source_databases={"warehouse": warehouse}), clock=clock
    )
    name = deploy(with_warehouse, dana, "credit_default.toml")
    for bad, message in [
        ({"labels_database": "lake", "labels_query": "SELECT 1"}, "'lake' is not configured"),
        ({"labels_database": "warehouse", "labels_query": "DELETE FROM outcomes"}, "single SELECT"),
        ({"labels_database": "warehouse"}, "both the database name and the query"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            with_warehouse.monitoring.add_monitor(
                dana,
                pipeline=name,
                environment="Dev",
                dataset="credit/production",
                window="rows:6000",
                id_column="ID",
                label_column="default_next_month",
                **bad,
            )
    monitor = with_warehouse.monitoring.add_monitor(
        dana,
        pipeline=name,
        environment="Dev",
        dataset="credit/production",
        window="rows:6000",
        labels_database="warehouse",
        labels_query="SELECT ID, default_next_month FROM outcomes",
        id_column="ID",
        label_column="default_next_month",
    )
    assert monitor.labels_source == "a query on database warehouse"
    run = with_warehouse.monitoring.run(dana, monitor.id)
    assert run.status == "succeeded", run.detail
    (window,) = with_warehouse.monitoring.windows(name, "Dev")
    assert window.performance is not None and window.performance["labelled"] == 6000
    assert window.performance_status == "ok"
    with_warehouse.close()
