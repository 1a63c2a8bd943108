"""Promotions and deployments as plain data: requests, approvals, what serves where, and the ledger.

A request moves through these states; only ``pending`` ever changes:

    pending --approve--> pending (one more signature)
    pending --reject (with a comment)--> rejected
    pending --execute (policy satisfied, gates passed, artifact intact)--> executed
    pending --withdraw (by the requester)--> withdrawn
    pending --another version starts serving in the same place--> superseded

"Approved" is not stored: approvals expire and people lose roles, so whether
a request may execute is decided afresh, at the moment it is asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from steward.core.domain.gates import GatePolicy, GateResult, GateStatus
from steward.core.domain.head_to_head import HeadToHead
from steward.core.domain.ledger_records import (
    Decision,
    EvidenceSnapshot,
    PolicyRecord,
    RestoreRecord,
    RocCurve,
    SignatureRecord,
    VersionSummary,
)
from steward.core.domain.permissions import Tier
from steward.core.domain.roles import Role
from steward.core.domain.signoff import PolicyResult, SignoffPolicy

__all__ = [
    "Approval",
    "ApprovalsBoard",
    "Certificate",
    "Decision",
    "Deployment",
    "EnvironmentPolicy",
    "Evidence",
    "EvidenceSnapshot",
    "LedgerEntry",
    "LedgerKind",
    "MetricRow",
    "PolicyRecord",
    "PromotionRequest",
    "RequestStatus",
    "RestoreRecord",
    "RocCurve",
    "SignatureRecord",
    "VersionFacts",
    "VersionSummary",
    "awaits",
    "certificate_file_name",
    "default_policy",
    "path_problem",
]


class RequestStatus(StrEnum):
    PENDING = "pending"
    REJECTED = "rejected"
    EXECUTED = "executed"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"


class LedgerKind(StrEnum):
    PROMOTION = "promotion"
    ROLLBACK = "rollback"
    FAILOVER = "failover"
    FAILBACK = "failback"  # back to the primary a fail-over replaced


@dataclass(frozen=True)
class EnvironmentPolicy:
    """Everything an environment asks of a promotion: sign-offs and gates."""

    environment_id: int
    environment: str
    tier: Tier
    signoff: SignoffPolicy
    gates: GatePolicy
    updated_at: datetime | None = None
    updated_by: str = ""
    version: int = 0

    def record(self) -> PolicyRecord:
        """What the ledger keeps about the policy in force."""
        return PolicyRecord(
            environment=self.environment,
            required=self.signoff.required,
            approval_ttl_hours=round(self.signoff.approval_ttl.total_seconds() / 3600, 3),
            auto_execute=self.signoff.auto_execute,
            min_metrics=self.gates.min_metrics,
            max_regression_pct=self.gates.max_regression_pct,
            require_load_test=self.gates.require_load_test,
            require_no_critical_alert=self.gates.require_no_critical_alert,
        )

    def snapshot(self) -> dict[str, Any]:
        """What the audit log records about a policy (the ledger's record, as JSON)."""
        return self.record().to_dict()


@dataclass(frozen=True)
class Approval:
    id: int
    request_id: int
    approver: str
    approver_name: str
    roles: frozenset[Role]
    decision: Decision
    comment: str
    decided_at: datetime
    version_id: str
    artifact_sha256: str
    environment_id: int
    audit_seq: int | None
    voided_roles: frozenset[Role] = frozenset()  # roles this signature no longer counts for, for good
    void_reason: str = ""  # set once no role is left: the signature is void and stays void

    @property
    def standing_roles(self) -> frozenset[Role]:
        """The roles signed with that have not been voided since."""
        return self.roles - self.voided_roles

    def record(self, counted_as: Role | None = None, not_counted_because: str = "") -> SignatureRecord:
        """As the ledger and the certificate keep it, with the seat it filled at execution."""
        return SignatureRecord(
            approver=self.approver,
            name=self.approver_name,
            roles=tuple(sorted(self.roles)),
            decision=self.decision,
            comment=self.comment,
            decided_at=self.decided_at,
            artifact_sha256=self.artifact_sha256,
            audit_seq=self.audit_seq,
            counted_as=counted_as,
            not_counted_because="" if counted_as else not_counted_because,
        )


@dataclass(frozen=True)
class PromotionRequest:
    id: int
    pipeline_id: int
    pipeline_name: str
    version_id: str
    version_number: int
    environment_id: int
    environment_name: str
    tier: Tier
    artifact_sha256: str
    champion_version_id: str | None
    champion_number: int | None
    status: RequestStatus
    requested_by: str
    requested_by_name: str
    reason: str
    requested_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    close_comment: str
    audit_seq: int | None
    version: int
    approvals: tuple[Approval, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.pipeline_name} v{self.version_number} to {self.environment_name}"

    @property
    def open(self) -> bool:
        return self.status is RequestStatus.PENDING

    @property
    def executed(self) -> bool:
        return self.status is RequestStatus.EXECUTED

    @property
    def signers(self) -> tuple[str, ...]:
        """Display names of everyone who approved (counted or not), in the order they signed."""
        return tuple(a.approver_name for a in self.approvals if a.decision is Decision.APPROVE)

    def summary(self) -> dict[str, Any]:
        return {
            "request": self.id,
            "pipeline": self.pipeline_name,
            "version": self.version_number,
            "version_id": self.version_id,
            "environment": self.environment_name,
            "artifact_sha256": self.artifact_sha256,
            "champion_version": self.champion_number,
            "status": self.status.value,
        }


@dataclass(frozen=True)
class Deployment:
    """What serves for one pipeline in one environment, the armed fallback, since when, by whose decision."""

    environment_id: int
    environment_name: str
    tier: Tier
    pipeline_id: int
    pipeline_name: str
    version_id: str
    version_number: int
    artifact_sha256: str
    fallback_version_id: str | None
    fallback_number: int | None
    since: datetime
    decided_by: str
    approved_by: tuple[str, ...]
    ledger_entry_id: int
    request_id: int | None
    version: int
    kind: LedgerKind = LedgerKind.PROMOTION  # how the version serving now got there

    @property
    def on_fallback(self) -> bool:
        """Serving the fallback after a fail-over: failing back restores the primary."""
        return self.kind is LedgerKind.FAILOVER and self.fallback_version_id is not None


@dataclass(frozen=True)
class LedgerEntry:
    """One change of what serves; append-only. ``ended_at`` is when the next entry replaced it."""

    id: int
    environment_id: int
    environment_name: str
    tier: Tier
    pipeline_id: int
    pipeline_name: str
    version_id: str
    version_number: int
    previous_version_id: str | None
    previous_number: int | None
    kind: LedgerKind
    request_id: int | None
    rollback_to_entry_id: int | None
    actor: str
    actor_name: str
    reason: str
    occurred_at: datetime
    artifact_sha256: str
    data_digest: str
    policy: PolicyRecord | None
    approvals: tuple[SignatureRecord, ...]
    gates: tuple[GateResult, ...]
    evidence: EvidenceSnapshot | None  # a promotion's; None for a rollback or a fail-over
    audit_seq: int | None
    ended_at: datetime | None = None
    restores: RestoreRecord | None = None  # a rollback's or a fail-over's

    @property
    def label(self) -> str:
        return f"v{self.version_number}"

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(a.display_name for a in self.approvals)

    @property
    def counted_signers(self) -> tuple[tuple[str, Role], ...]:
        """Who filled a seat of the policy, and which."""
        return tuple((a.display_name, a.counted_as) for a in self.approvals if a.counted_as is not None)


@dataclass(frozen=True)
class VersionFacts:
    """What a reviewer needs to know about one version, champion or challenger."""

    version_id: str
    number: int
    estimator: str
    artifact_sha256: str
    spec_digest: str
    data_digest: str
    data_rows: int
    holdout_rows: int
    metrics: Mapping[str, float | None]
    trained_by: str
    trained_at: datetime
    source: str
    code_version: str | None
    roc: RocCurve | None = None

    @property
    def label(self) -> str:
        return f"v{self.number}"

    def summary(self) -> VersionSummary:
        """What the ledger keeps about this version when a promotion executes."""
        return VersionSummary(
            version=self.number,
            version_id=self.version_id,
            estimator=self.estimator,
            artifact_sha256=self.artifact_sha256,
            spec_digest=self.spec_digest,
            data_digest=self.data_digest,
            data_rows=self.data_rows,
            holdout_rows=self.holdout_rows,
            metrics=dict(self.metrics),
            trained_by=self.trained_by,
            trained_at=self.trained_at,
        )


@dataclass(frozen=True)
class MetricRow:
    metric: str
    challenger: float | None
    champion: float | None
    higher_is_better: bool

    @property
    def delta(self) -> float | None:
        if self.challenger is None or self.champion is None:
            return None
        return self.challenger - self.champion

    @property
    def better(self) -> bool | None:
        delta = self.delta
        if delta is None or delta == 0:
            return None
        return delta > 0 if self.higher_is_better else delta < 0


@dataclass(frozen=True)
class Evidence:
    """Gathered automatically for a request: what a reviewer reads before signing."""

    request: PromotionRequest
    policy: EnvironmentPolicy
    challenger: VersionFacts
    champion: VersionFacts | None
    primary_metric: str
    same_holdout: bool
    metric_rows: tuple[MetricRow, ...]
    gates: tuple[GateResult, ...]
    signoff: PolicyResult
    path: tuple[tuple[str, datetime], ...]  # earlier environments where it served, and since when
    artifact_ok: bool | None = None  # None: not checked on this read
    head_to_head: HeadToHead | None = None  # challenger and champion scored on the same production rows

    @property
    def gates_passed(self) -> bool:
        return all(gate.status is GateStatus.PASSED for gate in self.gates)

    @property
    def failing_gates(self) -> tuple[GateResult, ...]:
        return tuple(gate for gate in self.gates if gate.status is not GateStatus.PASSED)

    def snapshot(self) -> EvidenceSnapshot:
        """What the ledger keeps of this evidence when the request executes."""
        return EvidenceSnapshot(
            primary_metric=self.primary_metric,
            same_holdout=self.same_holdout,
            challenger=self.challenger.summary(),
            champion=self.champion.summary() if self.champion else None,
            signoff_holds_until=self.signoff.holds_until,
            path=self.path,
            requested_by=self.request.requested_by,
            requested_at=self.request.requested_at,
        )

    def signature_records(self) -> tuple[SignatureRecord, ...]:
        """Every approval of the request, with the seat it fills now or why it does not count."""
        counted, ignored = dict(self.signoff.counted), dict(self.signoff.ignored)
        return tuple(
            a.record(counted.get(a.approver), ignored.get(a.approver, ""))
            for a in self.request.approvals
            if a.decision is Decision.APPROVE
        )

    @property
    def ready(self) -> bool:
        return self.request.open and self.signoff.satisfied and self.gates_passed

    def blockers(self) -> list[str]:
        """Why it cannot execute now, in plain words (empty when it can)."""
        reasons: list[str] = []
        if not self.request.open:
            reasons.append(f"the request is {self.request.status.value}")
            return reasons
        if not self.signoff.satisfied:
            reasons.append("still needs sign-off from " + self.signoff.describe_missing())
        reasons.extend(
            f"gate '{gate.title}' is {gate.status.value}: {gate.detail}" for gate in self.failing_gates
        )
        return reasons


def awaits(evidence: Evidence, username: str, roles: frozenset[Role]) -> bool:
    """Does this pending request wait for ``username``'s signature?

    Only when they did not ask for it, have not already filled a seat, and hold
    a role the policy still needs.
    """
    return (
        evidence.request.open
        and evidence.request.requested_by != username
        and username not in {name for name, _ in evidence.signoff.counted}
        and bool(roles & evidence.signoff.missing_roles())
    )


@dataclass(frozen=True)
class ApprovalsBoard:
    """The Approvals page in one read: what waits for this person, what is ready, what they decided.

    ``signing_roles``: the approver roles the person holds now; ``waiting``:
    pending requests that need one of them; ``ready``: requests signed off with
    every gate passed that the person may deploy; ``others``: every other
    pending request; ``decisions``: what they approved or rejected (newest
    first) with the request as it stands; ``certificates``: executed request id
    -> the ledger entry whose release certificate can be downloaded.
    """

    username: str
    signing_roles: frozenset[Role]
    waiting: tuple[Evidence, ...]
    ready: tuple[Evidence, ...]
    others: tuple[Evidence, ...]
    decisions: tuple[tuple[PromotionRequest, Approval], ...]
    certificates: Mapping[int, LedgerEntry]

    @property
    def signs(self) -> bool:
        return bool(self.signing_roles)

    @property
    def own_requests_waiting(self) -> bool:
        """Some request in flight is this person's own (it waits for others)."""
        return any(e.request.requested_by == self.username for e in self.others)

    def other(self, request_id: int) -> Evidence | None:
        return next((e for e in self.others if e.request.id == request_id), None)


def path_problem(ordered_environments: Sequence[tuple[int, str]], target_id: int, served_in: set[int]) -> str:
    """A version reaches an environment only through the one before it. Empty string: allowed.

    ``ordered_environments``: (id, name) by position; ``served_in``: ids of the
    environments where the version has ever served (from the ledger).
    """
    ids = [env_id for env_id, _ in ordered_environments]
    if target_id not in ids:
        return "unknown environment"
    index = ids.index(target_id)
    if index == 0:
        return ""
    before_id, before_name = ordered_environments[index - 1]
    if before_id in served_in:
        return ""
    return f"it has never served in {before_name}, the environment before"


@dataclass(frozen=True)
class Certificate:
    """The release certificate of one executed promotion: everything it binds, as recorded then."""

    entry: LedgerEntry
    request: PromotionRequest
    challenger: VersionFacts
    champion: VersionFacts | None
    pipeline_owner: str
    audit: tuple[tuple[int, str, str, str, str], ...]  # seq, action, actor, occurred_at ISO, hash
    issued_at: datetime
    chain_ok: bool
    mismatches: tuple[str, ...] = ()  # signatures that do not stand on their own audit events


def default_policy(tier: Tier) -> tuple[SignoffPolicy, GatePolicy]:
    """What a new install (or a new environment of that tier) starts with; admins change it on the Admin page.

    Dev deploys itself on request; Test needs a second data scientist; Prod
    needs a data scientist, a business stakeholder and a risk officer, and
    metric floors a bank would expect. The load test is not required until
    the scoring service exists.
    """
    hours = timedelta(hours=72)
    if tier is Tier.DEV:
        return SignoffPolicy((), hours, auto_execute=True), GatePolicy(require_no_critical_alert=True)
    if tier is Tier.TEST:
        return (
            SignoffPolicy(((Role.DATA_SCIENTIST, 1),), hours),
            GatePolicy(max_regression_pct=2.0, require_no_critical_alert=True),
        )
    return (
        SignoffPolicy(
            ((Role.DATA_SCIENTIST, 1), (Role.BUSINESS_STAKEHOLDER, 1), (Role.RISK_OFFICER, 1)),
            timedelta(hours=48),
        ),
        GatePolicy(
            min_metrics=(("r2", 0.6), ("roc_auc", 0.7)),
            max_regression_pct=1.0,
            require_load_test=False,
            require_no_critical_alert=True,
        ),
    )


def certificate_file_name(entry: LedgerEntry, extension: str) -> str:
    """A safe, telling file name for a release certificate."""

    def clean(text: str) -> str:
        return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in text)[:60]

    return (
        f"release-certificate-{clean(entry.pipeline_name)}-v{entry.version_number}-"
        f"{clean(entry.environment_name)}-{entry.id}.{clean(extension)}"
    )
