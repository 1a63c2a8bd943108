"""The audit chain: each event carries the seal of the one before it.

The seal is an HMAC-SHA256 of a canonical JSON rendering of the stored fields
under an audit key kept *outside* the database (:class:`Keyring`), and each
event stores the id of the key that sealed it, so keys can rotate while old
events still verify. Editing, deleting, inserting or reordering rows breaks a
link; appending or re-chaining events needs the key, which a database writer
does not have. Truncating the tail is caught against a signed checkpoint kept
outside the database (see :mod:`steward.core.domain.checkpoint`).

Events written before keyed sealing existed carry no key id and a plain
SHA-256; they verify only up to the keyring's recorded cut-over
(``legacy_until``), so a forger cannot append "legacy" events after it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
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
    key_id: str = ""


@dataclass(frozen=True)
class Keyring:
    """The audit keys (id -> secret), the one new events are sealed with, and the legacy cut-over.

    ``legacy_until``: the last event that may be sealed without a key (written
    before keyed sealing); 0 for a chain keyed from its first event.
    """

    keys: Mapping[str, bytes]
    active: str
    legacy_until: int = 0

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise ValueError(f"the active audit key {self.active!r} is not in the keyring")

    @property
    def active_key(self) -> bytes:
        return self.keys[self.active]


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
    key: bytes | None = None,
    key_id: str = "",
) -> str:
    """The event's seal, chained to ``prev_hash``: HMAC-SHA256 under ``key`` (its id sealed too).

    Without a key this is the legacy unkeyed SHA-256 that events written
    before the keyed chain carry.
    """
    fields: dict[str, Any] = {
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
    if key is None:
        return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()
    fields["key_id"] = key_id
    return hmac.new(key, canonical_json(fields).encode("utf-8"), hashlib.sha256).hexdigest()


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
    key_id: str = ""  # empty: sealed before keyed sealing existed (legacy SHA-256)

    def recomputed_hash(self, key: bytes | None = None) -> str:
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
            key=key,
            key_id=self.key_id if key is not None else "",
        )

    def _sealed_by(self, key_id: str, key: bytes) -> bool:
        return hmac.compare_digest(replace(self, key_id=key_id).recomputed_hash(key), self.hash)

    def seal_problem(self, keyring: Keyring | None) -> str:
        """Why this event's seal does not verify (empty when it does), naming the key it expected.

        ``keyring`` None checks only the legacy unkeyed hash (a chain read
        without its keys proves nothing against a database writer).
        """
        if keyring is None:
            return (
                ""
                if self.recomputed_hash() == self.hash
                else f"{self.describe()} was altered: its content no longer matches its hash"
            )
        if not self.key_id:
            # A key id lost to a schema downgrade below 0060: still sealed by one of the keys.
            if any(self._sealed_by(key_id, key) for key_id, key in keyring.keys.items()):
                return ""
            if self.seq > keyring.legacy_until:
                cut = f"#{keyring.legacy_until}" if keyring.legacy_until else "the chain's start"
                return (
                    f"{self.describe()} has no key id (an unkeyed SHA-256 seal) but comes after the keyed "
                    f"cut-over at {cut}; expected a seal under key {keyring.active!r}"
                )
            if self.recomputed_hash() != self.hash:
                return f"{self.describe()} was altered: its content no longer matches its (legacy) hash"
            return ""
        key = keyring.keys.get(self.key_id)
        if key is None:
            known = ", ".join(sorted(keyring.keys))
            return f"{self.describe()} names audit key {self.key_id!r}, which is not in the keyring ({known})"
        if not hmac.compare_digest(self.recomputed_hash(key), self.hash):
            return (
                f"{self.describe()} was altered or forged: its seal does not verify under key {self.key_id!r}"
            )
        return ""

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
    expected_key: str = ""  # the key id the first bad event should have verified under

    def summary(self) -> str:
        if self.ok:
            head = f"head #{self.head_seq} {self.head_hash[:16]}"
            return f"audit chain intact: {self.events_checked} events, {head}"
        return f"audit chain BROKEN at event #{self.first_bad_seq}: {self.problem}"


def verify_chain(events: Iterable[StoredEvent], keyring: Keyring | None = None) -> ChainReport:
    """Walk the events in ``seq`` order and report the first broken link.

    Edits show as a seal that no longer verifies; deletions as a gap in the
    sequence or a ``prev_hash`` that points at nothing; insertions and
    reorderings as a ``prev_hash`` that names another event; events appended
    or re-chained without the key as a seal that does not verify under the
    key they name (or as unkeyed events after the cut-over).
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
        problem = event.seal_problem(keyring)
        if problem:
            expected = ""
            if keyring is not None:
                expected = event.key_id if event.key_id in keyring.keys else keyring.active
            return ChainReport(False, count, expected_seq - 1, prev_hash, event.seq, problem, expected)
        prev_hash, expected_seq = event.hash, expected_seq + 1
    return ChainReport(True, count, expected_seq - 1, prev_hash)
