"""What people are told about promotions, and the one place it is sent from (after the commit).

Recipients are read inside the transaction that made the change; sending
happens only once it has committed, so nobody hears of a change that rolled
back, and a notifier failing never undoes one that did not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import UserRow
from steward.core.adapters.notifiers import Notification
from steward.core.domain.accounts import Actor
from steward.core.domain.promotions import Decision, LedgerEntry, PromotionRequest
from steward.core.domain.roles import Role
from steward.core.domain.signoff import PolicyResult
from steward.core.services.alerting import enqueue
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork, send_after_commit

log = logging.getLogger(__name__)


def send(ctx: ServiceContext, notification: Notification) -> None:
    """Every promotion notification goes out here, after its transaction committed.

    A request awaiting sign-off also goes to each person who may sign, by the
    e-mail channels that notify people (through the outbox the worker drains).
    A failure is logged and counted, and never undoes the committed decision.
    """
    send_after_commit(ctx, notification)
    if notification.topic == "promotion.requested" and notification.recipients:
        try:
            queue_for_people(ctx, notification)
        except Exception:
            log.exception("could not queue %s for its signers", notification.subject[:200])


def queue_for_people(ctx: ServiceContext, notification: Notification) -> int:
    """Outbox rows addressed to the recipients' e-mail addresses; one per request, however often asked."""
    with UnitOfWork(ctx) as uow:
        db = uow.session
        users = db.scalars(select(UserRow).where(UserRow.username.in_(notification.recipients)))
        emails = sorted({u.email for u in users if u.email and u.active})
        if not emails:
            return 0
        key = f"{notification.topic}:{notification.data.get('request')}"
        body = {"topic": notification.topic, "body": notification.body, **notification.data}
        count = enqueue(
            db, key, notification.topic, notification.subject, body, ctx.clock.now(), people=emails
        )
        uow.commit()
        return count


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
