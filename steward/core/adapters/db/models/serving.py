"""The scoring service's own tables: API keys (stored hashed) and fallback rule sets.

An API key's secret is shown once; only its SHA-256 is kept (the secret is 32
random bytes, so a fast hash is enough and the service can check a key per
request without scrypt's cost). A key is scoped to named environments.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.core.adapters.db.models.base import Base, UTCDateTime


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise a key in a list
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    environments_json: Mapped[str] = mapped_column(Text)  # ["Dev", "Prod"]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RuleSetRow(Base):
    """One saved version of a deployment's fallback rule set; never updated (each edit is a new row)."""

    __tablename__ = "rule_sets"
    __table_args__ = (
        UniqueConstraint("environment_id", "pipeline_id", "number", name="uq_rule_sets_deployment_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="RESTRICT"))
    number: Mapped[int] = mapped_column(Integer)
    body_json: Mapped[str] = mapped_column(Text)  # RuleSet.to_dict()
    comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RuleSetArmRow(Base):
    """Which rule set a deployment falls back to, and whether a fail-over made it answer everything."""

    __tablename__ = "rule_set_arms"
    __table_args__ = (UniqueConstraint("environment_id", "pipeline_id", name="uq_rule_set_arms_deployment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="RESTRICT"))
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("rule_sets.id", ondelete="RESTRICT"))
    armed_by: Mapped[str] = mapped_column(String(200))
    armed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    engaged: Mapped[bool] = mapped_column(Boolean, default=False)
    engaged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    engaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative API
