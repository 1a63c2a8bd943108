"""Deployment pointers and ledger rows to entities, and the ledger's typed records to its JSON columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from steward.core.adapters.db.mappers.json_values import decoded
from steward.core.adapters.db.models import DeploymentRow, EnvironmentRow, LedgerEntryRow
from steward.core.domain.gates import GateResult
from steward.core.domain.permissions import Tier
from steward.core.domain.promotions import (
    Deployment,
    EvidenceSnapshot,
    LedgerEntry,
    LedgerKind,
    PolicyRecord,
    RestoreRecord,
    SignatureRecord,
)


def signature_records(row: LedgerEntryRow | None) -> tuple[SignatureRecord, ...]:
    if row is None:
        return ()
    values = decoded(row.approvals, [])
    return tuple(SignatureRecord.from_dict(a) for a in values if isinstance(a, Mapping))


def policy_record(row: LedgerEntryRow | None) -> PolicyRecord | None:
    return PolicyRecord.from_dict(decoded(row.policy, {})) if row is not None else None


def to_entry(
    row: LedgerEntryRow,
    env: EnvironmentRow,
    pipeline_name: str,
    numbers: Mapping[str, int],
    ended_at: datetime | None = None,
) -> LedgerEntry:
    """``numbers``: version id -> number; ``ended_at``: when the next entry for the same place replaced it."""
    evidence = decoded(row.evidence, {})
    return LedgerEntry(
        id=row.id,
        environment_id=env.id,
        environment_name=env.name,
        tier=Tier(env.tier),
        pipeline_id=row.pipeline_id,
        pipeline_name=pipeline_name,
        version_id=row.version_id,
        version_number=numbers.get(row.version_id, 0),
        previous_version_id=row.previous_version_id,
        previous_number=numbers.get(row.previous_version_id) if row.previous_version_id else None,
        kind=LedgerKind(row.kind),
        request_id=row.request_id,
        rollback_to_entry_id=row.rollback_to_entry_id,
        actor=row.actor,
        actor_name=row.actor_name or row.actor,
        reason=row.reason,
        occurred_at=row.occurred_at,
        artifact_sha256=row.artifact_sha256,
        data_digest=row.data_digest,
        policy=policy_record(row),
        approvals=signature_records(row),
        gates=tuple(GateResult.from_dict(g) for g in decoded(row.gates, [])),
        evidence=EvidenceSnapshot.from_dict(evidence),
        audit_seq=row.audit_seq,
        ended_at=ended_at,
        restores=RestoreRecord.from_dict(evidence),
    )


def ledger_columns(
    *,
    policy: PolicyRecord | None,
    approvals: Sequence[SignatureRecord],
    gates: Sequence[GateResult],
    evidence: EvidenceSnapshot | RestoreRecord | None,
) -> dict[str, Any]:
    """The JSON columns of a new ledger row."""
    return {
        "policy": policy.to_dict() if policy is not None else {},
        "approvals": [a.to_dict() for a in approvals],
        "gates": [gate.to_dict() for gate in gates],
        "evidence": evidence.to_dict() if evidence is not None else {},
    }


def to_deployment(
    pointer: DeploymentRow,
    env: EnvironmentRow,
    pipeline_name: str,
    numbers: Mapping[str, int],
    artifact_sha256: str,
    entry: LedgerEntryRow | None,
) -> Deployment:
    """``entry``: the ledger row that put the serving version there (its approvals are the pointer's)."""
    return Deployment(
        environment_id=env.id,
        environment_name=env.name,
        tier=Tier(env.tier),
        pipeline_id=pointer.pipeline_id,
        pipeline_name=pipeline_name,
        version_id=pointer.version_id,
        version_number=numbers.get(pointer.version_id, 0),
        artifact_sha256=artifact_sha256,
        fallback_version_id=pointer.fallback_version_id,
        fallback_number=numbers.get(pointer.fallback_version_id) if pointer.fallback_version_id else None,
        since=pointer.since,
        decided_by=entry.actor_name if entry is not None else pointer.decided_by,
        approved_by=tuple(a.display_name for a in signature_records(entry)),
        ledger_entry_id=pointer.ledger_entry_id,
        request_id=entry.request_id if entry is not None else None,
        version=pointer.version,
        kind=LedgerKind(entry.kind) if entry is not None else LedgerKind.PROMOTION,
    )
