"""promotions and the ledger: structured columns become JSON

The sign-off policies' seats and floors, an approval's roles and the ledger's
policy, approvals, gates and evidence were JSON kept in TEXT columns. On
PostgreSQL they become ``json`` (each value parsed once, here: a value that is
not JSON fails the upgrade instead of a page later); on SQLite the table is
rebuilt with the JSON type and the text is copied unchanged.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = {
    "signoff_policies": ("required_json", "min_metrics_json"),
    "promotion_approvals": ("roles_json",),
    "deployment_ledger": ("policy_json", "approvals_json", "gates_json", "evidence_json"),
}


def _convert(to_json: bool) -> None:
    new, old = (sa.JSON(), sa.Text()) if to_json else (sa.Text(), sa.JSON())
    cast = "json" if to_json else "text"
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(
                    column,
                    existing_type=old,
                    type_=new,
                    existing_nullable=False,
                    postgresql_using=f"{column}::{cast}",
                )


def upgrade() -> None:
    _convert(to_json=True)


def downgrade() -> None:
    _convert(to_json=False)
