"""Voiding signatures when their approver loses a role: a state written once, never revived.

A pending request's signature counts only for roles its approver still
holds. When a role goes (an admin removes it, the account is deactivated, an
SSO group mapping is removed or the identity provider stops sending a group),
the lost roles are written onto the signature in the same transaction as the
change that lost them, and audited. Giving the role back later does not bring
the signature back: the approver signs again if they still agree.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.approvals import known_roles, role_values
from steward.core.adapters.db.models import PromotionApprovalRow, PromotionRequestRow
from steward.core.domain.accounts import Actor
from steward.core.domain.promotions import Decision, RequestStatus
from steward.core.domain.roles import Role
from steward.core.domain.signoff import join_phrases
from steward.core.services.promotions.signers import approver_roles_now
from steward.core.services.uow import UnitOfWork


def void_lapsed_signatures(uow: UnitOfWork, actor: Actor, usernames: Collection[str] | None = None) -> int:
    """Write the roles signers no longer hold onto their pending signatures (all signers, or these).

    Returns how many signatures changed; each change is an audit event in the caller's transaction.
    """
    db = uow.session
    query = (
        select(PromotionApprovalRow)
        .join(PromotionRequestRow, PromotionRequestRow.id == PromotionApprovalRow.request_id)
        .where(
            PromotionRequestRow.status == RequestStatus.PENDING.value,
            PromotionApprovalRow.decision == Decision.APPROVE.value,
            PromotionApprovalRow.voided_at.is_(None),
        )
        .order_by(PromotionApprovalRow.id)
    )
    if usernames is not None:
        if not usernames:
            return 0
        query = query.where(PromotionApprovalRow.approver.in_(list(usernames)))
    rows = list(db.scalars(query))
    if not rows:
        return 0
    approvers = {row.approver for row in rows}
    held = approver_roles_now(db, approvers)
    active = {name for name, user in queries.users_by_name(db, approvers).items() if user.active}
    changed = 0
    for row in rows:
        already = known_roles(row.voided_roles or ())
        standing = known_roles(row.roles or ()) - already
        lost = standing - held.get(row.approver, frozenset())
        if not lost:
            continue
        row.voided_roles = role_values(already | lost)
        void = not standing - lost
        reason = _reason(row.approver, lost, deactivated=row.approver not in active)
        if void:
            row.voided_at, row.void_reason = uow.ctx.clock.now(), reason
        db.flush()
        uow.record(
            actor,
            "promotion.signature_voided" if void else "promotion.signature_narrowed",
            object_type="promotion_request",
            object_id=str(row.request_id),
            after={
                "approval": row.id,
                "approver": row.approver,
                "roles_no_longer_counted": role_values(lost),
                "still_counts_for": role_values(standing - lost),
            },
            detail=reason,
        )
        changed += 1
    return changed


def _reason(approver: str, lost: frozenset[Role], *, deactivated: bool) -> str:
    if deactivated:
        return f"void: {approver} was deactivated after signing"
    roles = join_phrases([role.label.lower() for role in sorted(lost)])
    return f"void: {approver} no longer holds the {roles} role they signed as"
