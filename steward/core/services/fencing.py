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
