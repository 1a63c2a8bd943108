"""prediction log indexes for what the readers ask: failing requests a partial index, slowest ones covered

The log's write cost is one B-tree insert per index per row. The failing
requests index held every row only to find the few with ``status = 'error'``;
it is now partial (errors only), so an ``ok`` row no longer pays for it. The
served index gains ``latency_ms`` after ``scored_at``, so Service health's
slowest requests in a window are found and ordered from the index alone.

Revision ID: 0190
Revises: 0020
Create Date: 2026-12-07 15:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0190"
down_revision = "0160"
branch_labels = None
depends_on = None

ERRORS = sa.text("status = 'error'")


def upgrade() -> None:
    op.drop_index("ix_predictions_failed", table_name="predictions")
    op.drop_index("ix_predictions_served", table_name="predictions")
    op.create_index(
        "ix_predictions_served", "predictions", ["pipeline_id", "environment_id", "scored_at", "latency_ms"]
    )
    op.create_index(
        "ix_predictions_failed",
        "predictions",
        ["pipeline_id", "environment_id", "scored_at"],
        sqlite_where=ERRORS,
        postgresql_where=ERRORS,
    )


def downgrade() -> None:
    op.drop_index("ix_predictions_failed", table_name="predictions")
    op.drop_index("ix_predictions_served", table_name="predictions")
    op.create_index("ix_predictions_served", "predictions", ["pipeline_id", "environment_id", "scored_at"])
    op.create_index(
        "ix_predictions_failed", "predictions", ["pipeline_id", "environment_id", "status", "scored_at"]
    )
