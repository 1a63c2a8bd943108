"""accounts name the person behind them

Two accounts of one person (a local account and the one an SSO sign-in
created) must fill one sign-off seat, and neither may approve the other's
requests. ``person_id`` is the id of the account that stands for the person;
empty when the account is its own person.

Revision ID: 0061
Revises: 0060
Create Date: 2026-12-07 11:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0061"
down_revision = "0060"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_users_person_id", ["person_id"])


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_person_id")
        batch_op.drop_column("person_id")
