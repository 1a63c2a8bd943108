"""Leases in the database: one worker leads at a time, on SQLite and PostgreSQL alike.

A lease is one row: who holds it, until when, and the token of the current
tenure. Taking a free or expired lease starts a new tenure (token + 1, audited
as ``lease.acquired``); the holder renews it well before it expires; a
clean shutdown releases it (``lease.released``) so another worker leads at
once instead of after the expiry. The token is what the writes of a leader are
fenced with (:mod:`steward.core.services.fencing`).

Expiry uses the clocks of the processes involved: keep hosts that share a
PostgreSQL database on NTP, with skew well under the lease. Safety does not
depend on clocks (a stale token is refused whatever the clocks say); only how
soon a dead leader is replaced does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError as DBIntegrityError
from sqlalchemy.exc import SQLAlchemyError

from steward.core.adapters.db.models import LeaseRow
from steward.core.clock import utc
from steward.core.domain.accounts import Actor
from steward.core.domain.infrastructure import seconds_in_words
from steward.core.services.context import ServiceContext
from steward.core.services.fencing import Fence, end_if_frozen
from steward.core.services.uow import UnitOfWork

log = logging.getLogger(__name__)
LEASE_ACTOR = Actor.system_actor("worker")


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str | None
    token: int
    acquired_at: datetime | None
    renewed_at: datetime | None
    expires_at: datetime | None

    def held_by(self, holder: str, now: datetime) -> bool:
        return self.holder == holder and self.live(now)

    def live(self, now: datetime) -> bool:
        return self.holder is not None and self.expires_at is not None and self.expires_at > now

    def fence(self) -> Fence:
        if self.holder is None:
            raise ValueError(f"lease {self.name!r} is free: no fence to write under")
        return Fence(self.name, self.holder, self.token)


def _entity(row: LeaseRow) -> Lease:
    return Lease(
        row.name,
        row.holder,
        row.token,
        utc(row.acquired_at) if row.acquired_at else None,
        utc(row.renewed_at) if row.renewed_at else None,
        utc(row.expires_at) if row.expires_at else None,
    )


class LeaseService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def get(self, name: str) -> Lease | None:
        with UnitOfWork(self.ctx, write=False) as uow:
            row = uow.session.get(LeaseRow, name)
            return _entity(row) if row is not None else None

    def acquire(self, name: str, holder: str, ttl: timedelta) -> Lease:
        """Renew the lease if ``holder`` has it, take it if free or expired; the lease as it now stands.

        ``holder`` leads if and only if the returned lease is ``held_by(holder, now)``.
        """
        try:
            return self._acquire(name, holder, ttl)
        except DBIntegrityError:  # two first-ever takers raced to insert the row: the loser reads it
            return self._acquire(name, holder, ttl)

    def _acquire(self, name: str, holder: str, ttl: timedelta) -> Lease:
        holder = holder[:200]
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            end_if_frozen(db, min(ttl.total_seconds(), 5.0))
            now = self.ctx.clock.now()
            row = db.get(LeaseRow, name, with_for_update=True, populate_existing=True)
            if row is None:
                row = LeaseRow(name=name, holder=None, token=0)
                db.add(row)
                db.flush()
            before = _entity(row)
            if before.held_by(holder, now):
                row.renewed_at, row.expires_at = now, now + ttl
                uow.commit()
                return _entity(row)
            if before.live(now):
                return before  # someone else leads; nothing to write
            row.holder, row.token = holder, before.token + 1
            row.acquired_at, row.renewed_at, row.expires_at = now, now, now + ttl
            db.flush()
            if before.holder is None:
                why = "the lease was free"
            else:
                ago = (
                    seconds_in_words((now - before.expires_at).total_seconds()) if before.expires_at else "?"
                )
                why = f"{before.holder}'s lease (token {before.token}) expired {ago} ago"
            uow.record(
                LEASE_ACTOR,
                "lease.acquired",
                object_type="lease",
                object_id=name,
                before={"holder": before.holder, "token": before.token},
                after={"holder": holder, "token": row.token},
                detail=f"{holder} leads {name!r} with token {row.token}: {why}",
            )
            uow.commit()
            return _entity(row)

    def release(self, name: str, holder: str, token: int) -> bool:
        """Give the lease up (clean shutdown) so another worker leads at once; False if it was not ours."""
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            end_if_frozen(db, 5.0)
            row = db.get(LeaseRow, name, with_for_update=True, populate_existing=True)
            if row is None or row.holder != holder or row.token != token:
                return False
            row.holder, row.expires_at = None, self.ctx.clock.now()
            db.flush()
            uow.record(
                LEASE_ACTOR,
                "lease.released",
                object_type="lease",
                object_id=name,
                before={"holder": holder, "token": token},
                after={"holder": None, "token": token},
                detail=f"{holder} released {name!r} (token {token}) on shutdown",
            )
            uow.commit()
            return True


class LeaderElection:
    """Tries to lead ``name``: renews every ``ttl / 3`` while leading, looks every ``ttl / 6`` otherwise.

    :meth:`current` is the fence to write under, or None when this process
    does not lead (or its lease ran out locally: a renewal that failed is not
    a tenure). ``on_change`` is called with the new fence (or None) whenever
    leadership changes, from the election's thread.
    """

    def __init__(
        self,
        leases: LeaseService,
        *,
        name: str,
        holder: str,
        ttl: timedelta,
        on_change: Callable[[Fence | None], None] | None = None,
    ) -> None:
        self.leases, self.name, self.holder, self.ttl = leases, name, holder, ttl
        self.on_change = on_change
        self._lease: Lease | None = None
        self._announced: Fence | None = None  # what on_change was last told
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{name}", daemon=True)

    def current(self) -> Fence | None:
        now = self.leases.ctx.clock.now()
        with self._lock:
            lease = self._lease
        return lease.fence() if lease is not None and lease.held_by(self.holder, now) else None

    @property
    def is_leader(self) -> bool:
        return self.current() is not None

    def step(self) -> None:
        """One round: renew, take over, or keep watching. Errors are logged, never raised."""
        was = self.current()
        now = self.leases.ctx.clock.now()
        try:
            seen = self.leases.get(self.name) if was is None else None
            if was is not None or seen is None or not seen.live(now) or seen.holder == self.holder:
                seen = self.leases.acquire(self.name, self.holder, self.ttl)
        except SQLAlchemyError as problem:
            log.warning("lease %s: cannot reach the database (%s)", self.name, type(problem).__name__)
            seen = None
        if seen is not None:
            with self._lock:
                self._lease = seen
        now_fence = self.current()
        announced = self._announced
        if (announced is None) != (now_fence is None) or (announced and now_fence and announced != now_fence):
            self._announced = now_fence
            if now_fence is not None:
                log.info("%s leads %r (token %d)", self.holder, self.name, now_fence.token)
            else:
                log.info("%s no longer leads %r", self.holder, self.name)
            if self.on_change is not None:
                self.on_change(now_fence)

    def demote(self) -> None:
        """Forget the lease now (a write was fenced out): the next round finds out who leads."""
        with self._lock:
            self._lease = None

    def start(self) -> None:
        self.step()
        self._thread.start()

    def stop(self, *, release: bool = True) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        fence = self.current()
        if release and fence is not None:
            try:
                self.leases.release(self.name, self.holder, fence.token)
            except SQLAlchemyError as problem:
                log.warning("lease %s: not released (%s)", self.name, type(problem).__name__)
        self.demote()

    def _loop(self) -> None:
        seconds = self.ttl.total_seconds()
        while not self._stop.wait(seconds / 3 if self.is_leader else seconds / 6):
            self.step()
