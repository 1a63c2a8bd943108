"""Rules about the rules: a floor under production policies, and which changes need a second admin.

One admin alone must not be able to open Prod: a prod-tier environment
always asks for at least two people besides the requester (the floor, also
enforced when signatures are counted, whatever the stored policy says), and a
change that makes a production policy easier to satisfy is only a proposal
until a second admin approves it (four eyes on the rules). Making a policy
stricter takes effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from steward.core.domain.gates import GatePolicy
from steward.core.domain.metrics import higher_is_better, metric_phrase
from steward.core.domain.permissions import APPROVERS, Tier
from steward.core.domain.roles import Role
from steward.core.domain.signoff import SignoffPolicy, role_phrase
from steward.core.errors import InvalidInput

PRODUCTION_FLOOR = 2  # distinct people besides the requester
CHANGE_VALIDITY = timedelta(days=7)  # a proposal nobody approved in a week lapses


class ChangeStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"


def check_floor(tier: Tier, signoff: SignoffPolicy) -> None:
    """Refuse a production policy that would let fewer than two people besides the requester decide."""
    if tier is Tier.PROD and len(signoff.seats) < PRODUCTION_FLOOR:
        raise InvalidInput(
            f"a production environment needs sign-off from at least {PRODUCTION_FLOOR} people besides the "
            f"requester; this policy asks for {signoff.describe()}"
        )


def roles_that_may_sign(tier: Tier, signoff: SignoffPolicy) -> frozenset[Role]:
    """The roles whose signature a request here can use: the policy's, and any approver's under the floor."""
    if tier is Tier.PROD and len(signoff.seats) < PRODUCTION_FLOOR:
        return APPROVERS
    return frozenset(signoff.counts)


def lowerings(
    before_signoff: SignoffPolicy, before_gates: GatePolicy, signoff: SignoffPolicy, gates: GatePolicy
) -> list[str]:
    """What the new policy makes easier than the old one, one line each (empty: nothing)."""
    lines: list[str] = []
    old, new = before_signoff.counts, signoff.counts
    for role in sorted(set(old) | set(new), key=lambda r: list(Role).index(r)):
        if new.get(role, 0) < old.get(role, 0):
            lines.append(
                f"sign-off from {role_phrase(role, old[role])} becomes "
                + (role_phrase(role, new[role]) if new.get(role) else "none")
            )
    if signoff.auto_execute and not before_signoff.auto_execute:
        lines.append("it would deploy itself once signed off (auto-execute)")
    if signoff.approval_ttl > before_signoff.approval_ttl:
        lines.append(
            f"signatures hold {_hours(signoff.approval_ttl)} instead of {_hours(before_signoff.approval_ttl)}"
        )
    old_floors, new_floors = dict(before_gates.min_metrics), dict(gates.min_metrics)
    for name, value in old_floors.items():
        if name not in new_floors:
            lines.append(f"the {metric_phrase(name)} threshold ({value:g}) is removed")
        elif (new_floors[name] < value) if higher_is_better(name) else (new_floors[name] > value):
            lines.append(f"the {metric_phrase(name)} threshold goes from {value:g} to {new_floors[name]:g}")
    old_reg, new_reg = before_gates.max_regression_pct, gates.max_regression_pct
    if old_reg is not None and (new_reg is None or new_reg > old_reg):
        lines.append(
            f"the allowed regression against the serving version goes from {old_reg:g} % to "
            + ("no limit" if new_reg is None else f"{new_reg:g} %")
        )
    if before_gates.require_load_test and not gates.require_load_test:
        lines.append("a passed load test is no longer required")
    if before_gates.require_no_critical_alert and not gates.require_no_critical_alert:
        lines.append("open critical alerts would no longer block")
    return lines


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} h"


@dataclass(frozen=True)
class PolicyChange:
    """A proposal to lower a production policy, waiting for a second admin (or decided)."""

    id: int
    environment_id: int
    environment: str
    base_version: int
    signoff: SignoffPolicy
    gates: GatePolicy
    lowers: tuple[str, ...]
    reason: str
    status: ChangeStatus
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    comment: str
    audit_seq: int | None

    @property
    def pending(self) -> bool:
        return self.status is ChangeStatus.PENDING

    @property
    def expires_at(self) -> datetime:
        return self.proposed_at + CHANGE_VALIDITY

    def summary(self) -> dict[str, Any]:
        return {
            "change": self.id,
            "environment": self.environment,
            "lowers": list(self.lowers),
            "proposed_by": self.proposed_by,
            "status": self.status.value,
        }
