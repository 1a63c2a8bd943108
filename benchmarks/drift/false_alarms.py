"""Measured false-alarm rates of the default tests: two samples of one distribution, many times.

    .venv/bin/python benchmarks/drift/false_alarms.py [--repetitions 1000]

Prints a markdown table for docs/drift.md. Slow-ish (a few minutes), so it is
a benchmark, not a unit test; the unit tests check smaller versions.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from steward.core.drift.profile import build_profile
from steward.core.drift.report import DriftOptions, compare

Sampler = Callable[[np.random.Generator, int], np.ndarray]

DISTRIBUTIONS: dict[str, tuple[str, Sampler]] = {
    "normal": ("numeric", lambda rng, n: rng.normal(size=n)),
    "lognormal": ("numeric", lambda rng, n: rng.lognormal(0, 1, n)),
    "counts (ties)": ("numeric", lambda rng, n: rng.poisson(60, n).astype(float)),
    "3 categories": ("categorical", lambda rng, n: rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])),
    "12 categories": (
        "categorical",
        lambda rng, n: rng.choice([f"k{i}" for i in range(12)], n, p=np.arange(12, 0, -1) / 78),
    ),
}

CASES = [(200, 200), (100_000, 900), (2_000, 2_000), (20_000, 20_000)]


def rate(dist: str, n: int, m: int, reps: int, mode: str) -> tuple[float, str]:
    kind, sample = DISTRIBUTIONS[dist]
    alarms = 0
    tests: set[str] = set()
    for seed in range(reps):
        rng = np.random.default_rng(seed)
        ref = build_profile(pd.DataFrame({"x": sample(rng, n)}), kinds={"x": kind})
        options = DriftOptions(mode=mode, replicates=199 if mode == "calibrated" else None, seed=seed)  # type: ignore[arg-type]
        report = compare(ref, pd.DataFrame({"x": sample(rng, m)}), options)
        col = report.columns[0]
        alarms += bool(col.drift)
        tests.add(col.test or "-")
    return alarms / reps, "/".join(sorted(tests))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repetitions", type=int, default=1000)
    parser.add_argument("--calibrated-repetitions", type=int, default=1000)
    args = parser.parse_args()
    start = time.perf_counter()
    print("| distribution | reference n | current m | default test | fixed mode | calibrated mode |")
    print("| --- | ---: | ---: | --- | ---: | ---: |")
    for dist in DISTRIBUTIONS:
        for n, m in CASES:
            fixed, test = rate(dist, n, m, args.repetitions, "fixed")
            calibrated, _ = rate(dist, n, m, args.calibrated_repetitions, "calibrated")
            print(
                f"| {dist} | {n:,} | {m:,} | {test} | {100 * fixed:.1f}% | {100 * calibrated:.1f}% |",
                flush=True,
            )
    print(
        f"\n({args.repetitions} repetitions in fixed mode, {args.calibrated_repetitions} in calibrated mode "
        f"with 199 replicates each; {time.perf_counter() - start:.0f} s)"
    )


if __name__ == "__main__":
    main()
