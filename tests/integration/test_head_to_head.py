"""Challenger against champion on the same production rows, recorded and read by the champion gate."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pandas as pd
import pytest

from steward.core.domain.accounts import Actor
from steward.core.domain.gates import GatePolicy, GateStatus
from steward.core.domain.signoff import SignoffPolicy
from steward.core.errors import InvalidInput, PermissionDenied
from steward.core.steward import Steward
from testkit import REPO_ROOT, add_user, sign_in

SAMPLE = REPO_ROOT / "steward" / "sample_data"
SYSTEM = Actor.system_actor("test")


def place_bike_data(steward: Steward) -> None:
    """2011 (the spec's training file) and 2012's production rows and labels, as the demo has them."""
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
    add_user(steward, "dana", "data_scientist")
    add_user(steward, "otto", "operator")
    add_user(steward, "vera", "viewer")
    dana, otto = sign_in(steward, "dana"), sign_in(steward, "otto")
    place_bike_data(steward)
    steward.pipelines.register(dana, (SAMPLE / "specs" / "bike_demand.toml").read_bytes())
    steward.pipelines.train(dana, "bike-demand", importances=False)  # v1: 2011
    steward.promotions.request(dana, "bike-demand", 1, "Dev", "champion")  # Dev deploys itself
    steward.pipelines.retrain(  # v2: 2012's production data, its last 20 % held out
        otto,
        "bike-demand",
        dataset="bike/p2012",
        labels="bike/l2012",
        id_column="instant",
        importances=False,
    )
    return {"dana": dana, "otto": otto, "vera": sign_in(steward, "vera")}


def compare(steward: Steward, actor: Actor, **overrides):
    arguments = {"dataset": "bike/p2012", "labels": "bike/l2012", "id_column": "instant", "resamples": 150}
    return steward.head_to_head.compare(actor, "bike-demand", 2, "Dev", **(arguments | overrides))


def test_a_same_rows_comparison_is_recorded_and_the_champion_gate_reads_it(steward, world):
    """Before: two hold-outs that cannot be compared (pending). After: rows neither version trained on."""
    steward.promotions.set_policy(
        SYSTEM,
        "Dev",
        SignoffPolicy.build({}, approval_ttl=timedelta(hours=12)),
        GatePolicy(max_regression_pct=5, require_no_critical_alert=False),
    )
    request = steward.promotions.request(world["dana"], "bike-demand", 2, "Dev", "retrained on 2012")
    before = next(g for g in steward.promotions.evidence(request.id).gates if g.gate == "champion")
    assert before.status is GateStatus.PENDING and "different hold-out" in before.detail
    h2h = compare(steward, world["dana"])
    v2 = steward.pipelines.version("bike-demand", 2)
    assert (h2h.challenger_number, h2h.champion_number) == (2, 1)
    assert h2h.rows == v2.lineage["split"]["holdout_rows"] and "challenger's hold-out" in h2h.rows_rule
    assert h2h.dataset_sha256 == steward.datasets.get("bike/p2012").sha256
    rmse = h2h.metric("rmse")
    assert rmse is not None and rmse.verdict == "challenger"
    assert rmse.champion > 1.3 * rmse.challenger  # 2011's model under-predicts 2012's grown demand
    assert h2h.decisions.rows == h2h.rows and h2h.decisions.changed > 0 and h2h.decisions.tolerance > 0
    event = steward.audit.recent(1)[0]
    assert (event.action, event.actor, event.object_id) == ("version.compare", "dana", "bike-demand v2")
    assert "against v1 in Dev" in event.detail and "the challenger is better" in event.detail
    assert steward.head_to_head.latest("bike-demand", 2, "Dev") == h2h

    evidence = steward.promotions.evidence(request.id)
    gate = next(g for g in evidence.gates if g.gate == "champion")
    assert gate.status is GateStatus.PASSED and "on the same" in gate.detail and "interval" in gate.detail
    assert evidence.head_to_head is not None and evidence.head_to_head.challenger_number == 2


def test_refusals_name_the_problem_and_record_nothing(steward, world):
    with pytest.raises(PermissionDenied):
        compare(steward, world["vera"])
    with pytest.raises(InvalidInput, match="labels data set and the id column"):
        compare(steward, world["dana"], labels=None, id_column=None)
    with pytest.raises(InvalidInput, match="is a labels data set"):
        compare(steward, world["dana"], dataset="bike/l2012")
    with pytest.raises(InvalidInput, match="is what serves in Dev"):
        steward.head_to_head.compare(
            world["dana"],
            "bike-demand",
            1,
            "Dev",
            dataset="bike/p2012",
            labels="bike/l2012",
            id_column="instant",
        )
    with pytest.raises(InvalidInput, match="nothing serves bike-demand in Test"):
        steward.head_to_head.compare(
            world["otto"],
            "bike-demand",
            2,
            "Test",
            dataset="bike/p2012",
            labels="bike/l2012",
            id_column="instant",
        )
    assert steward.head_to_head.latest("bike-demand", 2, "Dev") is None
