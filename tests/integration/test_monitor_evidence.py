"""Evidence per monitor, signals counted right, and monitors paused, resumed and removed (both databases).

Two monitors watch one deployment on different production data: each keeps its
own windows, the Overview counts one monitored deployment, and each monitor's
signal is listed once.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from integration.test_monitoring import SYSTEM, deploy, register_data

from steward.core.domain.accounts import Actor
from steward.core.domain.signals import monitors_reporting
from steward.core.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from steward.core.steward import Steward
from testkit import add_user, sign_in

BIKE_FIRST_MONTHS = "bike/production_2012_q1"


@pytest.fixture
def otto(steward: Steward) -> Actor:
    register_data(steward)
    frame = pd.read_csv(steward.datasets.resolve("bike/production_2012.csv"))
    frame.head(3000).to_csv(steward.datasets.resolve(f"{BIKE_FIRST_MONTHS}.csv"), index=False)
    steward.datasets.register(SYSTEM, BIKE_FIRST_MONTHS, f"{BIKE_FIRST_MONTHS}.csv", role="production")
    add_user(steward, "otto", "operator")
    add_user(steward, "dana", "data_scientist")
    return sign_in(steward, "otto")


def two_monitors(steward: Steward, actor: Actor) -> tuple[int, int]:
    name = deploy(steward, sign_in(steward, "dana"), "bike_demand.toml")
    whole = steward.monitoring.add_monitor(
        actor,
        pipeline=name,
        environment="Dev",
        dataset="bike/production_2012",
        window="rows:8734",
        labels_dataset="bike/labels_2012",
        id_column="instant",
        label_column="cnt",
    )
    first = steward.monitoring.add_monitor(
        actor,
        pipeline=name,
        environment="Dev",
        dataset=BIKE_FIRST_MONTHS,
        window="rows:1000",
        id_column="instant",
    )
    assert steward.monitoring.run(actor, whole.id).status == "succeeded"
    assert steward.monitoring.run(actor, first.id).status == "succeeded"
    return whole.id, first.id


def test_each_monitor_shows_its_own_windows_and_signals_count_what_they_say(steward, otto):
    whole, first = two_monitors(steward, otto)
    assert [w.rows for w in steward.monitoring.windows("bike-demand", "Dev", monitor_id=whole)] == [8734]
    # Both judge the deployment's log (the first months were answered already), each cut its own way.
    board = steward.monitoring.page(otto, first)
    assert [w.rows for w in board.windows] == [1000] * 8 + [734]
    assert board.chosen is not None and board.chosen.id == first
    assert [w.batch_run_id for w in board.windows] == [steward.monitoring.last_run(first).id] * len(
        board.windows
    )
    # The whole-year monitor ran first: its page must still show its own single window, not the newer run's.
    evidence = steward.monitoring.page(otto, whole).windows
    assert [(w.rows, w.batch_run_id) for w in evidence] == [(8734, steward.monitoring.last_run(whole).id)]

    drift = steward.signals.drift_signals()
    subjects = {s.subject for s in drift}
    assert subjects == {
        "bike-demand in Dev on bike/production_2012",
        f"bike-demand in Dev on {BIKE_FIRST_MONTHS}",
    }
    everything = steward.signals.all()
    assert len(everything) == len(set(everything))  # each signal once
    lamp = steward.signals.lamps()[1]
    assert lamp.summary == f"{len(drift)} signal(s) across 1 monitored deployment(s)"
    assert monitors_reporting(drift) == 2  # two drift monitors, not one kind


def test_pause_resume_and_remove_are_audited_and_change_what_runs(steward, otto, clock):
    whole, first = two_monitors(steward, otto)
    later = clock.now() + timedelta(days=2)
    assert {m.id for m in steward.monitoring.due(later)} == {whole, first}

    paused = steward.monitoring.pause(otto, first, "noisy while the feed is rebuilt")
    assert not paused.enabled and paused.paused_by == "otto"
    assert {m.id for m in steward.monitoring.due(later)} == {whole}  # the worker skips it
    with pytest.raises(InvalidInput, match="is paused"):
        steward.monitoring.run(otto, first)
    with pytest.raises(InvalidInput, match="already paused"):
        steward.monitoring.pause(otto, first)
    assert steward.monitoring.page(otto, first).chosen.enabled is False  # still on the page, as paused

    steward.monitoring.resume(otto, first)
    assert {m.id for m in steward.monitoring.due(later)} == {whole, first}

    steward.monitoring.remove(otto, first, "replaced by the whole-year monitor")
    assert [m.id for m in steward.monitoring.monitors()] == [whole]
    assert [m.id for m in steward.monitoring.page(otto).monitors] == [whole]
    assert {r.monitor_id for r in steward.monitoring.runs()} == {whole}
    with pytest.raises(NotFound):
        steward.monitoring.run(otto, first)
    with pytest.raises(NotFound):
        steward.monitoring.resume(otto, first)

    history = [
        (e.action, e.detail if e.action.startswith("monitor.") else "")
        for e in reversed(steward.audit.recent(200))
        if e.object_type == "monitor" and e.object_id == str(first)
    ]
    assert history == [
        ("monitor.add", ""),
        ("batch.run", ""),  # its run stays in the audit log too
        ("monitor.pause", "noisy while the feed is rebuilt"),
        ("monitor.resume", ""),
        ("monitor.remove", "replaced by the whole-year monitor"),
    ]
    # The target is free again: watching it afresh is a new monitor with no history of its own.
    again = steward.monitoring.add_monitor(
        otto, pipeline="bike-demand", environment="Dev", dataset=BIKE_FIRST_MONTHS, window="rows:1000"
    )
    assert again.id != first and steward.monitoring.last_run(again.id) is None
    with pytest.raises(AlreadyExists):
        steward.monitoring.add_monitor(
            otto, pipeline="bike-demand", environment="Dev", dataset=BIKE_FIRST_MONTHS, window="rows:500"
        )


def test_only_roles_that_may_run_a_monitor_may_silence_it_and_refusals_are_audited(steward, otto):
    whole, _ = two_monitors(steward, otto)
    add_user(steward, "bea", "business_stakeholder")
    bea = sign_in(steward, "bea")
    with pytest.raises(PermissionDenied):
        steward.monitoring.pause(bea, whole)
    refusal = steward.audit.recent(1)[0]
    assert (refusal.actor, refusal.outcome.value, refusal.object_id) == ("bea", "denied", str(whole))
    assert steward.monitoring.page(bea, whole).may_pause is False
    assert steward.monitoring.page(otto, whole).may_pause is True
    assert steward.monitoring.monitor(whole).enabled
