"""Retrain policies: stored and audited, run by the worker once per slot, never past the sign-off policy."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pandas as pd
import pytest

from steward.core.domain.accounts import Actor
from steward.core.domain.gates import GatePolicy
from steward.core.domain.roles import Role
from steward.core.domain.signoff import SignoffPolicy
from steward.core.errors import InvalidInput, PermissionDenied
from steward.core.setup.jobs import RETRAIN_EVERY, WORKER, run_retrain_policies
from steward.core.steward import Steward
from testkit import REPO_ROOT, add_user, sign_in

SAMPLE = REPO_ROOT / "steward" / "sample_data"
SYSTEM = Actor.system_actor("test")
JOB = "retrain.policies"


def place_bike_data(steward: Steward) -> None:
    """2011 (the spec's training file) and 2012's production rows and labels, as Dev's data."""
    training = steward.datasets.resolve("bike/train_2011.csv")
    training.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLE / "bike" / "train_2011.csv", training)
    for name, source, role in (
        ("bike/p2012", "production_2012.csv", "production"),
        ("bike/l2012", "labels_2012.csv", "labels"),
    ):
        path = steward.datasets.resolve(f"{name}.csv")
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.read_csv(SAMPLE / "bike" / source).to_csv(path, index=False)
        steward.datasets.register(SYSTEM, name, f"{name}.csv", role=role, environment="Dev")


@pytest.fixture
def world(steward: Steward):
    """bike-demand v1 (2011) serving in Dev, and a monitor whose windows of 2012 drift."""
    add_user(steward, "dana", "data_scientist")
    add_user(steward, "otto", "operator")
    add_user(steward, "vera", "viewer")
    dana, otto = sign_in(steward, "dana"), sign_in(steward, "otto")
    place_bike_data(steward)
    steward.pipelines.register(dana, (SAMPLE / "specs" / "bike_demand.toml").read_bytes())
    steward.pipelines.train(dana, "bike-demand", importances=False)
    steward.promotions.request(dana, "bike-demand", 1, "Dev", "champion")  # Dev deploys itself
    monitor = steward.monitoring.add_monitor(
        otto,
        pipeline="bike-demand",
        environment="Dev",
        dataset="bike/p2012",
        window="rows:3000",
        labels_dataset="bike/l2012",
        id_column="instant",
        label_column="cnt",
    )
    run = steward.monitoring.run(otto, monitor.id)
    assert run.status == "succeeded", run.detail
    verdicts = [w.verdict for w in steward.monitoring.windows("bike-demand", "Dev")]
    assert verdicts[-2:] == ["drift", "drift"], verdicts  # 2012's months and weather against 2011's
    return {"dana": dana, "otto": otto, "vera": sign_in(steward, "vera")}


def policy(steward: Steward, actor: Actor, **overrides):
    arguments = {"dataset": "bike/p2012", "labels": "bike/l2012", "id_column": "instant", "drift_windows": 2}
    return steward.retrain_policies.set(actor, "bike-demand", **(arguments | overrides))


def run_job(steward: Steward):
    return steward.jobs.run_once(JOB, RETRAIN_EVERY, "worker-a", lambda: run_retrain_policies(steward))


def test_a_policy_that_fires_twice_in_one_slot_runs_once(steward, world, clock):
    set_policy = policy(steward, world["otto"])
    assert set_policy.describe() == (
        "retrain bike-demand on bike/p2012 when drift in the last 2 window(s) in Dev"
    )
    event = steward.audit.recent(1)[0]
    assert (event.action, event.actor, event.detail) == ("retrain_policy.set", "otto", set_policy.describe())

    first = run_job(steward)
    assert first is not None and first.status == "ok", first and first.detail
    assert "1 retrain(s) by policy, 0 failed" in first.detail
    assert run_job(steward) is None  # a second worker (or a retry) in the same slot: the claim refuses
    assert steward.retrain_policies.evaluate(WORKER, first.slot) == []  # and the run row refuses again
    runs = steward.retrain_policies.runs("bike-demand")
    assert [(r.status, r.version_number) for r in runs] == [("succeeded", 2)]
    assert runs[0].reason == "drift in the last 2 window(s) in Dev" and runs[0].error == ""
    assert [v.number for v in steward.pipelines.versions("bike-demand")] == [1, 2]
    v2 = steward.pipelines.version("bike-demand", 2)
    assert v2.lineage["retrained_from"]["dataset"] == "bike/p2012"

    clock.advance(RETRAIN_EVERY)  # the next slot: the same windows were already acted on
    later = run_job(steward)
    assert later is not None and "0 retrain(s)" in later.detail
    assert len(steward.retrain_policies.runs("bike-demand")) == 1


def test_a_failing_retrain_is_a_failed_run_with_its_error(steward, world):
    policy(steward, world["otto"], id_column="no_such_column")
    job = run_job(steward)
    assert job is not None and job.status == "failed" and "1 failed" in job.detail
    (run,) = steward.retrain_policies.runs("bike-demand")
    assert run.status == "failed" and run.version_number is None and "no_such_column" in run.error
    assert run.finished_at is not None
    assert [v.number for v in steward.pipelines.versions("bike-demand")] == [1]
    event = next(e for e in steward.audit.recent(5) if e.action == "retrain_policy.run")
    assert event.outcome.value == "failed" and "retrain failed" in event.detail


def test_a_retrain_never_deploys_to_prod_by_itself(steward, world):
    policy(steward, world["otto"], request_to="Prod")
    job = run_job(steward)
    assert job is not None and job.status == "ok"
    (run,) = steward.retrain_policies.runs("bike-demand")
    assert run.status == "succeeded" and run.version_number == 2
    assert run.promotion_request_id is None and "not requested" in run.promotion_note
    assert all(d.pipeline_name != "bike-demand" for d in steward.deployments.serving("Prod"))
    assert [d.version_number for d in steward.deployments.serving("Dev")] == [1]


def test_a_retrain_asks_for_what_sign_off_allows_and_no_more(steward, world, clock):
    """Dev's policy deploys on request; once Dev needs a signature, the request waits for a person."""
    policy(steward, world["otto"], request_to="Dev")
    run_job(steward)
    (run,) = steward.retrain_policies.runs("bike-demand")
    assert run.promotion_request_id is not None and "requested as" in run.promotion_note
    assert [d.version_number for d in steward.deployments.serving("Dev")] == [2]

    steward.promotions.set_policy(
        SYSTEM,
        "Dev",
        SignoffPolicy.build({Role.DATA_SCIENTIST: 1}, approval_ttl=timedelta(hours=12), auto_execute=True),
        GatePolicy(require_no_critical_alert=False),
    )
    policy(steward, world["otto"], drift_windows=None, every_hours=1, request_to="Dev")
    clock.advance(hours=2)
    job = run_job(steward)
    assert job is not None and job.status == "ok", job.detail
    newest = steward.retrain_policies.runs("bike-demand")[0]
    assert newest.version_number == 3 and "(pending)" in newest.promotion_note
    assert steward.promotions.get(newest.promotion_request_id).status.value == "pending"
    assert [d.version_number for d in steward.deployments.serving("Dev")] == [2]  # still v2: nobody signed


def test_who_may_set_a_policy_and_what_a_policy_must_say(steward, world):
    with pytest.raises(PermissionDenied):
        policy(steward, world["vera"])
    refused = steward.audit.recent(1)[0]
    assert refused.actor == "vera" and refused.outcome.value == "denied"
    with pytest.raises(InvalidInput, match="needs a condition"):
        policy(steward, world["otto"], drift_windows=None)
    with pytest.raises(InvalidInput, match="both a metric and a threshold"):
        policy(steward, world["otto"], metric="rmse")
    with pytest.raises(InvalidInput, match="is not an environment's production data"):
        policy(steward, world["otto"], dataset="bike/l2012")
    assert steward.retrain_policies.get("bike-demand") is None
    steward.retrain_policies.set(
        world["otto"],
        "bike-demand",
        dataset="bike/p2012",
        labels="bike/l2012",
        id_column="instant",
        metric="rmse",
        threshold=80,
    )
    job = run_job(steward)  # 2011's model on 2012: RMSE well above 80
    assert job is not None and "1 retrain(s)" in job.detail
    assert "realised rmse" in steward.retrain_policies.runs("bike-demand")[0].reason
    steward.retrain_policies.remove(world["otto"], "bike-demand")
    assert steward.retrain_policies.get("bike-demand") is None
