"""Rules for names people type: user names, display names, group names.

Names end up in pages, CSV exports and audit events, so markup, control
characters and bidirectional overrides are refused at the door rather than
escaped everywhere later.
"""

from __future__ import annotations

import re
import unicodedata

from steward.core.errors import InvalidInput

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_MARKUP = set("<>&\"'`")


def _describe(char: str) -> str:
    return unicodedata.name(char, f"U+{ord(char):04X}")


def validate_username(value: str) -> str:
    """Normalise a user name (lower case) or say what is wrong with it."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("user name is empty")
    name = value.strip()
    for char in name:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise InvalidInput(f"user name contains a control or invisible character ({_describe(char)})")
        if char in _MARKUP:
            raise InvalidInput(f"user name contains markup character {char!r}")
    name = name.lower()
    if len(name) > 64:
        raise InvalidInput("user name is longer than 64 characters")
    if not USERNAME_PATTERN.match(name):
        raise InvalidInput(
            f"user name {name!r} must be 2-64 characters of a-z, 0-9 and . _ @ -, "
            "starting with a letter or digit"
        )
    return name


def validate_label(value: str, what: str, *, max_length: int = 200, allow_empty: bool = False) -> str:
    """Free text shown to people (display names, group names): printable, no control characters."""
    text = (value or "").strip()
    if not text:
        if allow_empty:
            return ""
        raise InvalidInput(f"{what} is empty")
    if len(text) > max_length:
        raise InvalidInput(f"{what} is longer than {max_length} characters")
    for char in text:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise InvalidInput(f"{what} contains a control or invisible character ({_describe(char)})")
    return text


def validate_comment(value: str, what: str = "comment", *, max_length: int = 4000) -> str:
    """Comments may hold anything printable (they are always rendered as text) but no control characters
    other than newlines and tabs, and no bidirectional overrides."""
    text = (value or "").strip()
    if len(text) > max_length:
        raise InvalidInput(f"{what} is longer than {max_length} characters")
    for char in text:
        if char in "\n\t":
            continue
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise InvalidInput(f"{what} contains a control or invisible character ({_describe(char)})")
    return text
