"""One contender as a whole process: start, import, read both Parquet files, compute, print, exit.

    python whole.py NAME REFERENCE.parquet CURRENT.parquet

Run by ``process.py`` (which times the process from outside); ``steward`` is
not run through here but as the ``steward drift`` command itself. ``numpy`` is
the floor: pyarrow reads the files, numpy bins each numeric column on the
reference's deciles and counts each categorical's codes, no statistic, no
pandas. The peers read with pandas (what their APIs take) and run their
default drift computation.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

for _var in ("DO_NOT_TRACK", "NML_DISABLE_USAGE_LOGGING", "EVIDENTLY_DISABLE_TELEMETRY"):
    os.environ.setdefault(_var, "1")


def numpy_floor(ref_path: str, cur_path: str) -> list[str]:
    import numpy as np
    import pyarrow.parquet as pq

    ref, cur = pq.read_table(ref_path), pq.read_table(cur_path)
    for name in cur.column_names:
        if name.startswith("num"):
            edges = np.quantile(ref.column(name).to_numpy(), np.linspace(0, 1, 11))
            np.histogram(cur.column(name).to_numpy(), bins=edges)
        else:
            codes = (
                cur.column(name).combine_chunks().dictionary_encode().indices.to_numpy(zero_copy_only=False)
            )
            np.bincount(codes)
    return []


def peer(name: str, ref_path: str, cur_path: str) -> list[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import contender  # the same peer calls and the same pandas loader as the in-process benchmark

    ref, cur = contender._load(ref_path, cur_path)
    result: list[str] = getattr(contender, name)(ref, cur)
    return result


if __name__ == "__main__":
    name, ref_path, cur_path = sys.argv[1:4]
    drifted = numpy_floor(ref_path, cur_path) if name == "numpy" else peer(name, ref_path, cur_path)
    print(",".join(sorted(drifted)))
