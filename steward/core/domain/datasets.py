"""Data set entities: files under the data folder, pinned by their SHA-256."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Dataset:
    id: int
    name: str
    path: str
    role: str
    description: str
    attribution: str
    rows: int
    columns: tuple[str, ...]
    sha256: str
    registered_at: datetime
    registered_by: str
    environment: str | None = None  # where production and labels rows come from; None for training data


DATASET_ROLES = ("training", "production", "labels")
