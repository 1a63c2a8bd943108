"""Bulk inserts that skip rows already present, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from steward.core.adapters.db.models.base import Base


def insert_new(
    session: Session, table: type[Base], rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """INSERT ... ON CONFLICT (keys) DO NOTHING, in one executemany.

    Two writers logging the same request keep one row and neither fails,
    which a plain insert after a "does it exist?" read cannot promise.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        statement: Any = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    elif dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    else:  # pragma: no cover - Steward supports the two
        raise NotImplementedError(f"no insert-if-new for {dialect}")
    session.execute(statement, list(rows))
