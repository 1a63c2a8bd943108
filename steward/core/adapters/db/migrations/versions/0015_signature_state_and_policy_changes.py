"""signatures that stay void, and four eyes on lowering a production policy

Approvals get a voiding state (roles no longer counted, when and why): a
signature voided by deactivating its approver or removing a role stays void
when the role comes back. ``policy_changes`` holds a proposed change that
lowers a production policy until a second admin approves it.

Revision ID: 0015
Revises: 0080
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0080"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("promotion_approvals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voided_roles", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("void_reason", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "policy_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "environment_id",
            sa.Integer(),
            sa.ForeignKey("environments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("proposed", sa.JSON(), nullable=False),
        sa.Column("lowers", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("proposed_by", sa.String(200), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("audit_seq", SEQ, nullable=True),
    )
    op.create_index("ix_policy_changes_pending", "policy_changes", ["environment_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_policy_changes_pending", table_name="policy_changes")
    op.drop_table("policy_changes")
    with op.batch_alter_table("promotion_approvals", schema=None) as batch_op:
        batch_op.drop_column("void_reason")
        batch_op.drop_column("voided_at")
        batch_op.drop_column("voided_roles")
