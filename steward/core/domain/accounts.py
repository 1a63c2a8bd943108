"""Entities for people: who a user is and who is acting right now."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from steward.core.domain.roles import Role


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    email: str | None
    roles: frozenset[Role]
    active: bool
    auth_source: str
    created_at: datetime
    updated_at: datetime
    version: int

    def snapshot(self) -> dict[str, Any]:
        """What the audit log records as 'before' and 'after' (never the password hash)."""
        return {
            "username": self.username,
            "display_name": self.display_name,
            "email": self.email,
            "roles": sorted(role.value for role in self.roles),
            "active": self.active,
            "auth_source": self.auth_source,
        }


@dataclass(frozen=True)
class Actor:
    """The one acting, as every mutating service receives it.

    ``roles`` is what the session saw at its last check; services re-read the
    current roles from the database before allowing anything.
    """

    username: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    user_id: int | None = None
    session_id: str | None = None
    source: str = ""
    display_name: str = ""
    auth_source: str = "local"
    system: bool = False

    @classmethod
    def system_actor(cls, purpose: str) -> Actor:
        """A process acting on its own (CLI, worker, bootstrap). Audited under ``system:<purpose>``."""
        return cls(username=f"system:{purpose}", roles=frozenset(), system=True, auth_source="system")

    @property
    def label(self) -> str:
        return self.display_name or self.username

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class SessionInfo:
    id: str
    user_id: int
    username: str
    method: str
    source: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class GroupMapping:
    id: int
    group_name: str
    role: Role
    created_at: datetime
    created_by: str
