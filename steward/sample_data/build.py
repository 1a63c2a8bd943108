"""Rebuild ``sample_data/`` from the two original UCI files.

Why a script: the CSVs are committed so the demo runs in a clone without the
originals, and this file is the exact, repeatable record of how they were
derived (seeded split, dropped leaking columns, labels kept apart).

Usage::

    python sample_data/build.py [--source DIR] [--check]

``--source`` defaults to ``../shared/data`` next to the repository.
``--check`` rebuilds in memory and fails if a committed file differs.
Only the standard library is used, so the output does not depend on the
pandas version.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent.parent / "shared" / "data"

CREDIT_FILE = "credit_card_default.csv"
BIKE_FILE = "bike_sharing_hourly.csv"
CREDIT_SEED = 2026
CREDIT_TRAIN_ROWS = 24_000
CREDIT_TARGET_ORIGINAL = "default.payment.next.month"
CREDIT_TARGET = "default_next_month"
BIKE_LEAKING = ("casual", "registered")
BIKE_TARGET = "cnt"


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _plain_integer(text: str) -> str:
    """``5e+05`` -> ``500000``: the original wrote some amounts in R's scientific notation."""
    value = Decimal(text)
    if value != value.to_integral_value():
        raise ValueError(f"expected an integer, got {text!r}")
    return str(int(value))


def build_credit(source: Path) -> dict[str, bytes]:
    header, rows = _read(source / CREDIT_FILE)
    if len(rows) != 30_000 or header[0] != "ID" or header[-1] != CREDIT_TARGET_ORIGINAL:
        raise SystemExit(f"{CREDIT_FILE}: unexpected layout (header {header[:2]}..., {len(rows)} rows)")
    header = [*header[:-1], CREDIT_TARGET]
    rows = [[_plain_integer(cell) for cell in row] for row in rows]
    ids = [row[0] for row in rows]
    shuffled = list(ids)
    random.Random(CREDIT_SEED).shuffle(shuffled)  # noqa: S311 - a reproducible split, not a secret
    train_ids = set(shuffled[:CREDIT_TRAIN_ROWS])
    train = [row for row in rows if row[0] in train_ids]
    production = [row for row in rows if row[0] not in train_ids]
    return {
        "credit/train.csv": _csv(header, train),
        "credit/production.csv": _csv(header[:-1], [row[:-1] for row in production]),
        "credit/labels.csv": _csv(["ID", CREDIT_TARGET], [[row[0], row[-1]] for row in production]),
    }


def build_bike(source: Path) -> dict[str, bytes]:
    header, rows = _read(source / BIKE_FILE)
    if len(rows) != 17_379 or header[0] != "instant" or header[-1] != BIKE_TARGET:
        raise SystemExit(f"{BIKE_FILE}: unexpected layout (header {header[:2]}..., {len(rows)} rows)")
    keep = [i for i, name in enumerate(header) if name not in BIKE_LEAKING]
    kept_header = [header[i] for i in keep]
    kept = [[row[i] for i in keep] for row in rows]
    year = kept_header.index("dteday")
    train = [row for row in kept if row[year].startswith("2011-")]
    production = [row for row in kept if row[year].startswith("2012-")]
    if len(train) + len(production) != len(kept):
        raise SystemExit(f"{BIKE_FILE}: rows outside 2011-2012")
    return {
        "bike/train_2011.csv": _csv(kept_header, train),
        "bike/production_2012.csv": _csv(kept_header[:-1], [row[:-1] for row in production]),
        "bike/labels_2012.csv": _csv(["instant", BIKE_TARGET], [[row[0], row[-1]] for row in production]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="folder with the original CSVs")
    parser.add_argument(
        "--check", action="store_true", help="compare with the committed files, write nothing"
    )
    args = parser.parse_args(argv)
    outputs = {**build_credit(args.source), **build_bike(args.source)}
    stale = []
    for relative, content in outputs.items():
        target = HERE / relative
        if args.check:
            if not target.is_file() or target.read_bytes() != content:
                stale.append(relative)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        print(f"wrote {relative} ({len(content):,} bytes)")  # noqa: T201 - a command-line script
    if stale:
        print("differs from a fresh build: " + ", ".join(stale), file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
