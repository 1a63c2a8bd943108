"""online requests in the prediction log: latency, outcome and who answered

The scoring service writes to the same log as batch runs so that drift and
SLA monitors judge one stream. A batch row leaves ``latency_ms`` empty; an
online row records how long the answer took, whether it succeeded and
whether the fallback (an earlier version or a rule set) served it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 10:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latency_ms", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="ok"))
        batch_op.add_column(sa.Column("fallback", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_column("fallback")
        batch_op.drop_column("status")
        batch_op.drop_column("latency_ms")
