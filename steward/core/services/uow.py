"""The unit of work: one transaction per user action or job run.

A write unit of work begins IMMEDIATE on SQLite and appends its audit events
to the chain inside the same transaction as the change, so the log can never
say something happened that did not, or miss something that did. Each event
also passes the alert rules here, so an alert opens (or counts a repeat) in
that same transaction, whichever service recorded the event.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from steward.core.adapters.audit_keys import keyring_for
from steward.core.adapters.db.models import AuditEventRow, AuditHeadRow
from steward.core.adapters.notifiers import Notification
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import AuditEvent, Outcome, canonical_json, compute_hash
from steward.core.errors import StaleState
from steward.core.services.alerting import OPENER, apply_alert_rules_all, lifecycle_events
from steward.core.services.context import ServiceContext
from steward.core.services.fencing import verify_fence

MAX_DETAIL = 10_000
log = logging.getLogger(__name__)
NOTIFIER_FAILURES: dict[str, int] = {}  # topic -> failed sends in this process (logged, never swallowed)


def send_after_commit(ctx: ServiceContext, notification: Notification) -> None:
    """Hand a committed fact to the notifier; a failure is logged and counted, and undoes nothing."""
    try:
        ctx.notifier.send(notification)
    except Exception:
        NOTIFIER_FAILURES[notification.topic] = NOTIFIER_FAILURES.get(notification.topic, 0) + 1
        log.exception("notifier failed to send %s (%s)", notification.topic, notification.subject[:200])


class UnitOfWork:
    def __init__(self, ctx: ServiceContext, *, write: bool = True) -> None:
        self.ctx = ctx
        self.write = write
        self._session: Session | None = None
        self.events: list[AuditEvent] = []
        self.after_commit: list[Notification] = []  # sent only once the transaction has committed

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._session

    def __enter__(self) -> Self:
        engine = self.ctx.engines.write if self.write else self.ctx.engines.read
        self._session = Session(engine, expire_on_commit=False, autoflush=True)
        # Whoever checks an event's seal inside this transaction (signatures, certificates) needs the keys.
        self._session.info["audit_keyring"] = keyring_for(self.ctx.settings)
        self._session.begin()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session = self.session
        try:
            if session.in_transaction():
                session.rollback()
        finally:
            session.close()
            self._session = None

    def commit(self) -> None:
        if not self.write:
            raise RuntimeError("a read-only unit of work cannot commit")
        # Inside a job slot (the worker's leader), refuse the write if the lease moved on meanwhile.
        verify_fence(self.session, self.ctx.clock.now())
        try:
            self.session.commit()
        except StaleDataError:
            self.session.rollback()
            raise StaleState("this changed since you loaded it; reload and try again") from None
        sending, self.after_commit = self.after_commit, []
        for notification in sending:
            send_after_commit(self.ctx, notification)

    def record(
        self,
        actor: Actor,
        action: str,
        *,
        object_type: str = "",
        object_id: str = "",
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        outcome: Outcome = Outcome.OK,
        detail: str = "",
    ) -> AuditEvent:
        """Append an event to the audit chain in this transaction."""
        if not self.write:
            raise RuntimeError("audit events need a write unit of work")
        session = self.session
        head = session.get(AuditHeadRow, 1, with_for_update=True, populate_existing=True)
        if head is None:
            raise RuntimeError("audit head row missing; run `steward db upgrade`")
        occurred_at = self.ctx.clock.now()
        before_json = canonical_json(before) if before is not None else None
        after_json = canonical_json(after) if after is not None else None
        detail = detail[:MAX_DETAIL]
        common: dict[str, Any] = {
            "seq": head.seq + 1,
            "event_id": uuid.uuid4().hex,
            "occurred_at": occurred_at,
            "actor": actor.username,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "detail": detail,
            "source": actor.source,
            "prev_hash": head.hash,
        }
        stored = {**common, "outcome": outcome.value, "before_json": before_json, "after_json": after_json}
        keyring = session.info["audit_keyring"]
        digest = compute_hash(**stored, key=keyring.active_key, key_id=keyring.active)
        session.add(AuditEventRow(**stored, hash=digest, key_id=keyring.active))
        event = AuditEvent(
            **common, outcome=outcome, before=before, after=after, hash=digest, key_id=keyring.active
        )
        head.seq, head.hash = event.seq, digest
        session.flush()
        self.events.append(event)
        effects = apply_alert_rules_all(session, event)
        self.after_commit.extend(effects.notifications)
        for opened in lifecycle_events(effects, event):  # alert.* events fire nothing, so this ends here
            self.record(
                OPENER,
                opened.action,
                object_type="alert",
                object_id=opened.object_id,
                after=opened.after,
                detail=opened.detail,
            )
        return event
