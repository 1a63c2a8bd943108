"""Password hashing with scrypt (hashlib), at OWASP's parameters by default.

The cost parameters travel inside each hash so that raising them later does
not lock anybody out, and a weaker hash can be spotted and re-hashed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from steward.core.errors import InvalidInput

SCHEME = "scrypt"
OWASP_N, OWASP_R, OWASP_P = 2**17, 8, 1
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
_KEY_LENGTH = 32


@dataclass(frozen=True)
class ScryptParams:
    n: int = OWASP_N
    r: int = OWASP_R
    p: int = OWASP_P

    @property
    def max_memory(self) -> int:
        # scrypt needs 128 * r * n bytes; leave headroom so OpenSSL does not refuse.
        return 256 * self.r * self.n + 1024 * 1024


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"password must be at most {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str, params: ScryptParams | None = None) -> str:
    params = params or ScryptParams()
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        maxmem=params.max_memory,
        dklen=_KEY_LENGTH,
    )
    return f"{SCHEME}${params.n}${params.r}${params.p}${_b64(salt)}${_b64(key)}"


def parse_params(stored: str) -> ScryptParams:
    scheme, n, r, p, _salt, _key = stored.split("$")
    if scheme != SCHEME:
        raise ValueError(f"unknown password scheme {scheme!r}")
    return ScryptParams(int(n), int(r), int(p))


def verify_password(password: str, stored: str) -> bool:
    """Constant-time comparison; a malformed stored hash verifies nothing."""
    try:
        params = parse_params(stored)
        _scheme, _n, _r, _p, salt_b64, key_b64 = stored.split("$")
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(key_b64)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=params.n,
            r=params.r,
            p=params.p,
            maxmem=params.max_memory,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str, wanted: ScryptParams) -> bool:
    try:
        current = parse_params(stored)
    except ValueError:
        return True
    return (current.n, current.r, current.p) < (wanted.n, wanted.r, wanted.p)
