"""promotions: sign-off policies, requests, approvals, deployments, ledger

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 23:14:57.708780
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signoff_policies",
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("required_json", sa.Text(), nullable=False),
        sa.Column("approval_ttl_hours", sa.Integer(), nullable=False),
        sa.Column("auto_execute", sa.Boolean(), nullable=False),
        sa.Column("min_metrics_json", sa.Text(), nullable=False),
        sa.Column("max_regression_pct", sa.Float(), nullable=True),
        sa.Column("require_load_test", sa.Boolean(), nullable=False),
        sa.Column("require_no_critical_alert", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_signoff_policies_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("environment_id", name=op.f("pk_signoff_policies")),
    )
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("fallback_version_id", sa.String(length=32), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_deployments_environment_id_environments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["fallback_version_id"],
            ["pipeline_versions.id"],
            name=op.f("fk_deployments_fallback_version_id_pipeline_versions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_deployments_pipeline_id_pipelines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["pipeline_versions.id"],
            name=op.f("fk_deployments_version_id_pipeline_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
        sa.UniqueConstraint("environment_id", "pipeline_id", name="uq_deployments_environment_pipeline"),
    )
    op.create_table(
        "promotion_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.Column("champion_version_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_by_name", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("close_comment", sa.Text(), nullable=False),
        sa.Column("audit_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_promotion_requests_environment_id_environments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_promotion_requests_pipeline_id_pipelines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["pipeline_versions.id"],
            name=op.f("fk_promotion_requests_version_id_pipeline_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_requests")),
    )
    with op.batch_alter_table("promotion_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promotion_requests_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_promotion_requests_target", ["environment_id", "pipeline_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_promotion_requests_version_id"), ["version_id"], unique=False)

    op.create_table(
        "deployment_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("previous_version_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("rollback_to_entry_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.Column("data_digest", sa.String(length=64), nullable=False),
        sa.Column("policy_json", sa.Text(), nullable=False),
        sa.Column("approvals_json", sa.Text(), nullable=False),
        sa.Column("gates_json", sa.Text(), nullable=False),
        sa.Column("evidence_json", sa.Text(), nullable=False),
        sa.Column("audit_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_deployment_ledger_environment_id_environments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_deployment_ledger_pipeline_id_pipelines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["promotion_requests.id"],
            name=op.f("fk_deployment_ledger_request_id_promotion_requests"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["pipeline_versions.id"],
            name=op.f("fk_deployment_ledger_version_id_pipeline_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_ledger")),
    )
    with op.batch_alter_table("deployment_ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deployment_ledger_target", ["environment_id", "pipeline_id", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_deployment_ledger_version_id"), ["version_id"], unique=False)

    op.create_table(
        "promotion_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("approver", sa.String(length=64), nullable=False),
        sa.Column("approver_name", sa.String(length=200), nullable=False),
        sa.Column("roles_json", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("audit_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["promotion_requests.id"],
            name=op.f("fk_promotion_approvals_request_id_promotion_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_approvals")),
    )
    with op.batch_alter_table("promotion_approvals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promotion_approvals_approver"), ["approver"], unique=False)
        batch_op.create_index(batch_op.f("ix_promotion_approvals_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("promotion_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promotion_approvals_request_id"))
        batch_op.drop_index(batch_op.f("ix_promotion_approvals_approver"))

    op.drop_table("promotion_approvals")
    with op.batch_alter_table("deployment_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deployment_ledger_version_id"))
        batch_op.drop_index("ix_deployment_ledger_target")

    op.drop_table("deployment_ledger")
    with op.batch_alter_table("promotion_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promotion_requests_version_id"))
        batch_op.drop_index("ix_promotion_requests_target")
        batch_op.drop_index(batch_op.f("ix_promotion_requests_status"))

    op.drop_table("promotion_requests")
    op.drop_table("deployments")
    op.drop_table("signoff_policies")
