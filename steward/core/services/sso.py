"""Mapping identity-provider groups to Steward roles (kept in Steward's database, edited by admins)."""

from __future__ import annotations

from sqlalchemy import select

from steward.core.adapters.db.models import GroupRoleMappingRow
from steward.core.domain.accounts import Actor, GroupMapping
from steward.core.domain.names import validate_label
from steward.core.domain.permissions import Action
from steward.core.domain.roles import Role, parse_role
from steward.core.errors import AlreadyExists, NotFound
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.promotions.voiding import void_lapsed_signatures
from steward.core.services.uow import UnitOfWork


def _entity(row: GroupRoleMappingRow) -> GroupMapping:
    return GroupMapping(row.id, row.group_name, Role(row.role), row.created_at, row.created_by)


class GroupMappingService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def list(self, actor: Actor) -> list[GroupMapping]:
        authz.check(self.ctx, actor, Action.MANAGE_SSO, what="list group mappings")
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.scalars(
                select(GroupRoleMappingRow).order_by(GroupRoleMappingRow.group_name, GroupRoleMappingRow.role)
            )
            return [_entity(row) for row in rows]

    def add(self, actor: Actor, group: str, role: str) -> GroupMapping:
        authz.check(
            self.ctx, actor, Action.MANAGE_SSO, object_type="group_mapping", object_id=str(group)[:64]
        )
        name = validate_label(group, "group name")
        role_value = parse_role(role)
        with UnitOfWork(self.ctx) as uow:
            exists = uow.session.scalar(
                select(GroupRoleMappingRow.id).where(
                    GroupRoleMappingRow.group_name == name, GroupRoleMappingRow.role == role_value.value
                )
            )
            if exists is not None:
                raise AlreadyExists(f"group {name!r} already maps to {role_value.value}")
            row = GroupRoleMappingRow(
                group_name=name,
                role=role_value.value,
                created_at=self.ctx.clock.now(),
                created_by=actor.username,
            )
            uow.session.add(row)
            uow.session.flush()
            uow.record(
                actor,
                "sso.mapping.add",
                object_type="group_mapping",
                object_id=str(row.id),
                after={"group": name, "role": role_value.value},
            )
            uow.commit()
            return _entity(row)

    def remove(self, actor: Actor, mapping_id: int) -> None:
        authz.check(
            self.ctx, actor, Action.MANAGE_SSO, object_type="group_mapping", object_id=str(mapping_id)
        )
        with UnitOfWork(self.ctx) as uow:
            row = uow.session.get(GroupRoleMappingRow, mapping_id)
            if row is None:
                raise NotFound(f"no group mapping #{mapping_id}")
            before = {"group": row.group_name, "role": row.role}
            uow.session.delete(row)
            uow.record(
                actor,
                "sso.mapping.remove",
                object_type="group_mapping",
                object_id=str(mapping_id),
                before=before,
            )
            void_lapsed_signatures(uow, actor)  # everyone who signed through that group loses it for good
            uow.commit()
