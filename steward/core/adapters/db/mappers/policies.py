"""Sign-off policy rows to :class:`EnvironmentPolicy` and back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from steward.core.adapters.db.models import EnvironmentRow, PolicyChangeRow, SignoffPolicyRow
from steward.core.domain.gates import GatePolicy
from steward.core.domain.permissions import Tier
from steward.core.domain.policy_rules import ChangeStatus, PolicyChange
from steward.core.domain.promotions import EnvironmentPolicy, default_policy
from steward.core.domain.roles import Role
from steward.core.domain.signoff import SignoffPolicy

_ROLES = frozenset(Role.__members__.values())


def to_policy(env: EnvironmentRow, row: SignoffPolicyRow | None) -> EnvironmentPolicy:
    """The stored policy, or the tier's default for an environment that has none yet (version 0)."""
    tier = Tier(env.tier)
    if row is None:
        signoff, gates = default_policy(tier)
        return EnvironmentPolicy(env.id, env.name, tier, signoff, gates)
    known = Role.__members__.values()
    required = {Role(k): int(v) for k, v in (row.required or {}).items() if k in known}
    signoff = SignoffPolicy.build(
        required, approval_ttl=timedelta(hours=row.approval_ttl_hours), auto_execute=row.auto_execute
    )
    gates = GatePolicy.build(
        row.min_metrics or {},
        max_regression_pct=row.max_regression_pct,
        require_load_test=row.require_load_test,
        require_no_critical_alert=row.require_no_critical_alert,
    )
    return EnvironmentPolicy(
        env.id, env.name, tier, signoff, gates, row.updated_at, row.updated_by, row.version
    )


def fill_policy_row(
    row: SignoffPolicyRow, signoff: SignoffPolicy, gates: GatePolicy, *, updated_by: str, updated_at: datetime
) -> SignoffPolicyRow:
    """Write a policy into its row (new or existing); the row's version column counts the changes."""
    row.required = {role.value: count for role, count in signoff.required}
    row.approval_ttl_hours = int(signoff.approval_ttl.total_seconds() // 3600)
    row.auto_execute = signoff.auto_execute
    row.min_metrics = dict(gates.min_metrics)
    row.max_regression_pct = gates.max_regression_pct
    row.require_load_test = gates.require_load_test
    row.require_no_critical_alert = gates.require_no_critical_alert
    row.updated_at = updated_at
    row.updated_by = updated_by
    return row


def policy_from_snapshot(snapshot: Mapping[str, Any]) -> tuple[SignoffPolicy, GatePolicy]:
    """A policy as :meth:`EnvironmentPolicy.snapshot` wrote it, back into its rules."""
    required = {Role(k): int(v) for k, v in dict(snapshot.get("required") or {}).items() if k in _ROLES}
    signoff = SignoffPolicy.build(
        required,
        approval_ttl=timedelta(hours=float(snapshot.get("approval_ttl_hours") or 0)),
        auto_execute=bool(snapshot.get("auto_execute")),
    )
    floors = snapshot.get("min_metrics") or {}
    gates = GatePolicy.build(
        {str(k): float(v) for k, v in dict(floors).items()},
        max_regression_pct=snapshot.get("max_regression_pct"),
        require_load_test=bool(snapshot.get("require_load_test")),
        require_no_critical_alert=bool(snapshot.get("require_no_critical_alert")),
    )
    return signoff, gates


def to_policy_change(row: PolicyChangeRow, env: EnvironmentRow) -> PolicyChange:
    signoff, gates = policy_from_snapshot(row.proposed)
    return PolicyChange(
        id=row.id,
        environment_id=env.id,
        environment=env.name,
        base_version=row.base_version,
        signoff=signoff,
        gates=gates,
        lowers=tuple(str(line) for line in row.lowers or ()),
        reason=row.reason,
        status=ChangeStatus(row.status),
        proposed_by=row.proposed_by,
        proposed_at=row.proposed_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        comment=row.comment,
        audit_seq=row.audit_seq,
    )
