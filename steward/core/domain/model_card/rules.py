"""Rules a page must not decide: how two versions compare, where versions serve, what comes before."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from steward.core.domain.metrics import is_better, primary_metric
from steward.core.domain.model_card.card import Comparison
from steward.core.domain.registry import PipelineVersion


def compare_versions(current: PipelineVersion, previous: PipelineVersion) -> Comparison:
    """Is ``current`` better than ``previous`` on the headline metric, and measured on the same cases?"""
    metric = primary_metric(current.task)
    now, before = current.metrics.get(metric), previous.metrics.get(metric)
    same_data = current.data_digest == previous.data_digest
    split_now, split_before = current.lineage.get("split"), previous.lineage.get("split")
    same_holdout = same_data and split_now is not None and split_now == split_before
    return Comparison(metric, now, before, is_better(metric, now, before), same_data, same_holdout)


def deployed_versions(deployed: Mapping[str, int]) -> dict[int, list[str]]:
    """Invert environment -> version number into version number -> environments (in the given order)."""
    result: dict[int, list[str]] = {}
    for environment, number in deployed.items():
        result.setdefault(int(number), []).append(environment)
    return result


def spec_changed_since(spec_digest: str, version: PipelineVersion | None) -> bool:
    """True when the pipeline's current spec is not what ``version`` was trained from (train to catch up)."""
    return version is not None and version.spec_digest != spec_digest


def previous_version(versions: Sequence[PipelineVersion], version: PipelineVersion) -> PipelineVersion | None:
    """The version right before ``version`` among ``versions`` (any order), or None for the first."""
    earlier = [v for v in versions if v.pipeline_id == version.pipeline_id and v.number < version.number]
    return max(earlier, key=lambda v: v.number) if earlier else None


def _spec_field(version: PipelineVersion, table: str, key: str, default: Any = None) -> Any:
    section = version.spec.get(table)
    return section.get(key, default) if isinstance(section, Mapping) else default
