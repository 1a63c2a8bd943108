"""alert rules as data, incidents with a timeline, notification channels and their outbox

Rules get a table operators edit (severity, threshold, windows, minutes,
runbook), seeded with the defaults of ``steward.core.domain.alert_rules``.
Alerts become incidents: environment, assignee, snooze and reopen count, and
each firing is an occurrence on their timeline. Notifications leave through
an outbox the worker drains, with a log of every delivery attempt.

Revision ID: 0090
Revises: 0110
Create Date: 2026-12-07 11:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0090"
down_revision = "0110"
branch_labels = None
depends_on = None


def upgrade() -> None:
    seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    when = sa.DateTime(timezone=True)
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("environment", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("assigned_to", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("snoozed_until", when, nullable=True))
        batch_op.add_column(sa.Column("reopened_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("notified_key", sa.String(64), nullable=False, server_default=""))
    op.create_table(
        "alert_occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(400), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", when, nullable=False),
        sa.Column("seq", seq, nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_occurrences_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_occurrences")),
    )
    with op.batch_alter_table("alert_occurrences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_occurrences_fingerprint"), ["fingerprint"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_occurrences_alert_id"), ["alert_id"], unique=False)
    rules = op.create_table(
        "alert_rules",
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("page", sa.String(64), nullable=False),
        sa.Column("comparison", sa.String(8), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("windows", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("runbook", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", when, nullable=True),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_alert_rules")),
    )
    from steward.core.domain.alert_rules import DEFAULT_RULES  # the demo defaults, one definition

    op.bulk_insert(
        rules,
        [
            {
                "kind": r.kind,
                "title": r.title,
                "severity": r.severity.value,
                "page": r.page,
                "comparison": r.comparison.value,
                "threshold": r.threshold,
                "windows": r.windows,
                "minutes": r.minutes,
                "enabled": r.enabled,
                "runbook": r.runbook,
                "updated_by": "default",
                "updated_at": None,
            }
            for r in DEFAULT_RULES
        ],
    )
    op.create_table(
        "notification_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("min_severity", sa.String(16), nullable=False),
        sa.Column("pipelines", sa.Text(), nullable=False),
        sa.Column("allow_private", sa.Boolean(), nullable=False),
        sa.Column("notify_people", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_channels")),
        sa.UniqueConstraint("name", name=op.f("uq_notification_channels_name")),
    )
    op.create_table(
        "notification_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("body_json", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", when, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("delivered_at", when, nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["notification_channels.id"],
            name=op.f("fk_notification_outbox_channel_id_notification_channels"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
        sa.UniqueConstraint("channel_id", "dedupe_key", name="uq_notification_outbox_dedupe"),
    )
    with op.batch_alter_table("notification_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_outbox_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_outbox_status"), ["status"], unique=False)
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", when, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["notification_outbox.id"],
            name=op.f("fk_notification_deliveries_outbox_id_notification_outbox"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
    )
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_deliveries_outbox_id"), ["outbox_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notification_deliveries_channel_id"), ["channel_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("notification_deliveries")
    op.drop_table("notification_outbox")
    op.drop_table("notification_channels")
    op.drop_table("alert_rules")
    op.drop_table("alert_occurrences")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("notified_key")
        batch_op.drop_column("reopened_count")
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("assigned_to")
        batch_op.drop_column("environment")
