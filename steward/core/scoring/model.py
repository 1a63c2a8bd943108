"""A verified version held in memory, ready to answer: model, schema, task, and how it predicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from steward.core.pipelines.schema import InputSchema


def outputs(model: Any, frame: pd.DataFrame, task: str) -> tuple[np.ndarray[Any, Any], list[Any] | None]:
    """The positive-class probability (or the predicted value) and, for classifiers, the label.

    One ``predict_proba`` gives both for a classifier (the label is the most
    probable class), so a request costs one pass through the pipeline.
    """
    if task == "classification" and hasattr(model, "predict_proba"):
        probabilities = np.asarray(model.predict_proba(frame), dtype=float)
        classes = np.asarray(model.classes_)
        labels = classes[np.argmax(probabilities, axis=1)]
        return probabilities[:, -1], [v.item() if isinstance(v, np.generic) else v for v in labels]
    values = np.asarray(model.predict(frame), dtype=float)
    return values, None


def warmup_outputs(model: Any, frame: pd.DataFrame, task: str) -> np.ndarray[Any, Any]:
    return outputs(model, frame, task)[0]


@dataclass(frozen=True)
class ServingVersion:
    version_id: str
    number: int
    artifact_sha256: str
    task: str
    schema: InputSchema
    model: Any

    def predict(self, frame: pd.DataFrame) -> tuple[list[float], list[Any] | None]:
        values, labels = outputs(self.model, frame, self.task)
        return [float(v) for v in values], labels
