"""Whose signature counts now: signers' approver roles as they stand today, and the policy's verdict.

A signature counts with the roles held when signing *and still held*, so
deactivating someone or removing their role voids their pending signatures.
Everyone's roles are read together: a request with five signatures costs the
same few statements as one with none.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.approvals import known_roles
from steward.core.domain.permissions import APPROVERS
from steward.core.domain.promotions import Decision, EnvironmentPolicy, PromotionRequest
from steward.core.domain.roles import Role
from steward.core.domain.signoff import Binding, PolicyResult, Signature, evaluate_policy
from steward.core.services.roles_lookup import session_groups


def approver_roles_now(db: Session, usernames: Collection[str]) -> dict[str, frozenset[Role]]:
    """username -> approver roles today: none once deactivated; SSO roles as their last sign-in mapped them.

    People missing from the answer hold none.
    """
    users = [u for u in queries.users_by_name(db, usernames).values() if u.active]
    sessions = queries.latest_sessions(db, [u.id for u in users])
    groups = {u.id: session_groups(sessions.get(u.id)) for u in users}
    mapped = queries.roles_by_group(db, {g for names in groups.values() for g in names})
    result = {}
    for user in users:
        local = known_roles(r.role for r in user.roles)
        via_groups = known_roles(role for g in groups[user.id] for role in mapped.get(g, ()))
        result[user.username] = (local | via_groups) & APPROVERS
    return result


def signers_of(requests: Collection[PromotionRequest]) -> set[str]:
    """Everyone whose approval of these requests the policy will weigh."""
    return {a.approver for r in requests for a in r.approvals if a.decision is Decision.APPROVE}


def signoff_now(
    request: PromotionRequest,
    policy: EnvironmentPolicy,
    roles_now: Mapping[str, frozenset[Role]],
    now: datetime,
) -> PolicyResult:
    """Does the request have the sign-offs its environment's policy asks for, at ``now``?"""
    signatures = [
        Signature(
            a.approver,
            a.roles & roles_now.get(a.approver, frozenset()),
            a.decided_at,
            Binding(a.version_id, a.artifact_sha256, a.environment_id),
        )
        for a in request.approvals
        if a.decision is Decision.APPROVE
    ]
    return evaluate_policy(
        policy.signoff,
        request.requested_by,
        signatures,
        now,
        subject=Binding(request.version_id, request.artifact_sha256, request.environment_id),
    )
