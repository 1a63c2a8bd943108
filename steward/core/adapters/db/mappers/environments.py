"""Environment rows to entities."""

from __future__ import annotations

from steward.core.adapters.db.models import EnvironmentRow
from steward.core.domain.environments import Environment
from steward.core.domain.permissions import Tier


def to_environment(row: EnvironmentRow) -> Environment:
    return Environment(row.id, row.name, Tier(row.tier), row.position, row.description, row.created_at)
