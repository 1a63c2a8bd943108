"""Alembic, driven from code: ``steward db upgrade`` and the tests call this, not the alembic CLI."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from steward.core.adapters.db.engine import Engines

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engines: Engines) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engines.write
    return config


def upgrade(engines: Engines, revision: str = "head") -> None:
    command.upgrade(alembic_config(engines), revision)


def downgrade(engines: Engines, revision: str) -> None:
    command.downgrade(alembic_config(engines), revision)


def current_revision(engines: Engines) -> str | None:
    with engines.read.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def is_up_to_date(engines: Engines) -> bool:
    return current_revision(engines) == head_revision()
