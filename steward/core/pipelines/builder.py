"""Spec -> unfitted scikit-learn ``Pipeline``: a ``ColumnTransformer`` of the groups, then the estimator.

Only registry classes are constructed, with parameters already checked by the
spec; fixed parameters are applied last so a spec cannot override them. The
estimator's ``random_state`` comes from ``training.seed`` unless the spec sets
it, so two builds of one spec train identically.
"""

from __future__ import annotations

from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from steward.core.pipelines.registry import DROP, PASSTHROUGH, estimator_info, transformer_info
from steward.core.pipelines.spec import GroupSpec, PipelineSpec, StepSpec

PREPROCESS_STEP = "preprocess"
MODEL_STEP = "model"


def _transformer(step: StepSpec) -> Any:
    info = transformer_info(step.transformer, step.transformer)
    if info.factory is None:  # passthrough / drop are strings to ColumnTransformer
        return info.name
    return info.factory(**{**step.params, **info.fixed})


def _group(group: GroupSpec) -> Any:
    if len(group.steps) == 1:
        return _transformer(group.steps[0])
    return Pipeline([(f"{i}_{step.transformer}", _transformer(step)) for i, step in enumerate(group.steps)])


def build_estimator(spec: PipelineSpec) -> Any:
    info = estimator_info(spec.model.estimator, spec.task)
    params: dict[str, Any] = dict(spec.model.params)
    if info.has_random_state:
        params.setdefault("random_state", spec.training.seed)
    return info.factory(**{**params, **info.fixed})


def build_pipeline(spec: PipelineSpec) -> Pipeline:
    """The unfitted pipeline for ``spec``; it expects the frame ``InputSchema.coerce`` returns."""
    transformers = [(group.name, _group(group), list(group.columns)) for group in spec.preprocess]
    preprocess = ColumnTransformer(
        transformers,
        remainder=DROP,
        sparse_threshold=0.0,
        verbose_feature_names_out=True,
    )
    return Pipeline([(PREPROCESS_STEP, preprocess), (MODEL_STEP, build_estimator(spec))])


__all__ = ["MODEL_STEP", "PASSTHROUGH", "PREPROCESS_STEP", "build_estimator", "build_pipeline"]
