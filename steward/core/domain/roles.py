"""The roles a Steward user may hold (several at once)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from steward.core.errors import InvalidInput


class Role(StrEnum):
    VIEWER = "viewer"
    DATA_SCIENTIST = "data_scientist"
    BUSINESS_STAKEHOLDER = "business_stakeholder"
    RISK_OFFICER = "risk_officer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


def parse_role(value: str) -> Role:
    """A role from its name, or an error listing the known ones."""
    cleaned = value.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Role(cleaned)
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise InvalidInput(f"unknown role {value!r}; known roles: {known}") from None


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    return frozenset(parse_role(value) for value in values)
