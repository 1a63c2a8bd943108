"""monitors can be paused and removed

A paused monitor (``enabled`` false) records who paused it and when; a removed
one keeps its row, so its batch runs, windows and audit events stay, but it
leaves every page and is never run again. The one-monitor-per-target rule now
holds for live monitors only, so a removed target can be watched afresh.

Revision ID: 0170
Revises: 0020
Create Date: 2026-12-07 15:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0170"
down_revision = "0130"
branch_labels = None
depends_on = None

LIVE = sa.text("removed_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("monitors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("paused_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("removed_by", sa.String(length=200), nullable=True))
        batch_op.drop_constraint("uq_monitors_target", type_="unique")
    op.create_index(
        "uq_monitors_live_target",
        "monitors",
        ["pipeline_id", "environment_id", "dataset"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    op.execute("DELETE FROM monitors WHERE removed_at IS NOT NULL")
    op.drop_index("uq_monitors_live_target", table_name="monitors")
    with op.batch_alter_table("monitors", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_monitors_target", ["pipeline_id", "environment_id", "dataset"])
        batch_op.drop_column("removed_by")
        batch_op.drop_column("removed_at")
        batch_op.drop_column("paused_by")
        batch_op.drop_column("paused_at")
