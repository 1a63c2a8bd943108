"""head-to-head comparisons of a challenger and the champion on the same rows

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "version_comparisons",
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
        sa.Column(
            "challenger_version_id",
            sa.String(32),
            sa.ForeignKey("pipeline_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "champion_version_id",
            sa.String(32),
            sa.ForeignKey("pipeline_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("dataset", sa.String(100), nullable=False),
        sa.Column("dataset_sha256", sa.String(64), nullable=False),
        sa.Column("labels", sa.String(100), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("rows_rule", sa.Text(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("compared_by", sa.String(200), nullable=False),
        sa.Column("compared_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_version_comparisons_pair",
        "version_comparisons",
        ["challenger_version_id", "champion_version_id", "environment_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_version_comparisons_pair", table_name="version_comparisons")
    op.drop_table("version_comparisons")
