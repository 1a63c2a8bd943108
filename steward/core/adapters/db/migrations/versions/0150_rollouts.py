"""shadow and canary rollouts, and the shadow answers they log

A rollout puts a challenger version beside the champion of one deployment:
in shadow it scores the same requests without answering them (its outputs go
to ``shadow_predictions``, keyed on the champion's request id); as a canary it
answers a share of the traffic (those rows are ordinary prediction-log rows
under the challenger's version id). One row per rollout, ended once.

Revision ID: 0150
Revises: 0020
Create Date: 2026-12-07 15:40:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0150"
down_revision = "0020"
branch_labels = None
depends_on = None


def _fk(name: str, target: str, kind: Any, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, kind, sa.ForeignKey(target, ondelete="CASCADE"), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "rollouts",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("pipeline_id", "pipelines.id", sa.Integer()),
        _fk("environment_id", "environments.id", sa.Integer()),
        sa.Column("kind", sa.String(16), nullable=False),
        _fk("challenger_version_id", "pipeline_versions.id", sa.String(32)),
        _fk("champion_version_id", "pipeline_versions.id", sa.String(32)),
        sa.Column("share", sa.Float(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("promotion_request_id", sa.Integer(), nullable=True),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_by", sa.String(200), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_rollouts_deployment", "rollouts", ["environment_id", "pipeline_id", "status"])
    op.create_table(
        "shadow_predictions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        _fk("rollout_id", "rollouts.id", sa.Integer()),
        sa.Column("request_id", sa.String(200), nullable=False),
        sa.Column("version_id", sa.String(32), nullable=False),
        sa.Column("champion_version_id", sa.String(32), nullable=False),
        sa.Column("prediction", sa.Float(), nullable=True),
        sa.Column("champion_prediction", sa.Float(), nullable=True),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("champion_label", sa.String(200), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("rollout_id", "request_id", name="uq_shadow_predictions_request"),
    )


def downgrade() -> None:
    op.drop_table("shadow_predictions")
    op.drop_index("ix_rollouts_deployment", table_name="rollouts")
    op.drop_table("rollouts")
