"""monitor runs keep a high-water mark of the log, and labelled windows their answers

A monitor run now reads only the prediction-log rows logged since the
monitor's last successful run. The run stores how far it read (``log_mark``,
the largest log id it has seen) and the ids below that mark it has not seen
yet (``log_gaps``: on PostgreSQL a smaller id can commit later), plus the
digest of the labels it joined. A window of a labelled monitor keeps the
request ids and answers of its rows (``outputs``), so realised performance is
recomputed when labels change without reading the log again. Earlier runs get
mark 0: the first run after the upgrade reads the log once more.

Revision ID: 0130
Revises: 0020
Create Date: 2026-12-07 15:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0130"
down_revision = "0150"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batch_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("log_mark", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("log_gaps", sa.Text(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("labels_sha256", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("drift_windows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outputs", sa.LargeBinary(), nullable=True))
    op.create_index("ix_batch_runs_monitor_started", "batch_runs", ["monitor_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_batch_runs_monitor_started", table_name="batch_runs")
    with op.batch_alter_table("drift_windows", schema=None) as batch_op:
        batch_op.drop_column("outputs")
    with op.batch_alter_table("batch_runs", schema=None) as batch_op:
        batch_op.drop_column("labels_sha256")
        batch_op.drop_column("log_gaps")
        batch_op.drop_column("log_mark")
