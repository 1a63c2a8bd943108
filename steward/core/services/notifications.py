"""Notification channels (admins), the outbox the worker drains, and the delivery log.

Messages are written to the outbox in the transaction that decided them
(:mod:`steward.core.services.alerting`); :meth:`NotificationService.deliver_due`
is the worker's job: it sends each due message outside any transaction (no
lock is held while a receiver is slow), then records the attempt, and on a
failure schedules a retry with backoff until ``MAX_ATTEMPTS``. Failures are
logged and counted, never swallowed.
"""

from __future__ import annotations

import builtins
import json
import logging
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select

from steward.core.adapters.db.models import (
    NotificationChannelRow,
    NotificationDeliveryRow,
    NotificationOutboxRow,
)
from steward.core.adapters.notifiers import NetworkOutbound, SendResult
from steward.core.domain.accounts import Actor
from steward.core.domain.names import validate_comment
from steward.core.domain.notifications import (
    MAX_ATTEMPTS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Channel,
    ChannelKind,
    Delivery,
    OutboxMessage,
    OutboxStatus,
    backoff,
    sign,
    validate_addresses,
    validate_smtp_target,
    validate_webhook_url,
)
from steward.core.domain.permissions import Action
from steward.core.domain.signals import Severity
from steward.core.errors import AlreadyExists, InvalidInput, NotFound
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork

log = logging.getLogger(__name__)
DELIVERY_FAILURES: dict[str, int] = {}  # channel name -> failed attempts in this process


class Outbound(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str], *, allow_private: bool) -> SendResult: ...

    def mail(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: tuple[str, ...],
        subject: str,
        text: str,
        *,
        allow_private: bool,
    ) -> SendResult: ...


@dataclass(frozen=True)
class _Due:
    """A message to send and the channel's settings, read before the network is touched."""

    id: int
    attempts: int
    subject: str
    body_json: str
    recipients: str
    channel_id: int
    channel_name: str
    kind: str
    target: str
    secret: str
    sender: str
    allow_private: bool
    enabled: bool


@dataclass(frozen=True)
class DeliveryRun:
    delivered: int
    failed: int  # attempts that failed this run (retried later unless given up)
    given_up: int


def to_channel(row: NotificationChannelRow) -> Channel:
    return Channel(
        id=row.id,
        name=row.name,
        kind=ChannelKind(row.kind),
        target=row.target,
        min_severity=Severity(row.min_severity),
        pipelines=tuple(p for p in row.pipelines.split(",") if p),
        recipients=tuple(r for r in row.recipients.split(",") if r),
        sender=row.sender,
        allow_private=row.allow_private,
        notify_people=row.notify_people,
        enabled=row.enabled,
        created_by=row.created_by,
        created_at=row.created_at,
        has_secret=bool(row.secret),
    )


class NotificationService:
    def __init__(self, ctx: ServiceContext, outbound: Outbound | None = None) -> None:
        self.ctx = ctx
        self.outbound: Outbound = outbound or NetworkOutbound()

    # ---- channels (admins) ---------------------------------------------------------------------
    def add_channel(
        self,
        actor: Actor,
        name: str,
        kind: ChannelKind | str,
        target: str,
        *,
        secret: str = "",
        min_severity: Severity | str = Severity.WARNING,
        pipelines: str = "",
        recipients: str = "",
        sender: str = "steward@localhost",
        allow_private: bool = False,
        notify_people: bool = False,
    ) -> Channel:
        """A webhook (signed with ``secret``) or an SMTP server; audited, the secret never in the log."""
        label = validate_comment(name, "channel name", max_length=100)
        authz.check(
            self.ctx,
            actor,
            Action.MANAGE_NOTIFICATIONS,
            object_type="notification_channel",
            object_id=label[:100],
            what=f"add notification channel {label[:100]}",
        )
        if not label:
            raise InvalidInput("a channel needs a name")
        try:
            kind, severity = ChannelKind(kind), Severity(min_severity)
        except ValueError as exc:
            raise InvalidInput(f"channel {label}: {exc}") from None
        people = validate_addresses(recipients)
        if kind is ChannelKind.WEBHOOK:
            target = validate_webhook_url(target)
            if len(secret) < 16:
                raise InvalidInput("a webhook channel needs a signing secret of at least 16 characters")
        else:
            validate_smtp_target(target)
            validate_addresses(sender)
            if not people and not notify_people:
                raise InvalidInput("an e-mail channel needs recipients, or to notify the people addressed")
        wanted = ",".join(p.strip() for p in pipelines.split(",") if p.strip())
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            if db.scalar(select(NotificationChannelRow.id).where(NotificationChannelRow.name == label)):
                raise AlreadyExists(f"a channel named {label!r} exists")
            row = NotificationChannelRow(
                name=label,
                kind=kind.value,
                target=target.strip(),
                secret=secret,
                recipients=",".join(people),
                sender=sender.strip(),
                min_severity=severity.value,
                pipelines=wanted,
                allow_private=allow_private,
                notify_people=notify_people,
                enabled=True,
                created_by=actor.username,
                created_at=self.ctx.clock.now(),
            )
            db.add(row)
            db.flush()
            channel = to_channel(row)
            uow.record(
                actor,
                "notification.channel_add",
                object_type="notification_channel",
                object_id=str(row.id),
                after={
                    "name": label,
                    "kind": kind.value,
                    "target": channel.target,
                    "min_severity": severity.value,
                    "pipelines": wanted,
                    "allow_private": allow_private,
                    "notify_people": notify_people,
                },
                detail="private addresses explicitly allowed by an admin" if allow_private else "",
            )
            uow.commit()
            return channel

    def set_enabled(self, actor: Actor, channel_id: int, enabled: bool) -> Channel:
        authz.check(
            self.ctx,
            actor,
            Action.MANAGE_NOTIFICATIONS,
            object_type="notification_channel",
            object_id=str(channel_id)[:20],
            what="enable or disable a notification channel",
        )
        with UnitOfWork(self.ctx) as uow:
            row = uow.session.get(NotificationChannelRow, channel_id)
            if row is None:
                raise NotFound(f"no notification channel #{channel_id}")
            before, row.enabled = row.enabled, enabled
            uow.record(
                actor,
                "notification.channel_" + ("enable" if enabled else "disable"),
                object_type="notification_channel",
                object_id=str(channel_id),
                before={"enabled": before},
                after={"enabled": enabled},
            )
            uow.commit()
            return to_channel(row)

    def channels(self) -> builtins.list[Channel]:
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.scalars(select(NotificationChannelRow).order_by(NotificationChannelRow.name))
            return [to_channel(r) for r in rows]

    # ---- the log ---------------------------------------------------------------------------------
    def outbox(self, limit: int = 100) -> builtins.list[OutboxMessage]:
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.execute(
                select(NotificationOutboxRow, NotificationChannelRow.name)
                .join(NotificationChannelRow, NotificationChannelRow.id == NotificationOutboxRow.channel_id)
                .order_by(NotificationOutboxRow.id.desc())
                .limit(limit)
            )
            return [
                OutboxMessage(
                    r.id,
                    r.channel_id,
                    name,
                    r.topic,
                    r.subject,
                    OutboxStatus(r.status),
                    r.attempts,
                    r.next_attempt_at,
                    r.last_error,
                    r.created_at,
                    r.delivered_at,
                )
                for r, name in rows
            ]

    def deliveries(self, limit: int = 100) -> builtins.list[Delivery]:
        """The delivery log, newest first: every attempt, with its answer."""
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.execute(
                select(NotificationDeliveryRow, NotificationChannelRow.name, NotificationOutboxRow.subject)
                .join(NotificationOutboxRow, NotificationOutboxRow.id == NotificationDeliveryRow.outbox_id)
                .join(NotificationChannelRow, NotificationChannelRow.id == NotificationDeliveryRow.channel_id)
                .order_by(NotificationDeliveryRow.id.desc())
                .limit(limit)
            )
            return [
                Delivery(
                    d.id, d.outbox_id, name, subject, d.attempt, d.attempted_at, d.ok, d.status_code, d.error
                )
                for d, name, subject in rows
            ]

    # ---- the worker's job --------------------------------------------------------------------------
    def deliver_due(self, limit: int = 50) -> DeliveryRun:
        """Send every due outbox message once; record each attempt; retry failures later with backoff."""
        now = self.ctx.clock.now()
        with UnitOfWork(self.ctx, write=False) as uow:
            due = uow.session.execute(
                select(NotificationOutboxRow, NotificationChannelRow)
                .join(NotificationChannelRow, NotificationChannelRow.id == NotificationOutboxRow.channel_id)
                .where(
                    NotificationOutboxRow.status == OutboxStatus.PENDING.value,
                    NotificationOutboxRow.next_attempt_at <= now,
                )
                .order_by(NotificationOutboxRow.next_attempt_at, NotificationOutboxRow.id)
                .limit(limit)
            ).all()
            pending = [
                _Due(
                    m.id,
                    m.attempts,
                    m.subject,
                    m.body_json,
                    m.recipients,
                    c.id,
                    c.name,
                    c.kind,
                    c.target,
                    c.secret,
                    c.sender,
                    c.allow_private,
                    c.enabled,
                )
                for m, c in due
            ]
        delivered = failed = given_up = 0
        for message in pending:
            result = self._send(message) if message.enabled else SendResult(False, None, "channel disabled")
            if not result.ok:
                failed += 1
                name = message.channel_name
                DELIVERY_FAILURES[name] = DELIVERY_FAILURES.get(name, 0) + 1
                log.warning(
                    "notification %s to channel %s failed (attempt %d): %s",
                    message.id,
                    name,
                    message.attempts + 1,
                    result.error,
                )
            given_up += self._record(message.id, message.channel_id, result)
            delivered += int(result.ok)
        return DeliveryRun(delivered, failed, given_up)

    def _send(self, message: _Due) -> SendResult:
        channel = message
        body = json.loads(message.body_json)
        if channel.kind == ChannelKind.WEBHOOK.value:
            # "text" is what Slack and Teams incoming webhooks show; the rest is for any other receiver.
            payload = json.dumps(
                {"subject": message.subject, "text": message.subject, **body}, sort_keys=True
            )
            data = payload.encode()
            stamp = int(self.ctx.clock.now().timestamp())
            headers = {TIMESTAMP_HEADER: str(stamp), SIGNATURE_HEADER: sign(channel.secret, stamp, data)}
            return self.outbound.post(channel.target, data, headers, allow_private=channel.allow_private)
        host, port = validate_smtp_target(channel.target)
        recipients = tuple(r for r in message.recipients.split(",") if r)
        text = "\n".join(f"{k}: {v}" for k, v in sorted(body.items()))
        return self.outbound.mail(
            host, port, channel.sender, recipients, message.subject, text, allow_private=channel.allow_private
        )

    def _record(self, outbox_id: int, channel_id: int, result: SendResult) -> int:
        """The attempt, in its own transaction; 1 when this failure was the last one allowed."""
        with UnitOfWork(self.ctx) as uow:
            row = uow.session.get(NotificationOutboxRow, outbox_id, with_for_update=True)
            if row is None or row.status != OutboxStatus.PENDING.value:
                return 0  # another worker got there first
            now = self.ctx.clock.now()
            row.attempts += 1
            uow.session.add(
                NotificationDeliveryRow(
                    outbox_id=outbox_id,
                    channel_id=channel_id,
                    attempt=row.attempts,
                    attempted_at=now,
                    ok=result.ok,
                    status_code=result.status_code,
                    error=result.error[:2000],
                )
            )
            gave_up = 0
            if result.ok:
                row.status, row.delivered_at, row.last_error = OutboxStatus.DELIVERED.value, now, ""
            else:
                row.last_error = result.error[:2000]
                if row.attempts >= MAX_ATTEMPTS:
                    row.status, gave_up = OutboxStatus.FAILED.value, 1
                else:
                    row.next_attempt_at = now + backoff(row.attempts)
            uow.commit()
            return gave_up
