"""Approval rows (signatures and rejections) to :class:`Approval`."""

from __future__ import annotations

from collections.abc import Iterable

from steward.core.adapters.db.models import PromotionApprovalRow
from steward.core.domain.promotions import Approval, Decision
from steward.core.domain.roles import Role


def known_roles(values: Iterable[object]) -> frozenset[Role]:
    """Roles by name, leaving out names no longer known."""
    known = Role.__members__.values()
    return frozenset(Role(v) for v in values if isinstance(v, str) and v in known)


def to_approval(row: PromotionApprovalRow) -> Approval:
    return Approval(
        id=row.id,
        request_id=row.request_id,
        approver=row.approver,
        approver_name=row.approver_name or row.approver,
        roles=known_roles(row.roles or ()),
        decision=Decision(row.decision),
        comment=row.comment,
        decided_at=row.decided_at,
        version_id=row.version_id,
        artifact_sha256=row.artifact_sha256,
        environment_id=row.environment_id,
        audit_seq=row.audit_seq,
        voided_roles=known_roles(row.voided_roles or ()),
        void_reason=row.void_reason or "",
    )


def role_values(roles: Iterable[Role]) -> list[str]:
    """What an approval row stores: the approver roles held when signing, sorted."""
    return sorted(role.value for role in roles)
