"""Heartbeats of every process, their per-minute history, probe readings, and the worker's lease."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.core.adapters.db.models.base import Base, UTCDateTime


class HeartbeatRow(Base):
    """The latest heartbeat of one process (a component instance), overwritten at every beat."""

    __tablename__ = "heartbeats"
    __table_args__ = (UniqueConstraint("kind", "name", "instance", name="uq_heartbeats_instance"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # app | worker | scoring
    name: Mapped[str] = mapped_column(String(100))
    instance: Mapped[str] = mapped_column(String(200))  # host:pid
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    interval_seconds: Mapped[float] = mapped_column(Float)
    cpu_percent: Mapped[float] = mapped_column(Float)
    memory_bytes: Mapped[int] = mapped_column(BigInteger)
    open_files: Mapped[int] = mapped_column(Integer)
    threads: Mapped[int] = mapped_column(Integer)
    host_cpu_percent: Mapped[float] = mapped_column(Float)
    host_load_1m: Mapped[float] = mapped_column(Float)
    host_memory_percent: Mapped[float] = mapped_column(Float)
    host_cpu_count: Mapped[int] = mapped_column(Integer)
    details_json: Mapped[str] = mapped_column(Text, default="{}")
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set once, by whichever process first finds it silent past its timeout, with the audit event:
    # one loss, one event, however many checks see it.
    lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class HeartbeatSampleRow(Base):
    """One minute of one process's heartbeats: sums and maxima, so means are exact and the table bounded."""

    __tablename__ = "heartbeat_samples"
    __table_args__ = (
        UniqueConstraint("heartbeat_id", "minute", name="uq_heartbeat_samples_minute"),
        Index("ix_heartbeat_samples_minute", "minute"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    heartbeat_id: Mapped[int] = mapped_column(ForeignKey("heartbeats.id", ondelete="CASCADE"))
    minute: Mapped[datetime] = mapped_column(UTCDateTime())
    beats: Mapped[int] = mapped_column(Integer)
    cpu_sum: Mapped[float] = mapped_column(Float)
    memory_max: Mapped[int] = mapped_column(BigInteger)
    open_files_max: Mapped[int] = mapped_column(Integer)
    host_cpu_sum: Mapped[float] = mapped_column(Float)
    host_load_sum: Mapped[float] = mapped_column(Float)
    host_memory_sum: Mapped[float] = mapped_column(Float)


class ProbeSampleRow(Base):
    """What one probe (database, artifact store, data folder, scheduler) read; the last reading per minute."""

    __tablename__ = "probe_samples"
    __table_args__ = (UniqueConstraint("probe", "minute", name="uq_probe_samples_minute"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    probe: Mapped[str] = mapped_column(String(64))
    minute: Mapped[datetime] = mapped_column(UTCDateTime())
    health: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    readings_json: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_by: Mapped[str] = mapped_column(String(200))


class LeaseRow(Base):
    """A lease one process holds at a time (the worker leader); ``token`` grows at every new tenure.

    Writes a leader makes carry its token and are refused once the token moved
    on: a leader paused past its lease (SIGSTOP, a long GC, a frozen VM) cannot
    write when it wakes up.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200), nullable=True)
    token: Mapped[int] = mapped_column(BigInteger)
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    renewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
