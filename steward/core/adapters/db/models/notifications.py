"""Notification channels (admins configure them), the outbox the worker drains, and its delivery log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.core.adapters.db.models.base import Base, UTCDateTime


class NotificationChannelRow(Base):
    __tablename__ = "notification_channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # webhook | email
    target: Mapped[str] = mapped_column(String(2000))  # the URL, or smtp://host:port
    secret: Mapped[str] = mapped_column(String(200), default="")  # webhook signing key
    recipients: Mapped[str] = mapped_column(Text, default="")  # e-mail: comma-separated addresses
    sender: Mapped[str] = mapped_column(String(320), default="")
    min_severity: Mapped[str] = mapped_column(String(16), default="warning")
    pipelines: Mapped[str] = mapped_column(Text, default="")  # comma-separated; empty: every pipeline
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False)  # an admin's explicit exception
    notify_people: Mapped[bool] = mapped_column(Boolean, default=False)  # e-mail: also each person addressed
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NotificationOutboxRow(Base):
    """One message for one channel, written in the transaction that decided it; sent by the worker."""

    __tablename__ = "notification_outbox"
    __table_args__ = (UniqueConstraint("channel_id", "dedupe_key", name="uq_notification_outbox_dedupe"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("notification_channels.id"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(200))  # e.g. alert:7|open|critical|0
    topic: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(500))
    body_json: Mapped[str] = mapped_column(Text)
    recipients: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class NotificationDeliveryRow(Base):
    """One attempt to deliver one outbox message: the delivery log on the Alerts page."""

    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("notification_outbox.id"), index=True)
    channel_id: Mapped[int] = mapped_column(Integer, index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
