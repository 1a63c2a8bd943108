"""The benchmark data set: 20 numeric and 5 categorical columns, a few with a real shift.

Seeded, so every run (and every contender in a run) sees the same rows. Runs
under any Python with numpy, pandas and pyarrow (the peers' environments too).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

N_NUMERIC = 20
N_CATEGORICAL = 5
# Columns whose production distribution really differs from training.
SHIFTED = {
    "num_00": "mean +0.25 std",
    "num_05": "std x1.5",
    "num_10": "heavier right tail",
    "cat_0": "one category's share doubles",
}
_CATEGORIES = [8, 3, 20, 5, 50]


def _numeric(rng: np.random.Generator, i: int, n: int, shifted: bool) -> np.ndarray:
    family = i % 5
    if family == 0:
        x = rng.normal(0.25 if shifted and i == 0 else 0.0, 1.0, n)
    elif family == 1:
        x = rng.lognormal(3.0, 0.8, n)
    elif family == 2:
        x = rng.uniform(-5.0, 5.0, n)
    elif family == 3:
        x = rng.exponential(2.0, n)
    else:
        x = rng.poisson(400.0, n).astype(np.float64)  # many ties, like counts
    if shifted and i == 5:
        x = x.mean() + (x - x.mean()) * 1.5
    if shifted and i == 10:
        x = np.where(rng.random(n) < 0.1, x * 3.0, x)
    return x


def _categorical(rng: np.random.Generator, j: int, n: int, shifted: bool) -> np.ndarray:
    k = _CATEGORIES[j]
    weights = 1.0 / np.arange(1, k + 1) ** 0.8
    if shifted and j == 0:
        weights[3] *= 2.0
    weights = weights / weights.sum()
    labels = np.array([f"c{j}_{v:02d}" for v in range(k)], dtype=object)
    return labels[rng.choice(k, size=n, p=weights)]


def generate(rows: int, *, shifted: bool, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {}
    for i in range(N_NUMERIC):
        data[f"num_{i:02d}"] = _numeric(rng, i, rows, shifted)
    for j in range(N_CATEGORICAL):
        data[f"cat_{j}"] = _categorical(rng, j, rows, shifted)
    frame = pd.DataFrame(data)
    for j in range(N_CATEGORICAL):
        frame[f"cat_{j}"] = frame[f"cat_{j}"].astype("str")
    return frame


def write(folder: Path, reference_rows: int, current_rows: int, seed: int = 2026) -> tuple[Path, Path]:
    """Write reference and current Parquet files (current in row groups of 1M rows) unless present."""
    folder.mkdir(parents=True, exist_ok=True)
    ref_path = folder / f"reference_{reference_rows}.parquet"
    cur_path = folder / f"current_{current_rows}.parquet"
    if not ref_path.exists():
        generate(reference_rows, shifted=False, seed=seed).to_parquet(ref_path, index=False)
    if not cur_path.exists():
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        block = 1_000_000
        for start in range(0, current_rows, block):
            part = generate(min(block, current_rows - start), shifted=True, seed=seed + 1 + start // block)
            table = pa.Table.from_pandas(part, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(cur_path, table.schema)
            writer.write_table(table, row_group_size=block)
        assert writer is not None
        writer.close()
    return ref_path, cur_path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, default=Path(__file__).resolve().parents[1] / ".data")
    parser.add_argument("--reference-rows", type=int, default=100_000)
    parser.add_argument("--current-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    print(*write(args.folder, args.reference_rows, args.current_rows))
