"""Creating, listing and revoking the scoring service's API keys (admins only, every change audited)."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable

from sqlalchemy import select

from steward.core.adapters.db.models import ApiKeyRow, EnvironmentRow
from steward.core.domain.accounts import Actor
from steward.core.domain.api_keys import ApiKey, IssuedKey, digest, new_secret
from steward.core.domain.names import validate_label
from steward.core.domain.permissions import Action
from steward.core.errors import InvalidInput, NotFound
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork


def to_key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        environments=tuple(json.loads(row.environments_json)),
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_by=row.revoked_by,
        revoked_at=row.revoked_at,
    )


class ApiKeyService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def list(self) -> builtins.list[ApiKey]:
        """Every key, newest first (revoked ones too: the service answers them 403, not 401)."""
        with UnitOfWork(self.ctx, write=False) as uow:
            return [to_key(r) for r in uow.session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id.desc()))]

    def by_digest(self) -> dict[str, ApiKey]:
        """The table the scoring service keeps in memory: keys by the SHA-256 of their secret."""
        with UnitOfWork(self.ctx, write=False) as uow:
            return {r.secret_sha256: to_key(r) for r in uow.session.scalars(select(ApiKeyRow))}

    def create(self, actor: Actor, name: str, environments: Iterable[str]) -> IssuedKey:
        """A new key for ``environments``; the secret is in the answer and nowhere else."""
        authz.check(self.ctx, actor, Action.MANAGE_API_KEYS, object_type="api_key", object_id=name)
        name = validate_label(name, "key name", max_length=100)
        wanted = builtins.list(dict.fromkeys(environments))
        if not wanted:
            raise InvalidInput("a key needs at least one environment")
        secret = new_secret()
        with UnitOfWork(self.ctx) as uow:
            known = set(uow.session.scalars(select(EnvironmentRow.name)))
            unknown = [e for e in wanted if e not in known]
            if unknown:
                raise InvalidInput(f"no environment named {unknown[0][:64]!r}")
            row = ApiKeyRow(
                name=name,
                prefix=secret[:10],
                secret_sha256=digest(secret),
                environments_json=json.dumps(wanted),
                created_by=actor.username,
                created_at=self.ctx.clock.now(),
            )
            uow.session.add(row)
            uow.session.flush()
            key = to_key(row)
            uow.record(
                actor,
                "api_key.create",
                object_type="api_key",
                object_id=f"{row.id}:{name}",
                after={"name": name, "prefix": key.prefix, "environments": wanted},
            )
            uow.commit()
        return IssuedKey(key, secret)

    def revoke(self, actor: Actor, key_id: int, reason: str = "") -> ApiKey:
        """Revoke a key: from the next table refresh (seconds) the service answers it 403."""
        authz.check(self.ctx, actor, Action.MANAGE_API_KEYS, object_type="api_key", object_id=str(key_id))
        with UnitOfWork(self.ctx) as uow:
            row = uow.session.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"no API key #{key_id}")
            if row.revoked_at is not None:
                raise InvalidInput(f"API key #{key_id} ({row.name}) is already revoked")
            row.revoked_at, row.revoked_by = self.ctx.clock.now(), actor.username
            uow.session.flush()
            uow.record(
                actor,
                "api_key.revoke",
                object_type="api_key",
                object_id=f"{row.id}:{row.name}",
                before={"active": True},
                after={"active": False},
                detail=reason[:500],
            )
            uow.commit()
            return to_key(row)
