"""The one place a shell turns Steward's errors into one clear line and an exit code.

The CLI, the worker (``python -m steward.app.worker``) and any other
entrypoint wrap their ``main`` in :func:`friendly`, so a bad setting, an
unreachable database or a refused action reads the same everywhere:
``error: ...`` on stderr, exit code 2, no traceback. Anything else escaping
is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from steward.core.errors import StewardError

F = TypeVar("F", bound=Callable[..., Any])
USAGE_ERROR = 2  # exit code of every error a user can cause (click's own usage errors use it too)


def fail(message: str) -> NoReturn:
    """One line on stderr and exit 2."""
    click.echo(f"error: {message}", err=True)
    sys.exit(USAGE_ERROR)


def describe(exc: BaseException) -> str | None:
    """The one line a user sees for an expected error, or None for a bug.

    SQLAlchemy is only consulted when it is already loaded: a command that never
    opened the database cannot raise its errors, and ``steward --help`` must not
    pay for importing it.
    """
    if isinstance(exc, StewardError):
        return exc.message
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, MemoryError):
        return "out of memory"
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.OperationalError | sa_exc.ProgrammingError):
        text = str(exc.orig or exc).splitlines()[0]
        if "no such table" in text or "does not exist" in text:
            return f"the database is not set up ({text}); run `steward db upgrade`"
        return f"database error: {text}"
    return None


def friendly(func: F) -> F:
    """Turn expected errors into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (Exception, KeyboardInterrupt) as exc:
            message = describe(exc)
            if message is None:
                raise
            fail(message)

    return wrapper  # type: ignore[return-value]
