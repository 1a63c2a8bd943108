"""API keys of the scoring service: what a key may reach, and how a presented key is judged.

The secret is 32 random bytes shown once; the database keeps only its SHA-256
(a random secret needs no slow hash), so the service checks a key per
request from an in-memory table without touching the database.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

KEY_PREFIX = "stk_"


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    environments: tuple[str, ...]
    created_by: str
    created_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class IssuedKey:
    """A new key and its secret: the only time the secret is seen."""

    key: ApiKey
    secret: str


class KeyVerdict(StrEnum):
    OK = "ok"
    MISSING = "missing"  # 401
    UNKNOWN = "unknown"  # 401
    REVOKED = "revoked"  # 403
    WRONG_ENVIRONMENT = "wrong_environment"  # 403

    @property
    def status(self) -> int:
        return {KeyVerdict.OK: 200, KeyVerdict.MISSING: 401, KeyVerdict.UNKNOWN: 401}.get(self, 403)


def judge_key(keys: dict[str, ApiKey], presented: str | None, environment: str) -> KeyVerdict:
    """Whether ``presented`` may score in ``environment``, given keys by the SHA-256 of their secret."""
    if not presented:
        return KeyVerdict.MISSING
    key = keys.get(digest(presented))
    if key is None:
        return KeyVerdict.UNKNOWN
    if not key.active:
        return KeyVerdict.REVOKED
    if environment not in key.environments:
        return KeyVerdict.WRONG_ENVIRONMENT
    return KeyVerdict.OK
