"""The scoring service's own tables: API keys (stored hashed) and fallback rule sets.

An API key's secret is shown once; only its SHA-256 is kept (the secret is 32
random bytes, so a fast hash is enough and the service can check a key per
request without scrypt's cost). A key is scoped to named environments.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
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
