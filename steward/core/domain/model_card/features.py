"""Inputs as people name them, and which importance a card shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from steward.core.domain.registry import PipelineVersion


def feature_label(feature: str, categorical: Sequence[str] = ()) -> tuple[str, str | None]:
    """A preprocessed feature as people name it, and the category it stands for (one-hot), if any.

    ``amounts__LIMIT_BAL`` -> ``("LIMIT_BAL", None)``; ``profile__SEX_2`` with SEX categorical ->
    ``("SEX", "2")``. The group prefix is scikit-learn's, not the spec author's vocabulary.
    """
    name = feature.split("__", 1)[1] if "__" in feature else feature
    for column in sorted(categorical, key=len, reverse=True):
        if name.startswith(f"{column}_") and len(name) > len(column) + 1:
            return column, name[len(column) + 1 :]
    return name, None


def _feature_text(feature: str, categorical: Sequence[str]) -> str:
    column, category = feature_label(feature, categorical)
    return column if category is None else f"{column} = {category}"


def _categorical(version: PipelineVersion) -> list[str]:
    columns = version.schema.get("columns") or []
    return [str(c.get("name")) for c in columns if c.get("kind") == "categorical"]


def importance_chart_data(version: PipelineVersion) -> Mapping[str, Any] | None:
    """Which importance to show: by input column (permutation) when recorded, else the estimator's own
    (its features renamed as people name them: ``SEX = 2`` rather than ``profile__SEX_2``)."""
    charts = version.charts
    permutation = charts.get("permutation_importances")
    if permutation and permutation.get("features"):
        return dict(permutation)
    native = charts.get("feature_importances")
    if native and native.get("features"):
        categorical = _categorical(version)
        return {**native, "features": [_feature_text(str(f), categorical) for f in native["features"]]}
    return None
