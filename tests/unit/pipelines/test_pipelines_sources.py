"""Data sources: files stay inside the data folder, SQL runs one SELECT, and both respect a size limit."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from pipelines_testdata import SAMPLE_DATA, toy_frame

from steward.core.errors import InvalidInput
from steward.core.pipelines.sources import DataSource, FileSource, SqlSource, make_source
from steward.core.pipelines.spec import SourceSpec


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "toy").mkdir(parents=True)
    toy_frame(50).to_csv(root / "toy" / "train.csv", index=False)
    toy_frame(50).to_parquet(root / "toy" / "train.parquet")
    return root


def test_csv_and_parquet_files_load_the_same_table(data_root: Path) -> None:
    from_csv = FileSource(data_root, "toy/train.csv").load()
    from_parquet = FileSource(data_root, "toy/train.parquet").load()
    assert from_csv.shape == from_parquet.shape == (50, 6)
    pd.testing.assert_frame_equal(from_csv[["amount", "y"]], from_parquet[["amount", "y"]])


def test_a_source_describes_itself_for_lineage(data_root: Path) -> None:
    source = make_source(SourceSpec("file", path="toy/train.csv"), data_root=data_root)
    assert isinstance(source, DataSource)
    assert source.describe() == "file:toy/train.csv"


def test_the_sample_data_folder_is_a_data_root() -> None:
    frame = FileSource(SAMPLE_DATA, "bike/train_2011.csv").load()
    assert len(frame) == 8645 and "casual" not in frame.columns


@pytest.mark.parametrize(
    "path", ["../outside.csv", "toy/../../outside.csv", "/etc/hosts.csv", "toy\\train.csv"]
)
def test_paths_escaping_the_data_folder_are_refused(data_root: Path, path: str) -> None:
    (data_root.parent / "outside.csv").write_text("a\n1\n")
    with pytest.raises(InvalidInput, match=r"source.path"):
        FileSource(data_root, path)


def test_a_symlink_leading_outside_is_refused(data_root: Path) -> None:
    secret = data_root.parent / "secret.csv"
    secret.write_text("a\n1\n")
    (data_root / "link.csv").symlink_to(secret)
    with pytest.raises(InvalidInput, match="leads outside the data folder"):
        FileSource(data_root, "link.csv")


def test_a_file_over_the_limit_is_refused_before_it_is_read(data_root: Path) -> None:
    # Not valid CSV at all: reading it would fail with a different message.
    (data_root / "huge.csv").write_bytes(b"\x00\xff" * 1000)
    with pytest.raises(
        InvalidInput,
        match=r"source file 'huge.csv' is 2,000 bytes \(2.0 kB\); the limit is 1,000 bytes \(1.0 kB\)",
    ):
        FileSource(data_root, "huge.csv", max_bytes=1000).load()


def test_a_missing_file_is_named(data_root: Path) -> None:
    with pytest.raises(InvalidInput, match=r"'toy/none.csv' does not exist"):
        FileSource(data_root, "toy/none.csv").load()


def test_an_unreadable_file_is_a_one_line_refusal(data_root: Path) -> None:
    (data_root / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InvalidInput, match=r"source file 'bad.parquet' cannot be read"):
        FileSource(data_root, "bad.parquet").load()


@pytest.fixture
def warehouse(tmp_path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    toy_frame(120).to_sql("clients", engine, index=False)
    return engine


def test_a_sql_query_loads_through_an_engine_or_a_url(warehouse: sa.Engine) -> None:
    frame = SqlSource(warehouse, "SELECT amount, y FROM clients WHERE amount > 0;").load()
    assert list(frame.columns) == ["amount", "y"] and len(frame) == 120
    by_url = SqlSource(str(warehouse.url), "select * from clients", label="warehouse").load()
    assert len(by_url) == 120
    assert by_url.attrs == {} and SqlSource(warehouse, "SELECT 1").describe().startswith(
        "sql:sql:query-sha256="
    )


def test_sql_sources_come_from_configured_databases_only(warehouse: sa.Engine) -> None:
    spec = SourceSpec("sql", database="warehouse", query="SELECT * FROM clients")
    assert len(make_source(spec, data_root=".", databases={"warehouse": warehouse}).load()) == 120
    with pytest.raises(InvalidInput, match=r"'warehouse' is not a configured database \(configured: none\)"):
        make_source(spec, data_root=".")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("DELETE FROM clients", "single SELECT"),
        ("SELECT 1; DROP TABLE clients", "single statement"),
        ("PRAGMA table_info(clients)", "single SELECT"),
    ],
)
def test_only_one_select_statement_is_run(warehouse: sa.Engine, query: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        SqlSource(warehouse, query)
    assert len(SqlSource(warehouse, "SELECT * FROM clients").load()) == 120


def test_a_query_result_over_the_limit_is_refused_naming_it(warehouse: sa.Engine) -> None:
    with pytest.raises(
        InvalidInput, match=r"the result of the 'sql' query is .* the limit is 1,000 bytes \(1.0 kB\)"
    ):
        SqlSource(warehouse, "SELECT * FROM clients", max_bytes=1000).load()


def test_a_failing_query_is_a_one_line_refusal(warehouse: sa.Engine) -> None:
    with pytest.raises(InvalidInput, match=r"source query on 'sql' failed: .*no such table: missing_table"):
        SqlSource(warehouse, "SELECT * FROM missing_table").load()
