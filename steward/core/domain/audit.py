"""The audit chain: each event carries the hash of the one before it.

Hashing is over a canonical JSON rendering of the stored fields, so the chain
can be re-verified from the database alone, by anyone, with ``hashlib``.
Editing, deleting, inserting or reordering rows breaks a link; truncating the
tail or recomputing the whole chain is caught against a signed checkpoint
kept outside the database (see :mod:`steward.core.domain.checkpoint`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from steward.core.clock import utc

GENESIS_HASH = "0" * 64


class Outcome(StrEnum):
    OK = "ok"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    event_id: str
    occurred_at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    outcome: Outcome
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    detail: str
    source: str
    prev_hash: str
    hash: str


def canonical_json(value: Any) -> str:
    """Stable JSON: sorted keys, no spaces, UTF-8 kept, datetimes as ISO strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "value"):  # enums
        return value.value
    raise TypeError(f"cannot put {type(value).__name__} into an audit event")


def format_timestamp(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_hash(
    *,
    seq: int,
    event_id: str,
    occurred_at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    outcome: str,
    before_json: str | None,
    after_json: str | None,
    detail: str,
    source: str,
    prev_hash: str,
) -> str:
    """SHA-256 of the event's canonical form, chained to ``prev_hash``."""
    payload = canonical_json(
        {
            "seq": seq,
            "event_id": event_id,
            "occurred_at": format_timestamp(occurred_at),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "outcome": str(outcome),
            "before": before_json,
            "after": after_json,
            "detail": detail,
            "source": source,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredEvent:
    """An audit row exactly as stored (JSON kept as text), which is what the hash covers."""

    seq: int
    event_id: str
    occurred_at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    outcome: str
    before_json: str | None
    after_json: str | None
    detail: str
    source: str
    prev_hash: str
    hash: str

    def recomputed_hash(self) -> str:
        return compute_hash(
            seq=self.seq,
            event_id=self.event_id,
            occurred_at=self.occurred_at,
            actor=self.actor,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            outcome=self.outcome,
            before_json=self.before_json,
            after_json=self.after_json,
            detail=self.detail,
            source=self.source,
            prev_hash=self.prev_hash,
        )

    def describe(self) -> str:
        return f"event #{self.seq} ({self.action} by {self.actor} at {format_timestamp(self.occurred_at)})"


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""

    def summary(self) -> str:
        if self.ok:
            head = f"head #{self.head_seq} {self.head_hash[:16]}"
            return f"audit chain intact: {self.events_checked} events, {head}"
        return f"audit chain BROKEN at event #{self.first_bad_seq}: {self.problem}"


def verify_chain(events: Iterable[StoredEvent]) -> ChainReport:
    """Walk the events in ``seq`` order and report the first broken link.

    Edits show as a hash that no longer matches; deletions as a gap in the
    sequence or a ``prev_hash`` that points at nothing; insertions and
    reorderings as a ``prev_hash`` that names another event.
    """
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    for event in events:
        count += 1
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                missing = (
                    f"#{expected_seq}"
                    if event.seq == expected_seq + 1
                    else f"#{expected_seq}..#{event.seq - 1}"
                )
                problem = f"event {missing} is missing: the chain jumps to {event.describe()}"
                return ChainReport(False, count, expected_seq - 1, prev_hash, expected_seq, problem)
            problem = f"{event.describe()} is out of order (expected #{expected_seq})"
            return ChainReport(False, count, expected_seq - 1, prev_hash, event.seq, problem)
        if event.prev_hash != prev_hash:
            problem = (
                f"{event.describe()} does not follow the event before it (inserted, reordered or deleted)"
            )
            return ChainReport(False, count, expected_seq - 1, prev_hash, event.seq, problem)
        if event.recomputed_hash() != event.hash:
            problem = f"{event.describe()} was altered: its content no longer matches its hash"
            return ChainReport(False, count, expected_seq - 1, prev_hash, event.seq, problem)
        prev_hash, expected_seq = event.hash, expected_seq + 1
    return ChainReport(True, count, expected_seq - 1, prev_hash)
