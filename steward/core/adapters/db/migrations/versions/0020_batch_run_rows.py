"""batch runs count rows in, scored and rejected, and keep a failure's error

A bad row no longer fails a whole batch: it is set aside with its reasons,
and the run records how many rows came in, were scored and were rejected,
with a sample of the rejected rows. A run is ``running`` while it works (so a
process killed mid-run leaves a record), then ``succeeded``, ``partial`` or
``failed``; a failure keeps its one-line error and, for operators, the
traceback. Each monitor gets a threshold on the rejected share past which the
run fails. Earlier ``ok`` runs become ``succeeded``.

Revision ID: 0020
Revises: 0090
Create Date: 2026-12-07 11:35:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0090"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batch_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rows_in", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("rows_rejected", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("rejected_sample", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("traceback", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("dataset_changed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("monitors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_rejected_share", sa.Float(), nullable=False, server_default="0.1"))
    op.execute("UPDATE batch_runs SET status = 'succeeded' WHERE status = 'ok'")
    op.execute("UPDATE batch_runs SET rows_in = rows")


def downgrade() -> None:
    op.execute("UPDATE batch_runs SET status = 'ok' WHERE status IN ('succeeded', 'partial')")
    op.execute("UPDATE batch_runs SET status = 'failed' WHERE status = 'running'")
    with op.batch_alter_table("monitors", schema=None) as batch_op:
        batch_op.drop_column("max_rejected_share")
    with op.batch_alter_table("batch_runs", schema=None) as batch_op:
        batch_op.drop_column("dataset_changed")
        batch_op.drop_column("traceback")
        batch_op.drop_column("error")
        batch_op.drop_column("rejected_sample")
        batch_op.drop_column("rows_rejected")
        batch_op.drop_column("rows_in")
