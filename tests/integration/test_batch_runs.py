"""Batch runs on bad production data: rows, not batches, are rejected; every failure is a recorded run.

Real files under the data folder, real SQLite and PostgreSQL, a real child
process killed with SIGKILL in the middle of a run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from test_monitoring import SAMPLE, deploy

from steward.core.adapters.db.models import PredictionRow
from steward.core.domain.accounts import Actor
from steward.core.domain.alerts import BATCH_FAILED_KIND
from steward.core.domain.monitoring import rejected_csv
from steward.core.services.uow import UnitOfWork
from steward.core.steward import Steward
from testkit import TEST_SCRYPT_N, add_user, sign_in

SYSTEM = Actor.system_actor("test")


def logged_rows(steward: Steward) -> int:
    with UnitOfWork(steward.ctx, write=False) as uow:
        return int(uow.session.scalar(select(func.count(PredictionRow.id))) or 0)


def production(steward: Steward, name: str, frame: pd.DataFrame) -> str:
    """``frame`` written under the data folder and registered as production data."""
    relative = f"credit/{name}.csv"
    path = steward.datasets.resolve(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    steward.datasets.register(SYSTEM, f"credit/{name}", relative, role="production")
    return f"credit/{name}"


@pytest.fixture
def dana(steward: Steward) -> Actor:
    target = steward.datasets.root / "credit" / "train.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLE / "credit" / "train.csv", target)
    add_user(steward, "dana", "data_scientist")
    return sign_in(steward, "dana")


@pytest.fixture
def credit(steward: Steward, dana: Actor) -> str:
    return deploy(steward, dana, "credit_default.toml")


def thousand() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "credit" / "production.csv").head(1000).reset_index(drop=True)


def test_three_bad_rows_in_a_thousand_score_997_and_reject_3_with_reasons(steward, dana, credit):
    frame = thousand().astype({"SEX": object, "LIMIT_BAL": object})
    frame.loc[10, "AGE"] = 150  # above the schema's max 120
    frame.loc[20, "SEX"] = 7  # not an allowed category
    frame.loc[30, "LIMIT_BAL"] = "lots"  # not a number
    dataset = production(steward, "bad3", frame)
    monitor = steward.monitoring.add_monitor(
        dana, pipeline=credit, environment="Dev", dataset=dataset, window="rows:500", id_column="ID"
    )
    run = steward.monitoring.run(dana, monitor.id)
    assert run.status == "partial", run.detail
    assert (run.rows_in, run.rows, run.rows_rejected) == (1000, 997, 3)
    assert logged_rows(steward) == 997
    reasons = {r.row: [(x.column, x.rule, x.value) for x in r.reasons] for r in run.rejected}
    assert reasons == {
        11: [("AGE", "above_max", "150")],
        21: [("SEX", "unknown_category", "7")],
        31: [("LIMIT_BAL", "type", "lots")],
    }
    assert run.rejected[0].values["ID"] == str(frame.loc[10, "ID"])
    sample = rejected_csv(run.rejected)
    assert sample.splitlines()[1].startswith("11,AGE: above_max (150),")
    assert steward.monitoring.runs()[0].rows_rejected == 3  # stored, not only returned
    again = steward.monitoring.run(dana, monitor.id)  # the 997 are answered; the 3 are judged again
    assert (again.rows, again.rows_rejected) == (0, 3) and logged_rows(steward) == 997


def test_a_rejected_share_past_the_monitors_threshold_fails_the_run_and_keeps_nothing(steward, dana, credit):
    frame = thousand()
    frame.loc[:19, "AGE"] = 150  # 2% of the rows
    dataset = production(steward, "bad20", frame)
    monitor = steward.monitoring.add_monitor(
        dana,
        pipeline=credit,
        environment="Dev",
        dataset=dataset,
        window="rows:500",
        id_column="ID",
        max_rejected_share=0.01,
    )
    run = steward.monitoring.run(dana, monitor.id)
    assert run.status == "failed" and run.rows == 0 and run.rows_rejected == 20
    assert "20 of 1000 rows (2.0%) broke the schema, more than the monitor's threshold of 1.0%" in run.error
    assert logged_rows(steward) == 0 and steward.monitoring.windows(credit, "Dev") == []
    alerts = steward.alerts.list()
    assert [a.kind for a in alerts] == [BATCH_FAILED_KIND]


def test_a_missing_file_is_a_failed_run_with_an_alert_and_the_next_run_scores_it(steward, dana, credit):
    dataset = production(steward, "missing", thousand())
    monitor = steward.monitoring.add_monitor(
        dana, pipeline=credit, environment="Dev", dataset=dataset, window="rows:500", id_column="ID"
    )
    path = steward.datasets.resolve("credit/missing.csv")
    hidden = path.with_suffix(".away")
    path.rename(hidden)
    run = steward.monitoring.run(dana, monitor.id)
    assert run.status == "failed" and run.rows == 0
    assert run.error == "the file of data set 'credit/missing' (credit/missing.csv) is missing"
    assert "\n" not in run.error and run.traceback == ""  # a known problem: one line, no traceback
    assert logged_rows(steward) == 0
    (alert,) = steward.alerts.list()
    assert alert.kind == BATCH_FAILED_KIND and "missing" in alert.detail
    hidden.rename(path)
    again = steward.monitoring.run(dana, monitor.id)
    assert again.status == "succeeded" and again.rows == 1000 and logged_rows(steward) == 1000


def test_a_file_changed_since_registration_is_named_changed_and_nothing_is_kept(steward, dana, credit):
    dataset = production(steward, "changing", thousand())
    monitor = steward.monitoring.add_monitor(
        dana, pipeline=credit, environment="Dev", dataset=dataset, window="rows:500", id_column="ID"
    )
    path = steward.datasets.resolve("credit/changing.csv")
    original = path.read_bytes()
    path.write_bytes(original + original.splitlines(keepends=True)[-1])  # a row appended
    run = steward.monitoring.run(dana, monitor.id)
    assert run.status == "failed" and run.dataset_changed and run.rows == 0
    assert "changed since it was registered" in run.error
    assert logged_rows(steward) == 0
    path.write_bytes(original)
    again = steward.monitoring.run(dana, monitor.id)
    assert again.status == "succeeded" and again.rows == 1000 and not again.dataset_changed
    assert again.dataset_sha256 == steward.datasets.get(dataset).sha256


def test_a_run_killed_midway_leaves_a_record_and_no_output_and_the_next_run_scores_it_all(
    steward, dana, credit, tmp_path, database_url
):
    base = pd.read_csv(SAMPLE / "credit" / "production.csv")
    big = pd.concat([base] * 25, ignore_index=True)  # 150k rows: seconds of work to kill in
    big["ID"] = range(1, len(big) + 1)
    dataset = production(steward, "big", big)
    monitor = steward.monitoring.add_monitor(
        dana, pipeline=credit, environment="Dev", dataset=dataset, window="rows:100000", id_column="ID"
    )
    env = os.environ | {
        "STEWARD_DATA_DIR": str(tmp_path / "data"),
        "STEWARD_DATABASE_URL": database_url,
        "STEWARD_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "STEWARD_SCRYPT_N": str(TEST_SCRYPT_N),
    }
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("batch_run_child.py")), str(monitor.id)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            if any(r.status == "running" for r in steward.monitoring.runs()):
                break
            time.sleep(0.05)
        time.sleep(0.5)  # into the reading and scoring
        assert child.poll() is None, child.communicate()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    (killed,) = steward.monitoring.runs()
    assert killed.status == "running" and killed.rows == 0
    assert logged_rows(steward) == 0  # nothing of the killed run is visible
    again = steward.monitoring.run(dana, monitor.id)
    assert again.status == "succeeded" and again.rows == len(big)
    assert logged_rows(steward) == len(big)
    closed = next(r for r in steward.monitoring.runs() if r.id == killed.id)
    assert closed.status == "failed" and "stopped before it finished" in closed.error
