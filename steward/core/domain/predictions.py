"""The prediction log as users see it: how much a deployment answered, and over which time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PredictionLogSummary:
    """What one deployment (a pipeline in an environment) has logged."""

    pipeline_name: str
    environment: str
    predictions: int
    by_version: tuple[tuple[int, int], ...]  # (version number, predictions), newest version first
    first_event: datetime | None
    last_event: datetime | None
    last_scored_at: datetime | None
