"""Monitors, batch runs on production data, their drift windows, and scheduled job runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy import text as sa_text
from sqlalchemy.orm import Mapped, mapped_column

from steward.core.adapters.db.models.base import Base, UTCDateTime


class MonitorRow(Base):
    """What to watch: a pipeline's deployment in one environment, fed by a production data set."""

    __tablename__ = "monitors"
    __table_args__ = (
        # One live monitor per target; a removed one keeps its row (and its runs) and frees the target.
        Index(
            "uq_monitors_live_target",
            "pipeline_id",
            "environment_id",
            "dataset",
            unique=True,
            sqlite_where=sa_text("removed_at IS NULL"),
            postgresql_where=sa_text("removed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), index=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    dataset: Mapped[str] = mapped_column(String(100))
    time_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    window: Mapped[str] = mapped_column(String(32))
    labels_dataset: Mapped[str | None] = mapped_column(String(100), nullable=True)
    labels_database: Mapped[str | None] = mapped_column(String(100), nullable=True)
    labels_query: Mapped[str | None] = mapped_column(Text, nullable=True)
    id_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    label_column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    mode: Mapped[str] = mapped_column(String(16), default="fixed")
    every_minutes: Mapped[int] = mapped_column(Integer, default=1440)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # A run whose rejected rows exceed this share of its rows fails (nothing of it is kept).
    max_rejected_share: Mapped[float] = mapped_column(Float, default=0.1, server_default="0.1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    # Paused (enabled false): who and when. Removed: hidden from every page and never run again.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    paused_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class BatchRunRow(Base):
    """One run of a batch pipeline on production data: did it finish, and on what."""

    __tablename__ = "batch_runs"
    __table_args__ = (Index("ix_batch_runs_monitor_started", "monitor_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    monitor_id: Mapped[int | None] = mapped_column(ForeignKey("monitors.id", ondelete="SET NULL"), index=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    environment: Mapped[str] = mapped_column(String(64))
    dataset: Mapped[str] = mapped_column(String(100))
    dataset_sha256: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16))  # running | succeeded | partial | failed
    rows: Mapped[int] = mapped_column(Integer, default=0)  # rows scored (and logged)
    rows_in: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rejected_sample: Mapped[str] = mapped_column(Text, default="", server_default="")  # JSON rows + reasons
    error: Mapped[str] = mapped_column(Text, default="", server_default="")  # one line, for everyone
    traceback: Mapped[str] = mapped_column(Text, default="", server_default="")  # for operators
    dataset_changed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    windows: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    # How far the run read the prediction log (largest id seen) and the ids below it not seen yet
    # (JSON [[low, high, first seen], ...]): the next run of the monitor reads from here.
    log_mark: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    log_gaps: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    labels_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")


class DriftWindowRow(Base):
    """Drift, data quality and (when labels arrived) realised performance of one window of a run."""

    __tablename__ = "drift_windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_run_id: Mapped[str] = mapped_column(ForeignKey("batch_runs.id", ondelete="CASCADE"), index=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[str] = mapped_column(String(32))
    environment: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rows: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(16))  # drift | no_drift | insufficient
    reason: Mapped[str] = mapped_column(Text)
    prediction_verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    quality_findings: Mapped[int] = mapped_column(Integer, default=0)
    performance_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    report_json: Mapped[str] = mapped_column(Text)
    performance_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    profile: Mapped[bytes] = mapped_column(LargeBinary)
    # A labelled monitor's window keeps its rows' request ids and answers (zlib JSON), so realised
    # performance is recomputed when labels change without reading the log again.
    outputs: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobRunRow(Base):
    """A scheduled job's slot, claimed once: two workers never run the same slot."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "slot", name="uq_job_runs_job_slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    slot: Mapped[datetime] = mapped_column(UTCDateTime())
    worker: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # running | ok | failed | abandoned
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    token: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # the claiming leader's lease token
    missed: Mapped[int] = mapped_column(
        Integer, default=0
    )  # slots before this one nobody ran, coalesced here
    attempt: Mapped[int] = mapped_column(
        Integer, default=1
    )  # 2+: taken over from a leader that lost its lease
