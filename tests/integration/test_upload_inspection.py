"""Findings 6 and 7 of issue 14: a crafted upload cannot crash or hang Steward, nor keep its own run-time.

The malicious forests are made the way an attacker would: fit a real forest,
rewrite one node of one tree's node array (``Tree.__setstate__`` copies it
as given), save with skops. Such a file passes skops' type audit. Steward
must refuse it with one line before it predicts, audit the refusal, register
nothing, and this test process must still be alive afterwards. The first
prediction runs in a limited child process, so even a model that slipped
past the structural checks takes down only that child.
"""

from __future__ import annotations

import os

import pytest
import skops.io as sio
from test_promotions_support import train_versions

from steward.core.adapters.artifacts import first_prediction
from steward.core.errors import InvalidInput
from steward.core.pipelines.sandbox import Limits, SandboxRefused
from testkit import add_user, sign_in

FOREST = (
    'estimator = "RandomForestClassifier"\nparams = { n_estimators = 3, max_depth = 3, random_state = 0 }'
)


@pytest.fixture
def dana(steward):
    add_user(steward, "dana", "data_scientist")
    return sign_in(steward, "dana")


@pytest.fixture
def forest(steward, dana):
    [version] = train_versions(steward, dana, 1, model=FOREST)
    return version


def tampered(steward, version, rewrite) -> bytes:
    """The version's pipeline with one tree's node array rewritten by ``rewrite(nodes)``, as skops bytes."""
    model = steward.pipelines.load_model(version)
    tree = model.named_steps["model"].estimators_[0].tree_
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    rewrite(nodes)
    state["nodes"] = nodes
    tree.__setstate__(state)
    return sio.dumps(model)


def sample(steward):
    import pandas as pd

    return pd.read_csv(steward.settings.data_dir / "datasets" / "toy.csv").drop(columns=["y"]).head(20)


def versions_of(steward):
    return [v.number for v in steward.pipelines.versions("toy")]


def set_child(index):
    def rewrite(nodes):
        nodes["left_child"][0] = index(len(nodes))

    return rewrite


def loop(nodes):
    """The root's left child sends every walk back to the root."""
    child = int(nodes["left_child"][0])
    nodes["left_child"][child], nodes["right_child"][child] = 0, 0


CASES = {
    "child index 2^40 (segfault)": set_child(lambda n: 2**40),
    "child index just past the end (hang)": set_child(lambda n: n),
    "child pointing back at the root (loop)": loop,
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_crafted_forest_is_refused_with_one_line_audited_and_nothing_registered(
    steward, dana, forest, case
):
    data = tampered(steward, forest, CASES[case])
    sio.get_untrusted_types(data=data)  # skops' own audit has nothing to say about it
    with pytest.raises(InvalidInput) as refusal:
        steward.pipelines.import_artifact(dana, "toy", data, filename="crafted.skops")
    message = str(refusal.value)
    assert "\n" not in message and "crafted.skops is malformed" in message
    assert "estimators_[0].tree_: node" in message and "outside its" in message
    assert versions_of(steward) == [1]
    [event] = steward.audit.recent(1)
    assert (
        event.action == "pipeline.upload" and event.outcome.value == "failed" and "malformed" in event.detail
    )
    assert os.getpid() > 0  # still here


def test_the_segfaulting_forest_only_kills_the_child_of_its_first_prediction(steward, forest):
    data = tampered(steward, forest, set_child(lambda n: 2**40))
    with pytest.raises(SandboxRefused, match=r"crashed the process \(SIGSEGV\); refused"):
        first_prediction(data, sample(steward), what="crafted.skops")


def test_the_forest_that_never_finishes_is_stopped_by_the_time_limit(steward, forest):
    data = tampered(steward, forest, loop)
    with pytest.raises(SandboxRefused, match="CPU limit") as refusal:
        first_prediction(
            data, sample(steward), what="looping.skops", limits=Limits(cpu_seconds=2, wall_seconds=20)
        )
    assert "\n" not in str(refusal.value)


def test_a_sound_forest_passes_the_first_prediction(steward, forest):
    data = sio.dumps(steward.pipelines.load_model(forest))
    first_prediction(data, sample(steward), what="sound.skops")


def test_an_upload_asking_for_2000_jobs_is_reset_before_it_scores(steward, dana, forest):
    model = steward.pipelines.load_model(forest)
    model.named_steps["model"].set_params(n_jobs=2000, verbose=3, warm_start=True)
    model.set_params(memory="/tmp/steward-cache-of-an-upload")
    uploaded = steward.pipelines.import_artifact(dana, "toy", sio.dumps(model), filename="greedy.skops")
    stored = steward.pipelines.load_model(uploaded)
    params = stored.named_steps["model"].get_params()
    assert (params["n_jobs"], params["verbose"], params["warm_start"]) == (None, 0, False)
    assert stored.memory is None
    # Even an artifact written elsewhere with those values is reset when Steward loads it.
    from steward.core.adapters.artifacts import loads_pipeline

    again = loads_pipeline(sio.dumps(model))
    assert again.named_steps["model"].n_jobs is None and again.memory is None


def test_the_forest_pointing_just_past_its_nodes_only_takes_down_the_child(steward, forest):
    """Reading the node after the last is undefined: whether the child crashes or spins, it is refused."""
    data = tampered(steward, forest, set_child(lambda n: n))
    with pytest.raises(SandboxRefused, match=r"refused$"):
        first_prediction(
            data, sample(steward), what="past-end.skops", limits=Limits(cpu_seconds=2, wall_seconds=20)
        )
