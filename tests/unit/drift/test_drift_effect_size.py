"""Effect size: one scale (Jensen-Shannon distance) for every column, whatever test decided it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

from steward.core.drift.profile import build_profile
from steward.core.drift.report import DriftOptions, compare


def frames(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame(
        {
            "far": rng.normal(0, 1, n),
            "near": rng.normal(0, 1, n),
            "same": rng.normal(0, 1, n),
            "colour": rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2]),
        }
    )
    current = pd.DataFrame(
        {
            "far": rng.normal(2.0, 1, n),
            "near": rng.normal(0.4, 1, n),
            "same": rng.normal(0, 1, n),
            "colour": rng.choice(["red", "green", "blue"], n, p=[0.2, 0.3, 0.5]),
        }
    )
    return reference, current


def test_effect_size_is_the_jensen_shannon_distance_over_reference_deciles():
    reference, current = frames(400, seed=1)  # small: KS and chi-squared decide, the effect size stays JS
    report = compare(build_profile(reference), current, DriftOptions())
    far = report.column("far")
    assert far is not None and far.test == "ks"
    # Decile bins of the reference: the inner edges are its 41st, 81st, ... smallest values.
    inner = np.sort(reference["far"].to_numpy())[np.arange(1, 10) * 40]
    ref_counts = np.bincount(np.searchsorted(inner, reference["far"], side="right"), minlength=10)
    cur_counts = np.bincount(np.searchsorted(inner, current["far"], side="right"), minlength=10)
    assert far.effect_size == jensenshannon(ref_counts, cur_counts, base=2)

    colour = report.column("colour")
    assert colour is not None and colour.test == "chi2"
    ref_share = reference["colour"].value_counts().reindex(["red", "green", "blue"]).to_numpy()
    cur_share = current["colour"].value_counts().reindex(["red", "green", "blue"]).to_numpy()
    assert abs(colour.effect_size - jensenshannon(ref_share, cur_share, base=2)) < 1e-12


def test_drifted_columns_are_ranked_by_how_far_they_moved_not_by_p_value():
    reference, current = frames(20_000, seed=2)
    report = compare(build_profile(reference), current, DriftOptions(test="ks"))
    assert report.verdict.drifted[0] == "far"
    effects = {c.name: c.effect_size for c in report.columns}
    assert effects["far"] > effects["colour"] > effects["near"] > effects["same"]
    assert list(report.verdict.drifted) == sorted(report.verdict.drifted, key=lambda n: -effects[n])
    # Both p-values are vanishingly small: they say something moved, not how far.
    far, near = report.column("far"), report.column("near")
    assert far is not None and near is not None
    assert far.p_value is not None and near.p_value is not None and max(far.p_value, near.p_value) < 1e-100
    assert far.effect_size is not None and near.effect_size is not None
    assert far.effect_size > 3 * near.effect_size
    assert report.to_dict()["columns"][0]["effect_size"] == effects[report.columns[0].name]
