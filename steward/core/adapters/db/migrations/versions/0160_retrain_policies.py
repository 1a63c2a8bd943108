"""retrain policies per pipeline and the retrain runs they start

Revision ID: 0160
Revises: 0020
Create Date: 2026-12-07 15:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0160"
down_revision = "0170"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retrain_policies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "pipeline_id", sa.Integer(), sa.ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "environment_id",
            sa.Integer(),
            sa.ForeignKey("environments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("dataset", sa.String(100), nullable=False),
        sa.Column("labels", sa.String(100), nullable=True),
        sa.Column("id_column", sa.String(200), nullable=True),
        sa.Column("drift_windows", sa.Integer(), nullable=True),
        sa.Column("metric", sa.String(32), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("every_hours", sa.Integer(), nullable=True),
        sa.Column(
            "request_to_id",
            sa.Integer(),
            sa.ForeignKey("environments.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_retrain_policies_pipeline_id", "retrain_policies", ["pipeline_id"], unique=True)
    op.create_table(
        "retrain_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "policy_id",
            sa.Integer(),
            sa.ForeignKey("retrain_policies.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("slot", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence_window_id", sa.Integer(), nullable=True),
        sa.Column("version_id", sa.String(32), nullable=True),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("promotion_request_id", sa.Integer(), nullable=True),
        sa.Column("promotion_note", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("policy_id", "slot", name="uq_retrain_runs_policy_slot"),
    )
    op.create_index("ix_retrain_runs_policy_id", "retrain_runs", ["policy_id"])


def downgrade() -> None:
    op.drop_index("ix_retrain_runs_policy_id", table_name="retrain_runs")
    op.drop_table("retrain_runs")
    op.drop_index("ix_retrain_policies_pipeline_id", table_name="retrain_policies")
    op.drop_table("retrain_policies")
