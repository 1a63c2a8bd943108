"""request rollups per minute and hour, the rollup job's mark, SLA states, and the log's window indexes

Revision ID: 0110
Revises: 0050
Create Date: 2026-12-07 11:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0110"
down_revision = "0050"
branch_labels = None
depends_on = None

LOG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "request_rollups",
        sa.Column("id", LOG_ID, nullable=False),
        sa.Column("span_seconds", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("fallbacks", sa.Integer(), nullable=False),
        sa.Column("latency_count", sa.Integer(), nullable=False),
        sa.Column("latency_sum_ms", sa.Float(), nullable=False),
        sa.Column("latency_max_ms", sa.Float(), nullable=True),
        sa.Column("histogram_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_request_rollups_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_request_rollups_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_rollups")),
        sa.UniqueConstraint(
            "span_seconds",
            "environment_id",
            "pipeline_id",
            "version_id",
            "channel",
            "start",
            name="uq_request_rollups_key",
        ),
    )
    op.create_index(
        "ix_request_rollups_deployment",
        "request_rollups",
        ["environment_id", "pipeline_id", "span_seconds", "start"],
    )
    op.create_table(
        "rollup_marks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_id", LOG_ID, nullable=False),
        sa.Column("gaps_json", sa.Text(), nullable=False),
        sa.Column("rows_read", LOG_ID, nullable=False),
        sa.Column("late_rows", LOG_ID, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rollup_marks")),
    )
    op.create_table(
        "sla_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("measured_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_sla_states_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_sla_states_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_states")),
        sa.UniqueConstraint("environment_id", "pipeline_id", name="uq_sla_states_deployment"),
    )
    op.create_index("ix_predictions_served", "predictions", ["pipeline_id", "environment_id", "scored_at"])
    op.create_index(
        "ix_predictions_failed", "predictions", ["pipeline_id", "environment_id", "status", "scored_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_predictions_failed", table_name="predictions")
    op.drop_index("ix_predictions_served", table_name="predictions")
    op.drop_table("sla_states")
    op.drop_table("rollup_marks")
    op.drop_index("ix_request_rollups_deployment", table_name="request_rollups")
    op.drop_table("request_rollups")
