"""Validation of user-chosen names (pipelines, owners, columns, versions, groups).

Names end up in file paths, HTML, logs and SQL identifiers shown to people, so
one function refuses what could escape a folder, inject markup, or render
differently from what is stored (control and bidi-override characters).
"""

from __future__ import annotations

import unicodedata

from steward.core.errors import InvalidInput

MAX_NAME_LENGTH = 100

_PATH_SEPARATORS = frozenset("/\\")
_MARKUP = frozenset("<>&\"'`")
# Categories refused anywhere: control (Cc), format (Cf, which holds the bidi
# overrides and zero-width characters), surrogates, private use, unassigned,
# and line/paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def validate_name(value: object, what: str = "pipeline name", *, max_length: int = MAX_NAME_LENGTH) -> str:
    """Return ``value`` unchanged if it is a safe name, else raise :class:`InvalidInput` naming ``what``.

    Refused: non-strings, empty, longer than ``max_length``, leading or
    trailing whitespace, ``.``/``..``, path separators, markup characters (``<>&"'`` and backtick),
    control, format (bidi overrides, zero-width) and unassigned characters.
    """
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text, got {type(value).__name__}")
    if not value:
        raise InvalidInput(f"{what} must not be empty")
    if len(value) > max_length:
        raise InvalidInput(f"{what} is {len(value)} characters long; the limit is {max_length}")
    if value != value.strip():
        raise InvalidInput(f"{what} {value.strip()!r} must not start or end with whitespace")
    if value in {".", ".."}:
        raise InvalidInput(f"{what} must not be {value!r}")
    for position, char in enumerate(value):
        if char in _PATH_SEPARATORS:
            raise InvalidInput(f"{what} must not contain path separators ({char!r} at position {position})")
        if char in _MARKUP:
            raise InvalidInput(f"{what} must not contain markup characters ({char!r} at position {position})")
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise InvalidInput(
                f"{what} must not contain control or invisible characters "
                f"(U+{ord(char):04X} at position {position})"
            )
    return value
