"""Errors Steward raises on purpose.

Every error a user can cause is a :class:`StewardError` whose message is one
line naming the problem; shells (CLI, pages, HTTP) print it without a
traceback. Anything else escaping is a bug.
"""

from __future__ import annotations


class StewardError(Exception):
    """Base of all expected, user-facing errors."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(StewardError):
    """Input that breaks a rule: a bad name, an unknown role, a malformed spec."""


class NotFound(StewardError):
    """The object asked for does not exist."""


class AlreadyExists(StewardError):
    """A create that would duplicate a unique name."""


class PermissionDenied(StewardError):
    """The acting user may not do this; the refusal has been audited."""


class AuthenticationFailed(StewardError):
    """Sign-in refused. The message never says whether the user exists."""


class StaleState(StewardError):
    """The object changed since the caller loaded it; nothing was changed."""


class ConfigurationError(StewardError):
    """Settings that cannot work: unreachable database, unwritable folder, default secret in production."""


class IntegrityError(StewardError):
    """Stored data failed a check: a broken audit chain, an artifact whose digest no longer matches."""


class FencedOut(StaleState):
    """A write by a leader whose lease passed to another (its fencing token is stale); nothing was written."""
