"""What people are told about promotions, and the one place it is sent from (after the commit).

Recipients are read inside the transaction that made the change; sending
happens only once it has committed, so nobody hears of a change that rolled
back, and a notifier failing never undoes one that did not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import UserRow
from steward.core.adapters.notifiers import Notification
from steward.core.domain.accounts import Actor
from steward.core.domain.promotions import Decision, LedgerEntry, PromotionRequest
from steward.core.domain.roles import Role
from steward.core.domain.signoff import PolicyResult
from steward.core.services.context import ServiceContext


def send(ctx: ServiceContext, notification: Notification) -> None:
    """Every promotion notification goes out here, after its transaction committed."""
    with contextlib.suppress(Exception):  # a notifier failing must not undo a committed decision
        ctx.notifier.send(notification)


def people_with(db: Session, roles: Iterable[Role], *, excluding: str = "") -> tuple[str, ...]:
    """Active users holding any of ``roles``, by username."""
    wanted = {role.value for role in roles}
    if not wanted:
        return ()
    users = db.scalars(select(UserRow).where(UserRow.active.is_(True)).order_by(UserRow.username))
    return tuple(u.username for u in users if u.username != excluding and wanted & {r.role for r in u.roles})


def requested(request: PromotionRequest, recipients: tuple[str, ...]) -> Notification:
    return Notification(
        topic="promotion.requested",
        subject=f"Sign-off wanted: {request.label}",
        body=f"{request.requested_by_name} asks: {request.reason}",
        recipients=recipients,
        data={"request": request.id, "environment": request.environment_name},
    )


def decided(
    actor: Actor, request: PromotionRequest, decision: Decision, comment: str, signoff: PolicyResult
) -> Notification:
    body = comment or "(no comment)"
    if decision is Decision.APPROVE:
        body += " - " + (
            "sign-off complete" if signoff.satisfied else f"still needs {signoff.describe_missing()}"
        )
    return Notification(
        topic=f"promotion.{decision.done}",
        subject=f"{request.label} {decision.done} by {actor.username}",
        body=body,
        recipients=(request.requested_by,),
        data={"request": request.id, "satisfied": signoff.satisfied},
    )


def executed(entry: LedgerEntry, request: PromotionRequest) -> Notification:
    people = {request.requested_by, *(a.approver for a in entry.approvals)}
    return Notification(
        topic="promotion.executed",
        subject=f"{entry.pipeline_name} {entry.label} now serves in {entry.environment_name}",
        body=f"executed by {entry.actor_name} (ledger entry #{entry.id})",
        recipients=tuple(sorted(people)),
        data={"request": request.id, "ledger_entry": entry.id},
    )
