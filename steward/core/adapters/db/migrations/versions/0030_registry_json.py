"""the registry: a pipeline's spec and a version's spec, schema, metrics, lineage, charts and warnings become JSON

They were JSON kept in TEXT columns, parsed by hand wherever they were read.
On PostgreSQL they become ``json`` (each value parsed once, here: a value that
is not JSON fails the upgrade instead of a page later); on SQLite the table is
rebuilt with the JSON type and the text is copied unchanged (SQLite's JSON is
text, so every existing value reads back as the structure it encoded).

Revision ID: 0030
Revises: 0061
Create Date: 2026-12-07 11:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0061"
branch_labels = None
depends_on = None

COLUMNS = {
    "pipelines": ("spec_json",),
    "pipeline_versions": (
        "spec_json",
        "schema_json",
        "metrics_json",
        "lineage_json",
        "charts_json",
        "warnings_json",
    ),
}


def _convert(to_json: bool) -> None:
    new, old = (sa.JSON(), sa.Text()) if to_json else (sa.Text(), sa.JSON())
    cast = "json" if to_json else "text"
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(
                    column,
                    existing_type=old,
                    type_=new,
                    existing_nullable=False,
                    postgresql_using=f"{column}::{cast}",
                )


def upgrade() -> None:
    _convert(to_json=True)


def downgrade() -> None:
    _convert(to_json=False)
