"""Managing accounts: create, change roles, (de)activate, reset passwords. Admins only."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError as DBIntegrityError
from sqlalchemy.orm.attributes import flag_modified

from steward.core.adapters.db.models import SessionRow, UserRoleRow, UserRow
from steward.core.domain.accounts import Actor, User
from steward.core.domain.names import validate_label, validate_username
from steward.core.domain.passwords import check_password_strength, hash_password
from steward.core.domain.permissions import Action
from steward.core.domain.roles import Role, parse_roles
from steward.core.errors import AlreadyExists, InvalidInput, NotFound, StaleState
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.promotions.voiding import void_lapsed_signatures
from steward.core.services.uow import UnitOfWork


def to_user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        email=row.email,
        roles=frozenset(Role(r.role) for r in row.roles if r.role in Role.__members__.values()),
        active=row.active,
        auth_source=row.auth_source,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def revoke_sessions(uow: UnitOfWork, user_id: int, reason: str) -> int:
    """End every open session of a user, in the caller's transaction."""
    result = uow.session.execute(
        update(SessionRow)
        .where(SessionRow.user_id == user_id, SessionRow.revoked_at.is_(None))
        .values(revoked_at=uow.ctx.clock.now(), revoked_reason=reason)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class UserService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ---- reads -------------------------------------------------------------
    def list(self, actor: Actor, *, include_inactive: bool = True) -> list[User]:
        authz.check(self.ctx, actor, Action.MANAGE_USERS, what="list users")
        with UnitOfWork(self.ctx, write=False) as uow:
            query = select(UserRow).order_by(UserRow.username)
            if not include_inactive:
                query = query.where(UserRow.active.is_(True))
            return [to_user(row) for row in uow.session.scalars(query)]

    def get(self, actor: Actor, username: str) -> User:
        authz.check(self.ctx, actor, Action.MANAGE_USERS, object_type="user", object_id=username)
        with UnitOfWork(self.ctx, write=False) as uow:
            return to_user(self._row(uow, username))

    def count(self) -> int:
        with UnitOfWork(self.ctx, write=False) as uow:
            return int(uow.session.scalar(select(func.count()).select_from(UserRow)) or 0)

    # ---- changes -----------------------------------------------------------
    def create(
        self,
        actor: Actor,
        username: str,
        *,
        roles: Iterable[str],
        password: str | None,
        display_name: str = "",
        email: str | None = None,
    ) -> User:
        """Create a local account. Everything is validated before anything is written."""
        authz.check(self.ctx, actor, Action.MANAGE_USERS, object_type="user", object_id=str(username)[:64])
        name = validate_username(username)
        role_set = parse_roles(roles)
        if not role_set:
            raise InvalidInput("a user needs at least one role")
        shown = validate_label(display_name, "display name", allow_empty=True) or name
        mail = validate_label(email, "e-mail", max_length=320) if email else None
        password_hash = None
        if password is not None:
            check_password_strength(password)
            password_hash = hash_password(password, self.ctx.scrypt)
        now = self.ctx.clock.now()
        with UnitOfWork(self.ctx) as uow:
            if uow.session.scalar(select(UserRow.id).where(UserRow.username == name)) is not None:
                raise AlreadyExists(f"user name {name!r} is already taken")
            row = UserRow(
                username=name,
                display_name=shown,
                email=mail,
                password_hash=password_hash,
                auth_source="local",
                active=True,
                created_at=now,
                updated_at=now,
            )
            row.roles = [UserRoleRow(role=role.value) for role in sorted(role_set)]
            uow.session.add(row)
            try:
                uow.session.flush()
            except DBIntegrityError:
                raise AlreadyExists(f"user name {name!r} is already taken") from None
            user = to_user(row)
            uow.record(actor, "user.create", object_type="user", object_id=name, after=user.snapshot())
            uow.commit()
        return user

    def set_roles(
        self, actor: Actor, username: str, roles: Iterable[str], *, expected_version: int | None = None
    ) -> User:
        authz.check(self.ctx, actor, Action.MANAGE_USERS, object_type="user", object_id=str(username)[:64])
        role_set = parse_roles(roles)
        with UnitOfWork(self.ctx) as uow:
            row = self._row(uow, username)
            self._expect(row, expected_version)
            before = to_user(row)
            if before.roles == role_set:
                return before
            if row.username == actor.username and Role.ADMIN in before.roles and Role.ADMIN not in role_set:
                self._refuse_last_admin_removal(uow, row)
            row.roles = [UserRoleRow(role=role.value) for role in sorted(role_set)]
            row.updated_at = self.ctx.clock.now()
            flag_modified(row, "updated_at")  # roles live in another table: bump the row's version anyway
            uow.session.flush()
            after = to_user(row)
            uow.record(
                actor,
                "user.roles",
                object_type="user",
                object_id=row.username,
                before=before.snapshot(),
                after=after.snapshot(),
            )
            void_lapsed_signatures(
                uow, actor, [row.username]
            )  # a removed role voids its signatures, for good
            uow.commit()
        return after

    def set_active(
        self, actor: Actor, username: str, active: bool, *, expected_version: int | None = None
    ) -> User:
        """Deactivating ends every open session of the user in the same transaction."""
        authz.check(self.ctx, actor, Action.MANAGE_USERS, object_type="user", object_id=str(username)[:64])
        with UnitOfWork(self.ctx) as uow:
            row = self._row(uow, username)
            self._expect(row, expected_version)
            before = to_user(row)
            if before.active == active:
                return before
            if not active and row.username == actor.username:
                raise InvalidInput("you cannot deactivate your own account")
            row.active = active
            row.updated_at = self.ctx.clock.now()
            uow.session.flush()
            ended = 0 if active else revoke_sessions(uow, row.id, "user_deactivated")
            after = to_user(row)
            uow.record(
                actor,
                "user.activate" if active else "user.deactivate",
                object_type="user",
                object_id=row.username,
                before=before.snapshot(),
                after=after.snapshot(),
                detail="" if active else f"{ended} open session(s) ended",
            )
            if not active:
                void_lapsed_signatures(uow, actor, [row.username])  # reactivating later revives none
            uow.commit()
        return after

    def set_password(self, actor: Actor, username: str, password: str) -> User:
        """Admins reset passwords; users change their own. Open sessions end either way."""
        if actor.username != validate_username(username):
            authz.check(
                self.ctx, actor, Action.MANAGE_USERS, object_type="user", object_id=str(username)[:64]
            )
        check_password_strength(password)
        password_hash = hash_password(password, self.ctx.scrypt)
        with UnitOfWork(self.ctx) as uow:
            row = self._row(uow, username)
            if row.auth_source != "local":
                raise InvalidInput(f"{row.username} signs in through single sign-on and has no password here")
            row.password_hash = password_hash
            row.updated_at = self.ctx.clock.now()
            uow.session.flush()
            revoke_sessions(uow, row.id, "password_changed")
            uow.record(
                actor, "user.password", object_type="user", object_id=row.username, detail="password set"
            )
            uow.commit()
            return to_user(row)

    # ---- helpers -----------------------------------------------------------
    def _row(self, uow: UnitOfWork, username: str) -> UserRow:
        name = str(username).strip().lower()
        row = uow.session.scalar(select(UserRow).where(UserRow.username == name))
        if row is None:
            raise NotFound(f"no user named {name[:64]!r}")
        return row

    @staticmethod
    def _expect(row: UserRow, expected_version: int | None) -> None:
        if expected_version is not None and row.version != expected_version:
            raise StaleState(f"user {row.username} changed since you loaded it; reload and try again")

    @staticmethod
    def _refuse_last_admin_removal(uow: UnitOfWork, row: UserRow) -> None:
        admins = uow.session.scalar(
            select(func.count())
            .select_from(UserRoleRow)
            .join(UserRow)
            .where(UserRoleRow.role == Role.ADMIN.value, UserRow.active.is_(True))
        )
        if (admins or 0) <= 1:
            raise InvalidInput("you are the last active admin; grant admin to someone else first")
