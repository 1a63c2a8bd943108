"""data sets belong to an environment

Production and labels data sets record the environment their rows come from,
so who may train on them follows that environment's tier instead of a
self-declared one. Existing production and labels data sets are assigned to
the highest environment (Prod in the defaults): the strictest reading of data
whose origin was never recorded. Training data sets stay without one.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 11:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("environment_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_datasets_environment", "environments", ["environment_id"], ["id"], ondelete="RESTRICT"
        )
    op.execute(
        "UPDATE datasets SET environment_id = "
        "(SELECT id FROM environments ORDER BY position DESC LIMIT 1) "
        "WHERE role IN ('production', 'labels')"
    )


def downgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_constraint("fk_datasets_environment", type_="foreignkey")
        batch_op.drop_column("environment_id")
