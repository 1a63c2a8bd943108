"""Sign-off policies, promotion requests and approvals, the deployment pointers and their ledger.

The pointer (``deployments``, one row per environment and pipeline) and the
request carry a version column: SQLAlchemy adds ``WHERE version = :seen`` to
every update, so an execution that raced another, or came from a stale page,
updates nothing and fails instead of overwriting. The ledger and the
approvals are append-only.

Structured values (roles, the policy's seats and floors, the ledger's
records) are JSON columns: SQLAlchemy encodes and decodes them, ``JSON`` on
PostgreSQL, text holding JSON on SQLite; the columns keep their ``*_json`` names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from steward.core.adapters.db.models.base import Base, UTCDateTime

SEQ = BigInteger().with_variant(Integer, "sqlite")


class SignoffPolicyRow(Base):
    """One per environment: who signs, for how long a signature holds, which gates apply."""

    __tablename__ = "signoff_policies"

    environment_id: Mapped[int] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True
    )
    required: Mapped[dict[str, int]] = mapped_column("required_json", JSON)  # {"risk_officer": 1, ...}
    approval_ttl_hours: Mapped[int] = mapped_column(Integer)
    auto_execute: Mapped[bool] = mapped_column(Boolean, default=False)
    min_metrics: Mapped[dict[str, float]] = mapped_column("min_metrics_json", JSON, default=dict)
    max_regression_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    require_load_test: Mapped[bool] = mapped_column(Boolean, default=False)
    require_no_critical_alert: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative API


class PromotionRequestRow(Base):
    __tablename__ = "promotion_requests"
    __table_args__ = (Index("ix_promotion_requests_target", "environment_id", "pipeline_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="RESTRICT"))
    version_id: Mapped[str] = mapped_column(
        ForeignKey("pipeline_versions.id", ondelete="RESTRICT"), index=True
    )
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    champion_version_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_by_name: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    close_comment: Mapped[str] = mapped_column(Text, default="")
    audit_seq: Mapped[int | None] = mapped_column(SEQ, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative API


class PromotionApprovalRow(Base):
    """A signature (or a rejection), bound to the artifact digest, version and environment it was for."""

    __tablename__ = "promotion_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("promotion_requests.id", ondelete="CASCADE"), index=True
    )
    approver: Mapped[str] = mapped_column(String(64), index=True)
    approver_name: Mapped[str] = mapped_column(String(200), default="")
    roles: Mapped[list[str]] = mapped_column("roles_json", JSON)
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version_id: Mapped[str] = mapped_column(String(32))
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    environment_id: Mapped[int] = mapped_column(Integer)
    audit_seq: Mapped[int | None] = mapped_column(SEQ, nullable=True)
    # A signature's voiding is a state, written when the approver loses a role or is deactivated: it
    # stays void when the role comes back. ``voided_roles``: roles it no longer counts for.
    voided_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    void_reason: Mapped[str] = mapped_column(Text, default="")


class PolicyChangeRow(Base):
    """A proposed change that lowers a production policy: it waits for a second admin (four eyes)."""

    __tablename__ = "policy_changes"
    __table_args__ = (Index("ix_policy_changes_pending", "environment_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    base_version: Mapped[int] = mapped_column(Integer)  # the policy version it was proposed against
    proposed: Mapped[dict[str, Any]] = mapped_column(JSON)  # the policy as it would be
    lowers: Mapped[list[str]] = mapped_column(JSON)  # what it makes easier, one line each
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    proposed_by: Mapped[str] = mapped_column(String(200))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    audit_seq: Mapped[int | None] = mapped_column(SEQ, nullable=True)


class DeploymentRow(Base):
    """The pointer: which version serves one pipeline in one environment, and the armed fallback."""

    __tablename__ = "deployments"
    __table_args__ = (
        UniqueConstraint("environment_id", "pipeline_id", name="uq_deployments_environment_pipeline"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="RESTRICT"))
    version_id: Mapped[str] = mapped_column(ForeignKey("pipeline_versions.id", ondelete="RESTRICT"))
    fallback_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("pipeline_versions.id", ondelete="RESTRICT"), nullable=True
    )
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str] = mapped_column(String(200))
    ledger_entry_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative API


class LedgerEntryRow(Base):
    """What started serving where, when, by whose decision and why; never updated."""

    __tablename__ = "deployment_ledger"
    __table_args__ = (Index("ix_deployment_ledger_target", "environment_id", "pipeline_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="RESTRICT"))
    version_id: Mapped[str] = mapped_column(
        ForeignKey("pipeline_versions.id", ondelete="RESTRICT"), index=True
    )
    previous_version_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("promotion_requests.id", ondelete="RESTRICT"), nullable=True
    )
    rollback_to_entry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(200))
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    data_digest: Mapped[str] = mapped_column(String(64))
    policy: Mapped[dict[str, Any]] = mapped_column("policy_json", JSON, default=dict)
    approvals: Mapped[list[dict[str, Any]]] = mapped_column("approvals_json", JSON, default=list)
    gates: Mapped[list[dict[str, Any]]] = mapped_column("gates_json", JSON, default=list)
    evidence: Mapped[dict[str, Any]] = mapped_column("evidence_json", JSON, default=dict)
    audit_seq: Mapped[int | None] = mapped_column(SEQ, nullable=True)
