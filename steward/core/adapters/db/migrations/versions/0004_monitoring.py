"""monitoring: monitors, batch runs, drift windows, job runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 00:09:35.966048
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.DateTime(timezone=True), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "slot", name="uq_job_runs_job_slot"),
    )
    op.create_table(
        "monitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=100), nullable=False),
        sa.Column("time_column", sa.String(length=200), nullable=True),
        sa.Column("window", sa.String(length=32), nullable=False),
        sa.Column("labels_dataset", sa.String(length=100), nullable=True),
        sa.Column("labels_database", sa.String(length=100), nullable=True),
        sa.Column("labels_query", sa.Text(), nullable=True),
        sa.Column("id_column", sa.String(length=200), nullable=True),
        sa.Column("label_column", sa.String(length=200), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("every_minutes", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_monitors_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_monitors_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitors")),
        sa.UniqueConstraint("pipeline_id", "environment_id", "dataset", name="uq_monitors_target"),
    )
    with op.batch_alter_table("monitors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitors_pipeline_id"), ["pipeline_id"], unique=False)

    op.create_table(
        "batch_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=True),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=True),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("dataset", sa.String(length=100), nullable=False),
        sa.Column("dataset_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("windows", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitors.id"],
            name=op.f("fk_batch_runs_monitor_id_monitors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_batch_runs_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_runs")),
    )
    with op.batch_alter_table("batch_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_runs_monitor_id"), ["monitor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_batch_runs_pipeline_id"), ["pipeline_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_batch_runs_started_at"), ["started_at"], unique=False)

    op.create_table(
        "drift_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_run_id", sa.String(length=32), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("environment", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("prediction_verdict", sa.String(length=16), nullable=True),
        sa.Column("quality_findings", sa.Integer(), nullable=False),
        sa.Column("performance_status", sa.String(length=16), nullable=True),
        sa.Column("report_json", sa.Text(), nullable=False),
        sa.Column("performance_json", sa.Text(), nullable=True),
        sa.Column("profile", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_run_id"],
            ["batch_runs.id"],
            name=op.f("fk_drift_windows_batch_run_id_batch_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_drift_windows_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_windows")),
    )
    with op.batch_alter_table("drift_windows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drift_windows_batch_run_id"), ["batch_run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drift_windows_pipeline_id"), ["pipeline_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("drift_windows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drift_windows_pipeline_id"))
        batch_op.drop_index(batch_op.f("ix_drift_windows_batch_run_id"))

    op.drop_table("drift_windows")
    with op.batch_alter_table("batch_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_runs_started_at"))
        batch_op.drop_index(batch_op.f("ix_batch_runs_pipeline_id"))
        batch_op.drop_index(batch_op.f("ix_batch_runs_monitor_id"))

    op.drop_table("batch_runs")
    with op.batch_alter_table("monitors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitors_pipeline_id"))

    op.drop_table("monitors")
    op.drop_table("job_runs")
