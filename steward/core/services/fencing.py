"""Fencing: writes made while running a job slot commit only while their leader still holds the lease.

A lease alone cannot stop a leader that was paused (SIGSTOP, a frozen VM, a
long swap storm) past its expiry from waking up and writing as if nothing
happened: by then another worker leads. So each tenure of the lease has a
token that only grows, the job runner sets the token it claimed with as the
thread's *fence* (:func:`fenced`), and every write unit of work committed
under a fence first checks, inside its own transaction, that the lease still
names this holder with this token and has not expired
(:func:`verify_fence`). The check and the write commit together: on SQLite the
transaction holds the write lock from its first statement (BEGIN IMMEDIATE);
on PostgreSQL the lease row is read ``FOR SHARE``, so a takeover (which
updates it) waits for this commit or this check sees the takeover.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import LeaseRow
from steward.core.clock import utc
from steward.core.errors import FencedOut


@dataclass(frozen=True)
class Fence:
    """The lease a write depends on: its name, who holds it and the token of that tenure."""

    lease: str
    holder: str
    token: int


_CURRENT: ContextVar[Fence | None] = ContextVar("steward_fence", default=None)
# A client frozen inside the end of a fenced write still holds the lease row FOR SHARE; PostgreSQL ends
# its session after this long idle, so a takeover waits this much, not forever.
FROZEN_CLIENT_SECONDS = 2.0


def end_if_frozen(session: Session, seconds: float) -> None:
    """On PostgreSQL, have the server end this transaction if its client goes silent inside it.

    A process paused (SIGSTOP) or frozen mid-transaction keeps its row locks;
    ``idle_in_transaction_session_timeout`` (for this transaction only) lets
    the server roll it back and free them. Use it only on short transactions:
    it counts time the client spends between statements. SQLite has no
    server to do this: a process frozen inside a write holds the file's write
    lock, which is one reason several hosts need PostgreSQL.
    """
    if session.get_bind().dialect.name == "postgresql":
        milliseconds = max(1, int(seconds * 1000))
        session.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = {milliseconds}"))


@contextmanager
def fenced(fence: Fence) -> Iterator[Fence]:
    """Every write unit of work this thread commits inside the block is checked against ``fence``."""
    reset = _CURRENT.set(fence)
    try:
        yield fence
    finally:
        _CURRENT.reset(reset)


def current_fence() -> Fence | None:
    return _CURRENT.get()


def verify_fence(session: Session, now: datetime, fence: Fence | None = None) -> None:
    """Raise :class:`FencedOut` unless ``fence`` (default: this thread's) still holds its lease at ``now``."""
    fence = fence or _CURRENT.get()
    if fence is None:
        return
    end_if_frozen(session, FROZEN_CLIENT_SECONDS)
    row = session.get(LeaseRow, fence.lease, with_for_update={"read": True}, populate_existing=True)
    if row is None or row.holder != fence.holder or row.token != fence.token:
        holder = "nobody" if row is None or row.holder is None else f"{row.holder} (token {row.token})"
        raise FencedOut(
            f"lease {fence.lease!r} token {fence.token} of {fence.holder} was superseded "
            f"(now held by {holder}); nothing was written"
        )
    if row.expires_at is None or utc(row.expires_at) <= now:
        raise FencedOut(
            f"lease {fence.lease!r} token {fence.token} of {fence.holder} expired before this write; "
            "nothing was written"
        )
