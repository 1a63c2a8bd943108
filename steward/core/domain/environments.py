"""Environment entities: ordered stages a version climbs one at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from steward.core.domain.permissions import Tier


@dataclass(frozen=True)
class Environment:
    id: int
    name: str
    tier: Tier
    position: int
    description: str
    created_at: datetime


DEFAULT_ENVIRONMENTS: tuple[tuple[str, Tier, str], ...] = (
    ("Dev", Tier.DEV, "Where data scientists try versions out; no sign-off needed."),
    ("Test", Tier.TEST, "Pre-production checks on production-like data."),
    ("Prod", Tier.PROD, "Serves real decisions; only operators deploy here."),
)
