"""audit events name the key that sealed them

The chain's seal becomes an HMAC under a key kept outside the database; each
event stores the key's id so keys can rotate while old events still verify.
Existing events keep an empty key id: they are legacy (unkeyed SHA-256) and
verify only up to the keyring's cut-over, which ``steward audit rekey``
records (see docs/security.md).

Revision ID: 0060
Revises: 0018
Create Date: 2026-12-07 11:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0060"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(32), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("key_id")
