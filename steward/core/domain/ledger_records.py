"""What the deployment ledger keeps about a promotion, as it was when it executed, as typed values.

The ledger is append-only and a certificate is drawn from it years later, so
these are records, not live objects: a role removed since, a policy changed
since, a version retrained since change nothing here. Each record turns
into the JSON the ledger stores (``to_dict``) and back (``from_dict``);
``from_dict`` reads what older entries wrote as well, and leaves out what it
does not recognise instead of failing, so an old ledger stays readable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from steward.core.domain.roles import Role


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"

    @property
    def done(self) -> str:
        """'approved' or 'rejected', as people read a past decision."""
        return "approved" if self is Decision.APPROVE else "rejected"


def _role(value: object) -> Role | None:
    return Role(value) if isinstance(value, str) and value in Role.__members__.values() else None


def _roles(values: object) -> tuple[Role, ...]:
    found = (_role(v) for v in (values if isinstance(values, (list, tuple)) else ()))
    return tuple(sorted({role for role in found if role is not None}))


def _when(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class PolicyRecord:
    """The sign-off policy and gates in force when an entry was written."""

    environment: str
    required: tuple[tuple[Role, int], ...]
    approval_ttl_hours: float
    auto_execute: bool
    min_metrics: tuple[tuple[str, float], ...]
    max_regression_pct: float | None
    require_load_test: bool
    require_no_critical_alert: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "required": {role.value: count for role, count in self.required},
            "approval_ttl_hours": self.approval_ttl_hours,
            "auto_execute": self.auto_execute,
            "min_metrics": dict(self.min_metrics),
            "max_regression_pct": self.max_regression_pct,
            "require_load_test": self.require_load_test,
            "require_no_critical_alert": self.require_no_critical_alert,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> PolicyRecord | None:
        """None for an entry that recorded no policy (a rollback of something never promoted)."""
        if not data:
            return None
        required = [(_role(k), v) for k, v in _mapping(data.get("required")).items()]
        metrics = _mapping(data.get("min_metrics"))
        return cls(
            environment=str(data.get("environment") or ""),
            required=tuple((role, int(count)) for role, count in required if role is not None),
            approval_ttl_hours=_number(data.get("approval_ttl_hours")) or 0.0,
            auto_execute=bool(data.get("auto_execute")),
            min_metrics=tuple(
                sorted((str(k), float(v)) for k, v in metrics.items() if _number(v) is not None)
            ),
            max_regression_pct=_number(data.get("max_regression_pct")),
            require_load_test=bool(data.get("require_load_test")),
            require_no_critical_alert=bool(data.get("require_no_critical_alert", True)),
        )


@dataclass(frozen=True)
class SignatureRecord:
    """One approval as the ledger keeps it: who, with which roles, when, and the seat it filled (if any)."""

    approver: str
    name: str
    roles: tuple[Role, ...]
    decision: Decision
    comment: str
    decided_at: datetime | None
    artifact_sha256: str
    audit_seq: int | None
    counted_as: Role | None = None
    not_counted_because: str = ""

    @property
    def display_name(self) -> str:
        return self.name or self.approver

    def to_dict(self) -> dict[str, Any]:
        return {
            "approver": self.approver,
            "name": self.name,
            "roles": [role.value for role in self.roles],
            "decision": self.decision.value,
            "comment": self.comment,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "artifact_sha256": self.artifact_sha256,
            "audit_seq": self.audit_seq,
            "counted_as": self.counted_as.value if self.counted_as else None,
            "not_counted_because": self.not_counted_because,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignatureRecord:
        decision = str(data.get("decision") or Decision.APPROVE.value)
        return cls(
            approver=str(data.get("approver") or ""),
            name=str(data.get("name") or ""),
            roles=_roles(data.get("roles")),
            decision=Decision(decision) if decision in Decision.__members__.values() else Decision.APPROVE,
            comment=str(data.get("comment") or ""),
            decided_at=_when(data.get("decided_at")),
            artifact_sha256=str(data.get("artifact_sha256") or ""),
            audit_seq=_integer(data.get("audit_seq")),
            counted_as=_role(data.get("counted_as")),
            not_counted_because=str(data.get("not_counted_because") or ""),
        )


@dataclass(frozen=True)
class VersionSummary:
    """A version as the evidence described it at execution (challenger or the champion it replaced)."""

    version: int
    version_id: str
    estimator: str
    artifact_sha256: str
    spec_digest: str
    data_digest: str
    data_rows: int
    holdout_rows: int
    metrics: Mapping[str, float | None]
    trained_by: str
    trained_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "version_id": self.version_id,
            "estimator": self.estimator,
            "artifact_sha256": self.artifact_sha256,
            "spec_digest": self.spec_digest,
            "data_digest": self.data_digest,
            "data_rows": self.data_rows,
            "holdout_rows": self.holdout_rows,
            "metrics": dict(self.metrics),
            "trained_by": self.trained_by,
            "trained_at": self.trained_at.isoformat() if self.trained_at else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> VersionSummary | None:
        if not data:
            return None
        return cls(
            version=_integer(data.get("version")) or 0,
            version_id=str(data.get("version_id") or ""),
            estimator=str(data.get("estimator") or ""),
            artifact_sha256=str(data.get("artifact_sha256") or ""),
            spec_digest=str(data.get("spec_digest") or ""),
            data_digest=str(data.get("data_digest") or ""),
            data_rows=_integer(data.get("data_rows")) or 0,
            holdout_rows=_integer(data.get("holdout_rows")) or 0,
            metrics={str(k): _number(v) for k, v in _mapping(data.get("metrics")).items()},
            trained_by=str(data.get("trained_by") or ""),
            trained_at=_when(data.get("trained_at")),
        )

    def metric(self, name: str) -> float | None:
        return self.metrics.get(name)


@dataclass(frozen=True)
class EvidenceSnapshot:
    """What the reviewers were shown, frozen into the ledger entry of the promotion they approved."""

    primary_metric: str
    same_holdout: bool
    challenger: VersionSummary | None
    champion: VersionSummary | None
    signoff_holds_until: datetime | None
    path: tuple[tuple[str, datetime], ...]
    requested_by: str
    requested_at: datetime | None

    def metric_names(self) -> tuple[str, ...]:
        """The primary metric first, then the others by name."""
        metrics = self.challenger.metrics if self.challenger else {}
        if self.primary_metric in metrics:
            return (self.primary_metric, *sorted(k for k in metrics if k != self.primary_metric))
        return tuple(sorted(metrics))

    def to_dict(self) -> dict[str, Any]:
        return {
            "primary_metric": self.primary_metric,
            "same_holdout": self.same_holdout,
            "challenger": self.challenger.to_dict() if self.challenger else None,
            "champion": self.champion.to_dict() if self.champion else None,
            "signoff_holds_until": self.signoff_holds_until.isoformat() if self.signoff_holds_until else None,
            "path": [[name, at.isoformat()] for name, at in self.path],
            "requested_by": self.requested_by,
            "requested_at": self.requested_at.isoformat() if self.requested_at else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> EvidenceSnapshot | None:
        """None for entries that are not promotions (a rollback stores what it restores instead)."""
        if not data or "primary_metric" not in data:
            return None
        path: list[tuple[str, datetime]] = []
        for step in data.get("path") or ():
            if isinstance(step, Sequence) and len(step) == 2 and (at := _when(step[1])) is not None:
                path.append((str(step[0]), at))
        return cls(
            primary_metric=str(data.get("primary_metric") or ""),
            same_holdout=bool(data.get("same_holdout")),
            challenger=VersionSummary.from_dict(_mapping(data.get("challenger"))),
            champion=VersionSummary.from_dict(_mapping(data.get("champion"))),
            signoff_holds_until=_when(data.get("signoff_holds_until")),
            path=tuple(path),
            requested_by=str(data.get("requested_by") or ""),
            requested_at=_when(data.get("requested_at")),
        )


@dataclass(frozen=True)
class RestoreRecord:
    """What a rollback or fail-over entry restored, and which promotion's approvals it carries."""

    restores_entry: int
    approved_in_entry: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"restores_entry": self.restores_entry, "approved_in_entry": self.approved_in_entry}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RestoreRecord | None:
        restores = _integer((data or {}).get("restores_entry"))
        if restores is None:
            return None
        return cls(restores, _integer((data or {}).get("approved_in_entry")))


@dataclass(frozen=True)
class RocCurve:
    """A hold-out ROC curve (at most about a hundred points), as training recorded it."""

    fpr: tuple[float, ...]
    tpr: tuple[float, ...]

    @classmethod
    def from_chart(cls, data: object) -> RocCurve | None:
        """The ``roc`` entry of a version's chart data; None when it has none (regressors) or it is empty."""
        chart = _mapping(data)
        fpr, tpr = chart.get("fpr"), chart.get("tpr")
        if not isinstance(fpr, list) or not isinstance(tpr, list) or not fpr or len(fpr) != len(tpr):
            return None
        return cls(tuple(float(x) for x in fpr), tuple(float(y) for y in tpr))
