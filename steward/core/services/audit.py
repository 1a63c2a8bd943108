"""Reading, verifying, checkpointing and exporting the audit log."""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, or_, select

from steward.core.adapters.audit_keys import keyring_for, new_key, save_keyring
from steward.core.adapters.db.mappers.audit import to_stored_event
from steward.core.adapters.db.models import AuditEventRow, AuditHeadRow
from steward.core.config import ensure_writable_dir
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import (
    AuditEvent,
    ChainReport,
    Keyring,
    Outcome,
    StoredEvent,
    format_timestamp,
    verify_chain,
)
from steward.core.domain.checkpoint import Checkpoint
from steward.core.domain.export import to_csv, to_json
from steward.core.domain.permissions import Action
from steward.core.errors import InvalidInput
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork

EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    outcome: str = ""
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""

    def validate(self) -> None:
        """A range is two aware instants, the end after the start; anything else would silently mislead."""
        for field in ("since", "until"):
            moment = getattr(self, field)
            if moment is not None and moment.utcoffset() is None:
                raise InvalidInput(f"{field}: give a time with its time zone (UTC), not a naive one")
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise InvalidInput("until: the end of the time range must come after its start")

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.actor:
            query = query.where(AuditEventRow.actor == self.actor)
        if self.action:
            query = query.where(AuditEventRow.action.startswith(self.action, autoescape=True))
        if self.object_type:
            query = query.where(AuditEventRow.object_type == self.object_type)
        if self.object_id:
            query = query.where(AuditEventRow.object_id == self.object_id)
        if self.outcome:
            query = query.where(AuditEventRow.outcome == self.outcome)
        if self.since:
            query = query.where(AuditEventRow.occurred_at >= self.since)
        if self.until:
            query = query.where(AuditEventRow.occurred_at < self.until)
        if self.text:
            # Literal and case-insensitive on both databases (SQLite's LIKE ignores case, PostgreSQL's
            # does not; a typed % or _ is a character to find, not a wildcard).
            query = query.where(
                or_(
                    AuditEventRow.detail.icontains(self.text, autoescape=True),
                    AuditEventRow.object_id.icontains(self.text, autoescape=True),
                )
            )
        return query


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int


@dataclass(frozen=True)
class VerifyResult:
    chain: ChainReport
    checkpoint: Checkpoint | None
    checkpoint_problem: str = ""
    head_problem: str = ""
    signature_problems: tuple[str, ...] = ()  # approvals that do not stand on their own audit event
    sink_problems: tuple[str, ...] = ()  # checkpoints in the append-only sink the chain no longer matches
    sink_checked: int = 0

    @property
    def ok(self) -> bool:
        return (
            self.chain.ok
            and not self.checkpoint_problem
            and not self.head_problem
            and not self.signature_problems
            and not self.sink_problems
        )

    def summary(self) -> str:
        lines = [self.chain.summary()]
        if not self.chain.ok and self.chain.expected_key:
            lines.append(f"expected a seal under audit key {self.chain.expected_key!r}")
        lines += [f"checkpoint sink MISMATCH: {line}" for line in self.sink_problems]
        if self.sink_checked and not self.sink_problems:
            lines.append(f"matches all {self.sink_checked} checkpoints in the append-only sink")
        lines += [f"signature NOT BACKED by its audit event: {line}" for line in self.signature_problems]
        if self.head_problem:
            lines.append(f"audit head BROKEN: {self.head_problem}")
        if self.checkpoint is None:
            lines.append("no checkpoint to compare with (run `steward audit checkpoint`)")
        elif self.checkpoint_problem:
            lines.append(f"checkpoint MISMATCH: {self.checkpoint_problem}")
        else:
            lines.append(
                f"matches checkpoint #{self.checkpoint.seq} of {format_timestamp(self.checkpoint.created_at)}"
            )
        return "\n".join(lines)


def to_event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        seq=row.seq,
        event_id=row.event_id,
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        outcome=Outcome(row.outcome),
        before=json.loads(row.before_json) if row.before_json else None,
        after=json.loads(row.after_json) if row.after_json else None,
        detail=row.detail,
        source=row.source,
        prev_hash=row.prev_hash,
        hash=row.hash,
        key_id=row.key_id or "",
    )


class AuditService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    @property
    def _key(self) -> bytes:
        return self.ctx.settings.secret_key.get_secret_value().encode("utf-8")

    # ---- reading -----------------------------------------------------------
    def list(
        self, actor: Actor, filters: AuditFilter | None = None, *, limit: int = 100, offset: int = 0
    ) -> AuditPage:
        authz.check(self.ctx, actor, Action.VIEW_AUDIT, what="read the audit log")
        filters = filters or AuditFilter()
        filters.validate()
        with UnitOfWork(self.ctx, write=False) as uow:
            total = uow.session.scalar(filters.apply(select(func.count()).select_from(AuditEventRow))) or 0
            rows = uow.session.scalars(
                filters.apply(select(AuditEventRow))
                .order_by(AuditEventRow.seq.desc())
                .limit(limit)
                .offset(offset)
            )
            return AuditPage([to_event(row) for row in rows], int(total))

    def recent(self, limit: int = 10) -> builtins.list[AuditEvent]:
        """Latest events for overview tiles (callers show only what the viewer may see)."""
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(limit))
            return [to_event(row) for row in rows]

    def distinct_values(self, actor: Actor) -> dict[str, builtins.list[str]]:
        """Choices for the filter boxes."""
        authz.check(self.ctx, actor, Action.VIEW_AUDIT, what="read the audit log")
        with UnitOfWork(self.ctx, write=False) as uow:

            def values(column: Any) -> builtins.list[str]:
                return sorted(v for v in uow.session.scalars(select(column).distinct().limit(1000)) if v)

            return {
                "actor": values(AuditEventRow.actor),
                "action": values(AuditEventRow.action),
                "object_type": values(AuditEventRow.object_type),
            }

    # ---- verification ------------------------------------------------------
    def _iter_stored(self) -> Iterator[StoredEvent]:
        with UnitOfWork(self.ctx, write=False) as uow:
            result = uow.session.execute(
                select(AuditEventRow).order_by(AuditEventRow.seq).execution_options(yield_per=2000)
            )
            for row in result.scalars():
                yield to_stored_event(row)

    def verify(
        self, checkpoint: Checkpoint | None = None, *, use_latest_checkpoint: bool = True
    ) -> VerifyResult:
        """Check every link, the head row, and the newest signed checkpoint outside the database."""
        report = verify_chain(self._iter_stored(), keyring_for(self.ctx.settings))
        head_problem = ""
        with UnitOfWork(self.ctx, write=False) as uow:
            head = uow.session.get(AuditHeadRow, 1)
            if (
                report.ok
                and head is not None
                and (head.seq, head.hash) != (report.head_seq, report.head_hash)
            ):
                head_problem = (
                    f"the head row says #{head.seq} {head.hash[:16]} but the chain ends at "
                    f"#{report.head_seq} {report.head_hash[:16]} (events removed from the end?)"
                )
            if checkpoint is None and use_latest_checkpoint:
                checkpoint = self.latest_checkpoint()
            problem = ""
            if checkpoint is not None:
                problem = self._compare(uow, checkpoint, report)
        from steward.core.services.promotions.integrity import signature_problems  # the promotions room

        signatures = tuple(signature_problems(self.ctx))
        sink = self._sink_entries()
        sink_problems = tuple(self._compare_sink(sink, report))
        return VerifyResult(report, checkpoint, problem, head_problem, signatures, sink_problems, len(sink))

    def _compare(self, uow: UnitOfWork, checkpoint: Checkpoint, report: ChainReport) -> str:
        if not checkpoint.signature_valid(self._key):
            return "the checkpoint's signature is not valid for this secret key (forged or wrong key)"
        row = uow.session.get(AuditEventRow, checkpoint.seq)
        if row is None:
            return (
                f"checkpoint of {format_timestamp(checkpoint.created_at)} recorded event #{checkpoint.seq}, "
                f"but the chain now ends at #{report.head_seq} (truncated)"
            )
        if row.hash != checkpoint.hash:
            return (
                f"event #{checkpoint.seq} has hash {row.hash[:16]} but the checkpoint recorded "
                f"{checkpoint.hash[:16]} (the chain was rewritten)"
            )
        return ""

    # ---- the append-only checkpoint sink ------------------------------------
    def _append_to_sink(self, point: Checkpoint) -> None:
        """One JSON line per checkpoint, appended (O_APPEND): earlier lines are never rewritten by Steward."""
        path = self.ctx.settings.audit_sink
        if path is None:
            return
        ensure_writable_dir(path.parent, "audit sink folder")
        line = json.dumps(json.loads(point.to_json()), separators=(",", ":")) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def _sink_entries(self) -> builtins.list[tuple[int, Checkpoint | None]]:
        """(line number, checkpoint or None when the line is not one) for every line of the sink."""
        path = self.ctx.settings.audit_sink
        if path is None or not path.is_file():
            return []
        entries: builtins.list[tuple[int, Checkpoint | None]] = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    entries.append((number, Checkpoint.from_json(line)))
                except (ValueError, KeyError, TypeError):
                    entries.append((number, None))
        return entries

    def _compare_sink(
        self, entries: builtins.list[tuple[int, Checkpoint | None]], report: ChainReport
    ) -> Iterator[str]:
        """Every checkpoint ever appended must be signed with the secret key and still match the chain."""
        if not entries:
            return
        seqs = [point.seq for _, point in entries if point is not None]
        with UnitOfWork(self.ctx, write=False) as uow:
            query = select(AuditEventRow.seq, AuditEventRow.hash).where(AuditEventRow.seq.in_(set(seqs)))
            hashes = {seq: digest for seq, digest in uow.session.execute(query)}
        for number, point in entries:
            where = f"line {number}"
            if point is None:
                yield f"{where} is not a Steward checkpoint"
            elif not point.signature_valid(self._key):
                yield f"{where} (checkpoint #{point.seq}) is not signed with this secret key (forged?)"
            elif point.seq not in hashes:
                yield f"{where} recorded event #{point.seq}; the chain ends at #{report.head_seq} (truncated)"
            elif hashes[point.seq] != point.hash:
                yield (
                    f"{where}: event #{point.seq} has seal {hashes[point.seq][:16]} but the sink recorded "
                    f"{point.hash[:16]} (the chain was rewritten)"
                )

    # ---- keys ----------------------------------------------------------------
    def rekey(self, actor: Actor, *, rotate: bool = True) -> Keyring:
        """Adopt the unkeyed events written before keyed sealing, and rotate to a new key (audited).

        The upgrade path of a chain that predates keyed seals: its unkeyed
        events must form the chain's start and verify (against the newest
        checkpoint too); the last of them becomes the cut-over
        (``legacy_until``), after which an unkeyed event is refused. With
        ``rotate`` a new random key becomes the active one; old keys stay, so
        the events they sealed still verify. A checkpoint is signed at the end.
        """
        authz.check(self.ctx, actor, Action.CHECKPOINT_AUDIT, what="re-key the audit chain")
        current = keyring_for(self.ctx.settings)
        legacy_end, keyed_seen = 0, False
        for event in self._iter_stored():
            if event.key_id:
                keyed_seen = True
            elif keyed_seen:
                raise InvalidInput(
                    f"{event.describe()} is unkeyed but follows keyed events; it cannot be legacy (forged?)"
                )
            else:
                legacy_end = event.seq
        adopted = Keyring(current.keys, current.active, max(current.legacy_until, legacy_end))
        result = self._verify_with(adopted)
        if not result.ok:
            raise InvalidInput(f"the chain does not verify, so it is not re-keyed:\n{result.summary()}")
        keys, active = dict(adopted.keys), adopted.active
        if rotate:
            active, keys[active] = new_key()
        keyring = Keyring(keys, active, adopted.legacy_until)
        save_keyring(self.ctx.settings, keyring)
        with UnitOfWork(self.ctx) as uow:
            uow.record(
                actor,
                "audit.rekey",
                object_type="audit",
                object_id=active,
                before={"active_key": current.active, "legacy_until": current.legacy_until},
                after={"active_key": active, "legacy_until": keyring.legacy_until, "keys": sorted(keys)},
            )
            uow.commit()
        self.checkpoint(actor)
        return keyring

    def _verify_with(self, keyring: Keyring) -> VerifyResult:
        report = verify_chain(self._iter_stored(), keyring)
        checkpoint = self.latest_checkpoint()
        problem = ""
        if checkpoint is not None:
            with UnitOfWork(self.ctx, write=False) as uow:
                problem = self._compare(uow, checkpoint, report)
        return VerifyResult(report, checkpoint, problem)

    # ---- checkpoints -------------------------------------------------------
    def checkpoint_dir(self) -> Path:
        return self.ctx.settings.resolved_checkpoint_dir

    def checkpoint(self, actor: Actor) -> tuple[Checkpoint, Path]:
        """Sign the current head and write it to a file outside the database (audited)."""
        authz.check(self.ctx, actor, Action.CHECKPOINT_AUDIT, what="checkpoint the audit chain")
        folder = ensure_writable_dir(self.checkpoint_dir(), "checkpoint folder")
        with UnitOfWork(self.ctx) as uow:
            head = uow.session.get(AuditHeadRow, 1, with_for_update=True)
            if head is None:
                raise RuntimeError("audit head row missing; run `steward db upgrade`")
            point = Checkpoint(head.seq, head.hash, self.ctx.clock.now()).signed(self._key)
            stamp = point.created_at.strftime("%Y%m%dT%H%M%S%fZ")
            path = folder / f"audit-checkpoint-{point.seq:012d}-{stamp}.json"
            temporary = path.with_suffix(".tmp")
            temporary.write_text(point.to_json(), encoding="utf-8")
            temporary.replace(path)
            self._append_to_sink(point)
            uow.record(
                actor,
                "audit.checkpoint",
                object_type="audit",
                object_id=str(point.seq),
                after={"seq": point.seq, "hash": point.hash, "file": path.name},
            )
            uow.commit()
        return point, path

    def latest_checkpoint(self) -> Checkpoint | None:
        """The newest checkpoint file with the highest sequence; unreadable files are skipped."""
        folder = self.checkpoint_dir()
        if not folder.is_dir():
            return None
        best: Checkpoint | None = None
        for path in folder.glob("audit-checkpoint-*.json"):
            try:
                point = Checkpoint.from_json(path.read_text(encoding="utf-8"))
            except (OSError, ValueError, KeyError):
                continue
            if best is None or (point.seq, point.created_at) > (best.seq, best.created_at):
                best = point
        return best

    # ---- export ------------------------------------------------------------
    def export(self, actor: Actor, filters: AuditFilter | None = None, *, fmt: str = "csv") -> bytes:
        """CSV (formulas neutralised) or JSON of the filtered events, oldest first; the export is audited."""
        if fmt not in {"csv", "json"}:
            raise InvalidInput(f"unknown export format {fmt!r}; use csv or json")
        authz.check(self.ctx, actor, Action.EXPORT_AUDIT, what="export the audit log")
        filters = filters or AuditFilter()
        filters.validate()
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = list(
                uow.session.scalars(
                    filters.apply(select(AuditEventRow)).order_by(AuditEventRow.seq).limit(EXPORT_LIMIT)
                )
            )
            records = [self._export_record(row) for row in rows]
        with UnitOfWork(self.ctx) as uow:
            uow.record(
                actor,
                "audit.export",
                object_type="audit",
                object_id=fmt,
                detail=f"{len(records)} events; filters: {json.dumps(filters.__dict__, default=str)}",
            )
            uow.commit()
        if fmt == "json":
            return to_json(records)
        header = list(records[0]) if records else list(self._export_record(None))
        return to_csv(header, (list(record.values()) for record in records))

    @staticmethod
    def _export_record(row: AuditEventRow | None) -> dict[str, Any]:
        if row is None:
            keys = [
                "seq",
                "occurred_at",
                "actor",
                "action",
                "object_type",
                "object_id",
                "outcome",
                "before",
                "after",
                "detail",
                "source",
                "event_id",
                "prev_hash",
                "hash",
            ]
            return dict.fromkeys(keys, "")
        return {
            "seq": row.seq,
            "occurred_at": format_timestamp(row.occurred_at),
            "actor": row.actor,
            "action": row.action,
            "object_type": row.object_type,
            "object_id": row.object_id,
            "outcome": row.outcome,
            "before": row.before_json or "",
            "after": row.after_json or "",
            "detail": row.detail,
            "source": row.source,
            "event_id": row.event_id,
            "prev_hash": row.prev_hash,
            "hash": row.hash,
        }
