"""Where training data comes from: a file under the data folder, or a SQL query on a configured database.

Both refuse oversized input with a message naming the limit: a file before a
byte is read (by its size on disk), a query as soon as the rows fetched so far
exceed it in memory. Files are CSV or Parquet only: both are parsed as data,
never as code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from steward.core.errors import InvalidInput
from steward.core.pipelines.spec import SourceSpec, check_source_path, check_source_query

DEFAULT_MAX_BYTES = 1_000_000_000
SQL_CHUNK_ROWS = 50_000


def format_bytes(size: int) -> str:
    """Human size in decimal units, as the limits are stated (1 GB = 10^9 bytes)."""
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def describe_size(size: int) -> str:
    """A size stated exactly, with a human reading beside it (a limit never reads as "0 MB")."""
    exact = f"{size:,} byte{'' if size == 1 else 's'}"
    return exact if size < 1000 else f"{exact} ({format_bytes(size)})"


def check_size(size: int, limit: int, what: str) -> None:
    """Raise :class:`InvalidInput` stating ``size`` and ``limit`` exactly if ``size`` exceeds it."""
    if size > limit:
        raise InvalidInput(f"{what} is {describe_size(size)}; the limit is {describe_size(limit)}")


@runtime_checkable
class DataSource(Protocol):
    """Something that yields one training table and can say, for lineage, what it was."""

    def describe(self) -> str:
        """A one-line, credential-free description for lineage (e.g. ``file:credit/train.csv``)."""
        ...

    def load(self) -> pd.DataFrame: ...


class FileSource:
    """A CSV or Parquet file at a relative path under ``root``; paths escaping ``root`` are refused."""

    def __init__(self, root: str | Path, path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.relative = check_source_path(path)
        self.root = Path(root).resolve()
        self.max_bytes = max_bytes
        candidate = (self.root / self.relative).resolve()
        if not candidate.is_relative_to(self.root):  # a symlink pointing outside
            raise InvalidInput(f"source.path {path!r} leads outside the data folder")
        self.path = candidate

    def describe(self) -> str:
        return f"file:{self.relative}"

    def file_sha256(self) -> str:
        """SHA-256 of the file's bytes (the frame digest is the lineage value; this identifies the file)."""
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def load(self) -> pd.DataFrame:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            raise InvalidInput(f"source.path {self.relative!r} does not exist in the data folder") from None
        check_size(size, self.max_bytes, f"source file {self.relative!r}")
        try:
            if self.relative.lower().endswith(".parquet"):
                return pd.read_parquet(self.path, engine="pyarrow")
            return pd.read_csv(self.path, encoding="utf-8", low_memory=False)
        except (ValueError, UnicodeDecodeError, OSError) as error:
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise InvalidInput(f"source file {self.relative!r} cannot be read: {first_line}") from None


class SqlSource:
    """The result of one SELECT on a database given as a SQLAlchemy engine or URL.

    The single-SELECT check guards against mistakes, not attacks: give Steward a
    read-only database user for training sources.
    """

    def __init__(
        self,
        bind: Engine | str,
        query: str,
        *,
        label: str = "sql",
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.query = check_source_query(query)
        self.label = label
        self.max_bytes = max_bytes
        self._bind = bind

    def describe(self) -> str:
        digest = hashlib.sha256(self.query.encode("utf-8")).hexdigest()[:16]
        return f"sql:{self.label}:query-sha256={digest}"

    def load(self) -> pd.DataFrame:
        engine = sa.create_engine(self._bind) if isinstance(self._bind, str) else self._bind
        chunks: list[pd.DataFrame] = []
        total = 0
        try:
            with engine.connect() as connection:
                for chunk in pd.read_sql_query(sa.text(self.query), connection, chunksize=SQL_CHUNK_ROWS):
                    total += int(chunk.memory_usage(deep=True).sum())
                    check_size(total, self.max_bytes, f"the result of the {self.label!r} query")
                    chunks.append(chunk)
        except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as error:
            detail = str(getattr(error, "orig", None) or error).splitlines()[0]
            raise InvalidInput(f"source query on {self.label!r} failed: {detail}") from None
        finally:
            if isinstance(self._bind, str):
                engine.dispose()
        if not chunks or sum(len(chunk) for chunk in chunks) == 0:
            raise InvalidInput(f"source query on {self.label!r} returned no rows")
        return pd.concat(chunks, ignore_index=True)


def make_source(
    spec: SourceSpec,
    *,
    data_root: str | Path,
    databases: Mapping[str, Engine | str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> DataSource:
    """The :class:`DataSource` for a spec's ``[source]``; ``databases`` maps names to engines or URLs."""
    if spec.kind == "file":
        assert spec.path is not None
        return FileSource(data_root, spec.path, max_bytes=max_bytes)
    assert spec.database is not None and spec.query is not None
    configured: Mapping[str, Any] = databases or {}
    if spec.database not in configured:
        known = ", ".join(sorted(configured)) or "none"
        raise InvalidInput(
            f"source.database {spec.database!r} is not a configured database (configured: {known})"
        )
    return SqlSource(configured[spec.database], spec.query, label=spec.database, max_bytes=max_bytes)
