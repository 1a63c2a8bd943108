"""Incremental monitoring on both databases: a run reads only what was logged since the monitor's last run.

Two monitors watch the same bike deployment, each fed half of 2012 (every
other row, so both halves fall in every month). The first run of one, a run
of the other, then a second run of the first: the rows arrive across runs, and
the windows must be what one read of the whole log gives.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlcount import counting
from test_monitoring import SAMPLE, SYSTEM, deploy, register_data

from steward.core.adapters.db.models import BatchRunRow
from steward.core.domain.monitoring import parse_window
from steward.core.drift.report import compare
from steward.core.services.monitoring import cut_windows
from steward.core.services.predictions import EVENT_TIME, PREDICTED_LABEL, REQUEST_ID
from steward.core.services.registry import PREDICTION_COLUMN
from steward.core.steward import Steward
from testkit import add_user, sign_in


@pytest.fixture
def halves(steward: Steward):
    register_data(steward)
    add_user(steward, "dana", "data_scientist")
    dana = sign_in(steward, "dana")
    name = deploy(steward, dana, "bike_demand.toml")
    full = pd.read_csv(SAMPLE / "bike" / "production_2012.csv")
    for index, part in enumerate((full.iloc[0::2], full.iloc[1::2]), start=1):
        relative = f"bike/half{index}.csv"
        part.to_csv(steward.datasets.resolve(relative), index=False)
        steward.datasets.register(SYSTEM, f"bike/half{index}", relative, role="production")
    monitors = [
        steward.monitoring.add_monitor(
            dana,
            pipeline=name,
            environment="Dev",
            dataset=f"bike/half{index}",
            window="month",
            time_column="dteday",
            labels_dataset="bike/labels_2012",
            id_column="instant",
            label_column="cnt",
        )
        for index in (1, 2)
    ]
    return dana, name, monitors


def _windows(steward: Steward, run_id: str) -> list:
    return steward.monitoring.windows("bike-demand", "Dev", run_id=run_id)


def _audit(steward: Steward) -> dict:
    event = steward.audit.recent(1)[0]
    assert event.action == "batch.run"
    return dict(event.after)


def test_rows_arriving_across_two_runs_give_the_windows_of_one_read_of_the_whole_log(steward, halves):
    dana, name, (first, second) = halves
    early = steward.monitoring.run(dana, first.id)
    assert early.status == "succeeded" and early.rows == 4367 and early.windows == 12
    other = steward.monitoring.run(dana, second.id)  # logs the other half; reads the first half from the log
    assert other.rows == 4367 and _audit(steward)["log_rows_read"] == 4367
    late = steward.monitoring.run(dana, first.id)  # reads only the second half
    after = _audit(steward)
    assert late.rows == 0 and after["log_rows_read"] == 4367 and after["windows_judged"] == 12
    incremental, one_read = _windows(steward, late.id), _windows(steward, other.id)
    # The old way: the whole log of the version in one frame, cut and compared row by row.
    version = steward.pipelines.version_by_id(incremental[0].version_id)
    logged = steward.monitoring.log.frame(name, "Dev", version.id, PREDICTION_COLUMN)
    reference = steward.pipelines.reference_profile(version.id)
    bookkeeping = [REQUEST_ID, EVENT_TIME, PREDICTED_LABEL]
    expected = [
        (w.label, len(w.frame), compare(reference, w.frame.drop(columns=bookkeeping, errors="ignore")))
        for w in cut_windows(logged, parse_window("month", "dteday"), EVENT_TIME)
    ]
    assert len(incremental) == len(one_read) == len(expected) == 12
    for mine, whole, (label, rows, old) in zip(incremental, one_read, expected, strict=True):
        assert mine.label == whole.label == label and mine.rows == whole.rows == rows
        assert mine.verdict == whole.verdict == old.verdict.status, mine.label
        assert mine.prediction_verdict == whole.prediction_verdict
        assert mine.performance_status == whole.performance_status == "degraded"
        assert mine.performance == whole.performance
        for a, b in zip(mine.report["columns"], old.to_dict()["columns"], strict=True):
            assert a["name"] == b["name"] and a["drift"] == b["drift"]
            if b["statistic"] is not None:
                assert a["statistic"] == pytest.approx(b["statistic"], rel=1e-9, abs=1e-12)
    assert sum(w.rows for w in incremental) == 8734


def test_a_run_with_nothing_new_reads_no_log_rows(steward, halves):
    dana, _name, (first, _second) = halves
    steward.monitoring.run(dana, first.id)
    with counting(steward) as cost:
        again = steward.monitoring.run(dana, first.id)
    after = _audit(steward)
    assert again.status == "succeeded" and again.windows == 12
    assert after["log_rows_read"] == 0 and after["windows_judged"] == 0 and after["rows"] == 0
    reads = [s for s in cost.sql if "FROM predictions" in s and s.lstrip().upper().startswith("SELECT")]
    # Every read of the log is bounded: above the mark (by primary key) or the set-based id lookup.
    assert reads and all("predictions.id >" in s or "json_each" in s or "unnest" in s for s in reads), cost
    assert [w.verdict for w in _windows(steward, again.id)] == ["drift"] * 12


def test_a_failed_or_killed_run_does_not_move_the_mark(steward, halves, database_url):
    dana, _name, (first, second) = halves
    steward.monitoring.run(dana, first.id)
    steward.monitoring.run(dana, second.id)  # 4,367 rows the first monitor has not read
    labels = steward.datasets.resolve("bike/labels_2012.csv")
    kept = labels.with_suffix(".kept")
    shutil.move(labels, kept)
    failed = steward.monitoring.run(dana, first.id)
    assert failed.status == "failed"
    shutil.move(kept, labels)
    with steward.engines.write.begin() as connection:  # a run whose process died: left running
        row = connection.execute(select(BatchRunRow).where(BatchRunRow.id == failed.id)).one()
        assert row.log_mark == 0
        connection.execute(
            text("UPDATE batch_runs SET status = 'running', log_mark = 999999999 WHERE id = :id"),
            {"id": failed.id},
        )
    picked_up = steward.monitoring.run(dana, first.id)
    assert picked_up.status == "succeeded" and _audit(steward)["log_rows_read"] == 4367
    assert sum(w.rows for w in _windows(steward, picked_up.id)) == 8734


def test_a_row_that_commits_late_below_the_mark_is_read_by_the_next_run(steward, halves):
    dana, _name, (first, second) = halves
    steward.monitoring.run(dana, first.id)
    steward.monitoring.run(dana, second.id)
    # Hide one of the second half's rows, as if its transaction had not committed yet.
    with steward.engines.write.begin() as connection:
        hidden = (
            connection.execute(
                text(
                    "SELECT * FROM predictions WHERE source LIKE 'batch:%' ORDER BY id DESC LIMIT 1 OFFSET 100"
                )
            )
            .mappings()
            .one()
        )
        connection.execute(text("DELETE FROM predictions WHERE id = :id"), {"id": hidden["id"]})
    steward.monitoring.run(dana, first.id)
    assert _audit(steward)["log_rows_read"] == 4366
    with steward.engines.write.begin() as connection:
        row = connection.execute(
            select(BatchRunRow.log_gaps)
            .where(BatchRunRow.monitor_id == first.id)
            .order_by(BatchRunRow.started_at.desc())
            .limit(1)
        ).scalar_one()
        # (PostgreSQL also keeps ids its ON CONFLICT insert burned: gaps that never fill, dropped later.)
        assert any(low <= hidden["id"] <= high for low, high, _ in json.loads(row))
        columns = ", ".join(hidden.keys())
        connection.execute(
            text(f"INSERT INTO predictions ({columns}) VALUES ({', '.join(':' + k for k in hidden)})"),
            dict(hidden),
        )
    late = steward.monitoring.run(dana, first.id)
    assert _audit(steward)["log_rows_read"] == 1 and _audit(steward)["windows_judged"] == 1
    assert sum(w.rows for w in _windows(steward, late.id)) == 8734
