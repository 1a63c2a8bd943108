"""An actor's roles *now*, from the database: local grants plus SSO groups mapped by admins.

Pages show what the session saw; services ask here before acting, so a role
removed a second ago is already gone.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import GroupRoleMappingRow, SessionRow, UserRow
from steward.core.domain.roles import Role


def mapped_roles(db: Session, groups: list[str]) -> frozenset[Role]:
    if not groups:
        return frozenset()
    rows = db.scalars(select(GroupRoleMappingRow.role).where(GroupRoleMappingRow.group_name.in_(groups)))
    return frozenset(Role(value) for value in rows if value in Role.__members__.values())


def session_groups(session_row: SessionRow | None) -> list[str]:
    if session_row is None or not session_row.groups_json:
        return []
    groups = json.loads(session_row.groups_json)
    return [str(group) for group in groups] if isinstance(groups, list) else []


def effective_roles(db: Session, user: UserRow, session_row: SessionRow | None) -> frozenset[Role]:
    """Local roles, plus for an SSO session the roles its groups map to. Inactive users have none."""
    if not user.active:
        return frozenset()
    local = frozenset(Role(row.role) for row in user.roles if row.role in Role.__members__.values())
    return local | mapped_roles(db, session_groups(session_row))
