"""infrastructure: heartbeats and their history, probe readings, the worker lease, fenced job runs

Revision ID: 0080
Revises: 0070
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0080"
down_revision = "0070"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "heartbeats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interval_seconds", sa.Float(), nullable=False),
        sa.Column("cpu_percent", sa.Float(), nullable=False),
        sa.Column("memory_bytes", sa.BigInteger(), nullable=False),
        sa.Column("open_files", sa.Integer(), nullable=False),
        sa.Column("threads", sa.Integer(), nullable=False),
        sa.Column("host_cpu_percent", sa.Float(), nullable=False),
        sa.Column("host_load_1m", sa.Float(), nullable=False),
        sa.Column("host_memory_percent", sa.Float(), nullable=False),
        sa.Column("host_cpu_count", sa.Integer(), nullable=False),
        sa.Column("details_json", sa.Text(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lost_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_heartbeats")),
        sa.UniqueConstraint("kind", "name", "instance", name="uq_heartbeats_instance"),
    )
    op.create_table(
        "heartbeat_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("heartbeat_id", sa.Integer(), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beats", sa.Integer(), nullable=False),
        sa.Column("cpu_sum", sa.Float(), nullable=False),
        sa.Column("memory_max", sa.BigInteger(), nullable=False),
        sa.Column("open_files_max", sa.Integer(), nullable=False),
        sa.Column("host_cpu_sum", sa.Float(), nullable=False),
        sa.Column("host_load_sum", sa.Float(), nullable=False),
        sa.Column("host_memory_sum", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["heartbeat_id"],
            ["heartbeats.id"],
            name=op.f("fk_heartbeat_samples_heartbeat_id_heartbeats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_heartbeat_samples")),
        sa.UniqueConstraint("heartbeat_id", "minute", name="uq_heartbeat_samples_minute"),
    )
    op.create_index("ix_heartbeat_samples_minute", "heartbeat_samples", ["minute"], unique=False)
    op.create_table(
        "probe_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("probe", sa.String(length=64), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("health", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("readings_json", sa.Text(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probe_samples")),
        sa.UniqueConstraint("probe", "minute", name="uq_probe_samples_minute"),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("missed", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        # The defaults only filled the rows that existed; the model sets both on every new row.
        batch_op.alter_column("missed", server_default=None)
        batch_op.alter_column("attempt", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_column("attempt")
        batch_op.drop_column("missed")
        batch_op.drop_column("token")
    op.drop_table("leases")
    op.drop_table("probe_samples")
    op.drop_index("ix_heartbeat_samples_minute", table_name="heartbeat_samples")
    op.drop_table("heartbeat_samples")
    op.drop_table("heartbeats")
