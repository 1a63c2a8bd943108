"""Counting what a service call costs the database: transactions (read and write) and SQL statements.

Listens on the engine itself (SQLAlchemy's ``begin`` and
``before_cursor_execute`` events), so it sees every statement whichever
session or connection sent it. A statement is anything sent to the database
except the transaction's own ``BEGIN`` (SQLite's is a statement, PostgreSQL's
is implicit) and SQLite's per-connection ``PRAGMA``s, so both databases count
the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from steward.core.adapters.db.engine import WRITE_OPTION
from steward.core.steward import Steward


@dataclass
class Cost:
    reads: int = 0
    writes: int = 0
    sql: list[str] = field(default_factory=list)

    @property
    def transactions(self) -> int:
        return self.reads + self.writes

    @property
    def statements(self) -> int:
        return len(self.sql)

    def __str__(self) -> str:
        lines = "\n".join(f"  {line.split(chr(10))[0][:140]}" for line in self.sql)
        return f"{self.reads} read + {self.writes} write transactions, {self.statements} statements:\n{lines}"


@contextmanager
def counting(steward: Steward) -> Iterator[Cost]:
    engine = steward.engines.read  # the write engine is a view of the same engine: same events
    cost = Cost()

    def on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(WRITE_OPTION, False):
            cost.writes += 1
        else:
            cost.reads += 1

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
            cost.sql.append(statement)

    event.listen(engine, "begin", on_begin)
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield cost
    finally:
        event.remove(engine, "begin", on_begin)
        event.remove(engine, "before_cursor_execute", on_execute)
