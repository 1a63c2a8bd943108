"""fallback rule sets: versioned declarative tables a deployment may arm as its fallback

Each edit of a deployment's rule set is a new row of ``rule_sets`` (never
updated); ``rule_set_arms`` names the version a deployment falls back to and
whether a fail-over made it answer every request.

Revision ID: 0140
Revises: 0020
Create Date: 2026-12-07 15:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0140"
down_revision = "0190"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_sets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "environment_id",
            sa.Integer(),
            sa.ForeignKey("environments.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column(
            "pipeline_id", sa.Integer(), sa.ForeignKey("pipelines.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body_json", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("environment_id", "pipeline_id", "number", name="uq_rule_sets_deployment_number"),
    )
    op.create_table(
        "rule_set_arms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "environment_id",
            sa.Integer(),
            sa.ForeignKey("environments.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column(
            "pipeline_id", sa.Integer(), sa.ForeignKey("pipelines.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column(
            "rule_set_id", sa.Integer(), sa.ForeignKey("rule_sets.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("armed_by", sa.String(200), nullable=False),
        sa.Column("armed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("engaged", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("engaged_by", sa.String(200), nullable=True),
        sa.Column("engaged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.UniqueConstraint("environment_id", "pipeline_id", name="uq_rule_set_arms_deployment"),
    )


def downgrade() -> None:
    op.drop_table("rule_set_arms")
    op.drop_table("rule_sets")
