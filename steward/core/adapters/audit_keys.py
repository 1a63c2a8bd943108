"""Where the audit chain's keys live: outside the database, in the environment or a key file.

A database writer who cannot read this file (or the process environment)
cannot seal an event, so cannot append to or re-chain the audit log. The
keyring is one JSON document::

    {"format": "steward-audit-keys/1", "active": "k2",
     "keys": {"k1": "<hex>", "k2": "<hex>"}, "legacy_until": 0}

given whole in ``STEWARD_AUDIT_KEYS``, or kept in the key file
(``STEWARD_AUDIT_KEY_FILE``, default ``<data dir>/audit-keys.json``), which is
created with one random key (mode 0600) the first time a process needs it,
so the demo needs no set-up. Old keys stay in the keyring: events keep the id
of the key that sealed them and verify under it after a rotation.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from steward.core.config import Settings
from steward.core.domain.audit import Keyring
from steward.core.errors import ConfigurationError

FORMAT = "steward-audit-keys/1"
KEY_BYTES = 32
_cache: dict[tuple[str, str], tuple[int, Keyring]] = {}  # source -> (file mtime, keyring)
_lock = threading.Lock()


def parse_keyring(text: str, where: str) -> Keyring:
    """A keyring from its JSON document; a bad one is a ConfigurationError naming ``where``."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format", FORMAT) != FORMAT:
            raise ValueError("not a Steward audit keyring")
        raw = data["keys"]
        if not isinstance(raw, dict) or not raw:
            raise ValueError("it holds no keys")
        keys = {str(key_id): bytes.fromhex(str(secret)) for key_id, secret in raw.items()}
        if any(len(secret) < 16 for secret in keys.values()):
            raise ValueError("every key must be at least 16 bytes (32 hex digits)")
        if any(not key_id or len(key_id) > 32 for key_id in keys):
            raise ValueError("key ids must be 1 to 32 characters")
        legacy_until = int(data.get("legacy_until", 0))
        if legacy_until < 0:
            raise ValueError("legacy_until must not be negative")
        return Keyring(keys, str(data["active"]), legacy_until)
    except (ValueError, KeyError, TypeError) as problem:
        raise ConfigurationError(f"audit keyring in {where} is not usable: {problem}") from None


def render_keyring(keyring: Keyring) -> str:
    document: dict[str, Any] = {
        "format": FORMAT,
        "active": keyring.active,
        "keys": {key_id: secret.hex() for key_id, secret in keyring.keys.items()},
        "legacy_until": keyring.legacy_until,
    }
    return json.dumps(document, indent=2) + "\n"


def new_key() -> tuple[str, bytes]:
    """A random key and its id, a fingerprint of it.

    Two hosts that each generated their own key file (instead of sharing one)
    therefore seal under different ids, and ``verify`` on either names the
    other's key as unknown instead of calling its events forged.
    """
    secret = secrets.token_bytes(KEY_BYTES)
    return "k-" + hashlib.sha256(secret).hexdigest()[:10], secret


def _create_file(path: Path, keyring: Keyring) -> None:
    """Write a new key file once, whole: written aside, then linked in without replacing (atomic).

    Two processes starting together end up with one keyring, and neither
    can read a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(render_keyring(keyring))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def keyring_for(settings: Settings) -> Keyring:
    """The keyring these settings point at, read once per process (and created on first use)."""
    if settings.audit_keys is not None:
        text = settings.audit_keys.get_secret_value()
        cache_key = ("env", text)
        with _lock:
            if cache_key not in _cache:
                _cache[cache_key] = (0, parse_keyring(text, "STEWARD_AUDIT_KEYS"))
            return _cache[cache_key][1]
    path = settings.resolved_audit_key_file.resolve()
    cache_key = ("file", str(path))
    with _lock:
        try:
            if not path.exists():
                key_id, secret = new_key()
                _create_file(path, Keyring({key_id: secret}, key_id))
            stamp = path.stat().st_mtime_ns  # a rotation by another process shows as a newer file
            cached = _cache.get(cache_key)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            text = path.read_text(encoding="utf-8")
        except OSError as problem:
            raise ConfigurationError(f"audit key file {path} cannot be used: {problem.strerror}") from None
        keyring = parse_keyring(text, str(path))
        _cache[cache_key] = (stamp, keyring)
        return keyring


def save_keyring(settings: Settings, keyring: Keyring) -> Path:
    """Replace the key file with ``keyring`` (atomically, mode 0600); refused when keys come from the env."""
    if settings.audit_keys is not None:
        raise ConfigurationError(
            "the audit keys come from STEWARD_AUDIT_KEYS; put the new keyring there instead:\n"
            + render_keyring(keyring)
        )
    path = settings.resolved_audit_key_file.resolve()
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(render_keyring(keyring))
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
    with _lock:
        _cache.pop(("file", str(path)), None)
    return path
