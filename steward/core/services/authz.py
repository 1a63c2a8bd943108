"""Permission checks every mutating service runs itself (hiding a button is not access control)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from steward.core.adapters.db.models import SessionRow, UserRow
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import Outcome
from steward.core.domain.permissions import Action, Tier, is_allowed
from steward.core.domain.roles import Role
from steward.core.errors import PermissionDenied
from steward.core.services.context import ServiceContext
from steward.core.services.roles_lookup import effective_roles
from steward.core.services.uow import UnitOfWork

log = logging.getLogger(__name__)

# A process acting on its own may do anything a person could, except sign off:
# approvals must come from named people.
HUMAN_ONLY = frozenset({Action.APPROVE_PROMOTION})


def current_roles(db: Session, actor: Actor) -> frozenset[Role]:
    if actor.user_id is None:
        return frozenset()
    user = db.get(UserRow, actor.user_id)
    if user is None:
        return frozenset()
    session_row = db.get(SessionRow, actor.session_id) if actor.session_id else None
    if session_row is not None and session_row.revoked_at is not None:
        return frozenset()
    return effective_roles(db, user, session_row)


def roles_now(db: Session, actor: Actor) -> frozenset[Role] | None:
    """The actor's roles read in the caller's transaction, for :func:`enforce`; None if they cannot be read.

    Read it last in a transaction: after a failed statement PostgreSQL refuses
    the rest of the transaction.
    """
    try:
        return frozenset() if actor.system else current_roles(db, actor)
    except Exception:  # deliberately broad: failing to read the roles is a denial, decided by enforce
        log.warning("could not read %s's roles; denying", actor.username, exc_info=True)
        return None


def check(
    ctx: ServiceContext,
    actor: Actor,
    action: Action,
    *,
    tier: Tier | None = None,
    object_type: str = "",
    object_id: str = "",
    what: str = "",
) -> None:
    """Allow, or audit the refusal in its own transaction and raise PermissionDenied.

    A check that errors denies: an exception while deciding is a refusal.
    """
    roles: frozenset[Role] | None = frozenset()
    if not actor.system:  # a process's rights do not depend on the database
        try:
            with UnitOfWork(ctx, write=False) as uow:
                roles = roles_now(uow.session, actor)
        except Exception:  # deliberately broad: any failure to decide is a denial
            log.warning("could not read %s's roles for %s; denying", actor.username, action, exc_info=True)
            roles = None
    enforce(ctx, actor, roles, action, tier=tier, object_type=object_type, object_id=object_id, what=what)


def enforce(
    ctx: ServiceContext,
    actor: Actor,
    roles: frozenset[Role] | None,
    action: Action,
    *,
    tier: Tier | None = None,
    object_type: str = "",
    object_id: str = "",
    what: str = "",
) -> None:
    """:func:`check` for a service that read ``roles`` (:func:`roles_now`) in its own read transaction.

    ``None`` (the roles could not be read) denies; a refusal is audited in its own transaction.
    """
    try:
        if actor.system:
            allowed = action not in HUMAN_ONLY
        else:
            allowed = roles is not None and is_allowed(roles, action, tier)
    except Exception:  # deliberately broad: any failure to decide is a denial
        log.warning("could not decide %s for %s; denying", action, actor.username, exc_info=True)
        allowed = False
    if allowed:
        return
    where = f" in {tier.value}" if tier else ""
    target = f" {what}" if what else ""
    message = f"{actor.username} may not {action.label.lower()}{target}{where}"
    deny(ctx, actor, action, message=message, object_type=object_type, object_id=object_id)


def deny(
    ctx: ServiceContext,
    actor: Actor,
    action: Action,
    *,
    message: str,
    object_type: str = "",
    object_id: str = "",
) -> None:
    with UnitOfWork(ctx) as uow:
        uow.record(
            actor,
            "permission.denied",
            object_type=object_type,
            object_id=object_id,
            outcome=Outcome.DENIED,
            detail=f"{action.value}: {message}",
        )
        uow.commit()
    raise PermissionDenied(message)
