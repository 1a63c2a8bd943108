"""Reading CSV and Parquet files in chunks, and profile files; files are data, never code.

Every failure a file can cause (missing, empty, truncated, not what its name
says) is an ``InvalidInput`` naming the file, raised when opening or while
reading a later chunk, never an arrow or parser traceback.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from steward.core.drift.profile import _MAGIC, Profile
from steward.core.errors import InvalidInput

DEFAULT_CHUNK_ROWS = 1_000_000
Format = Literal["csv", "parquet"]

_CSV_ERRORS = (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError)
_ARROW_ERRORS = (pa.ArrowException, OSError, ValueError)


def _format_of(path: Path) -> Format:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz", ".csv.zip", ".csv.bz2", ".csv.xz", ".tsv")):
        return "csv"
    raise InvalidInput(f"{path}: unsupported file type (use .csv or .parquet)")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@dataclass(frozen=True)
class TableSource:
    """A CSV or Parquet file, read whole or in chunks of rows."""

    path: Path
    format: Format

    def columns(self) -> list[str]:
        if self.format == "parquet":
            return list(self._parquet().schema_arrow.names)
        try:
            head = pd.read_csv(self.path, nrows=0, sep=self._sep())
        except _CSV_ERRORS as exc:
            raise InvalidInput(f"cannot read CSV file {self.path}: {_one_line(exc)}") from None
        return [str(c) for c in head.columns]

    def rows(self) -> int | None:
        """Row count when the file says it without a scan (Parquet)."""
        if self.format == "parquet":
            return int(self._parquet().metadata.num_rows)
        return None

    def _sep(self) -> str:
        return "\t" if self.path.name.lower().endswith(".tsv") else ","

    def _parquet(self, *, pre_buffer: bool = True) -> pq.ParquetFile:
        """The file, with text columns read dictionary-encoded: no string is materialised per row."""
        try:
            schema = pq.read_schema(self.path)
            text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
            return pq.ParquetFile(self.path, read_dictionary=text or None, pre_buffer=pre_buffer)
        except _ARROW_ERRORS as exc:
            raise InvalidInput(f"cannot read Parquet file {self.path}: {_one_line(exc)}") from None

    def iter_chunks(
        self, chunk_rows: int = DEFAULT_CHUNK_ROWS, columns: Sequence[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        """Frames of at most ``chunk_rows`` rows; memory is bounded by one chunk."""
        if chunk_rows < 1:
            raise InvalidInput(f"chunk size must be at least 1 row, got {chunk_rows}")
        if self.format == "parquet":
            yield from self._parquet_chunks(chunk_rows, columns)
        else:
            yield from self._csv_chunks(chunk_rows, columns)

    def _parquet_chunks(self, chunk_rows: int, columns: Sequence[str] | None) -> Iterator[pd.DataFrame]:
        """Row groups, combined up to ``chunk_rows``, oversized ones split; one thread.

        Not ``iter_batches`` over the whole file: with its default pre-buffering,
        Arrow keeps what it has read (about 130 MB per million rows here), so
        memory would grow with the file instead of staying at one chunk.
        """
        pf = self._parquet()
        cols = list(columns) if columns is not None else None
        meta = pf.metadata

        def frame(table: pa.Table) -> pd.DataFrame:
            out: pd.DataFrame = table.to_pandas(split_blocks=True, self_destruct=True, use_threads=False)
            return out

        try:
            if meta.num_rows == 0:
                yield pf.schema_arrow.empty_table().to_pandas()
                return
            pending: list[int] = []
            pending_rows = 0
            for i in range(meta.num_row_groups):
                rows = meta.row_group(i).num_rows
                if pending and pending_rows + rows > chunk_rows:
                    yield frame(pf.read_row_groups(pending, columns=cols, use_threads=False))
                    pending, pending_rows = [], 0
                if rows <= chunk_rows:
                    pending.append(i)
                    pending_rows += rows
                    continue
                unbuffered = self._parquet(pre_buffer=False)
                batches = unbuffered.iter_batches(
                    batch_size=chunk_rows, row_groups=[i], columns=cols, use_threads=False
                )
                for batch in batches:
                    yield frame(pa.Table.from_batches([batch]))
                    del batch
            if pending:
                yield frame(pf.read_row_groups(pending, columns=cols, use_threads=False))
        except _ARROW_ERRORS as exc:
            raise InvalidInput(f"cannot read Parquet file {self.path}: {_one_line(exc)}") from None

    def _csv_chunks(self, chunk_rows: int, columns: Sequence[str] | None) -> Iterator[pd.DataFrame]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pd.errors.DtypeWarning)
                reader = pd.read_csv(
                    self.path,
                    chunksize=chunk_rows,
                    usecols=list(columns) if columns is not None else None,
                    sep=self._sep(),
                )
                with reader:
                    yielded = False
                    for chunk in reader:
                        yielded = True
                        yield chunk
                    if not yielded:  # a header and no rows
                        yield pd.read_csv(self.path, nrows=0, sep=self._sep())
        except pd.errors.EmptyDataError:
            raise InvalidInput(f"{self.path} is empty (no header row)") from None
        except _CSV_ERRORS as exc:
            raise InvalidInput(f"cannot read CSV file {self.path}: {_one_line(exc)}") from None

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The whole file in memory."""
        chunks = list(self.iter_chunks(columns=columns))
        return chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)


def open_table(path: str | Path) -> TableSource:
    """A readable CSV or Parquet file; refuses missing files and unknown types at once."""
    p = Path(path)
    if not p.exists():
        raise InvalidInput(f"file not found: {p}")
    if not p.is_file():
        raise InvalidInput(f"not a file: {p}")
    source = TableSource(p, _format_of(p))
    source.columns()  # fail now, with the file's name, if the header is unreadable
    return source


def is_profile_file(path: str | Path) -> bool:
    p = Path(path)
    if not p.is_file():
        return False
    with p.open("rb") as fh:
        return fh.read(len(_MAGIC)) == _MAGIC


def read_profile(path: str | Path) -> Profile:
    p = Path(path)
    if not p.exists():
        raise InvalidInput(f"file not found: {p}")
    return Profile.from_bytes(p.read_bytes())


def write_profile(profile: Profile, path: str | Path) -> None:
    p = Path(path)
    try:
        p.write_bytes(profile.to_bytes())
    except OSError as exc:
        raise InvalidInput(f"cannot write profile to {p}: {_one_line(exc)}") from None
