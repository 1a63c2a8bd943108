"""Alembic environment: the engine comes from Steward's settings via ``config.attributes``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from steward.core.adapters.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine: Engine = config.attributes["engine"]
    with engine.connect() as connection:
        # SQLite: a batch rebuild drops and re-creates a table other tables reference, which fails with
        # foreign keys on (SQLite's own ALTER procedure says: switch them off first). The pragma only
        # takes effect outside a transaction, so it goes to the driver connection before Alembic begins
        # one; foreign_key_check afterwards proves the rebuild kept every reference intact.
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
            compare_type=True,
        )
        try:
            with context.begin_transaction():
                context.run_migrations()
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("the migration left rows referring to rows that do not exist")
            connection.commit()
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `steward db upgrade`")
run_migrations_online()
