"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from steward.core.adapters.db import migrate
from steward.core.adapters.db.models import Base


def test_models_and_migrations_agree(steward):
    with steward.engines.read.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_is_idempotent_and_reaches_head(steward):
    steward.upgrade_database()
    assert migrate.is_up_to_date(steward.engines)
    assert [env.name for env in steward.environments.list()] == ["Dev", "Test", "Prod"]


def test_downgrade_to_base_and_back(steward):
    migrate.downgrade(steward.engines, "base")
    tables = set(inspect(steward.engines.read).get_table_names()) - {"alembic_version"}
    assert tables == set()
    steward.upgrade_database()
    assert set(Base.metadata.tables) <= set(inspect(steward.engines.read).get_table_names())


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path):
    from steward.core.adapters.db.engine import create_engines

    engines = create_engines(f"sqlite:///{tmp_path / 'x.db'}")
    with engines.read.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    engines.dispose()
