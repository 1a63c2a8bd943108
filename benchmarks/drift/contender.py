"""Run one contender on the benchmark files and print one JSON line of measurements.

Usage: python contender.py NAME REFERENCE.parquet CURRENT.parquet [--repeat N]

Runs under Steward's environment or a peer's (each peer lives in its own
virtualenv with the pandas it needs), so it imports only what NAME needs.
Memory is read from /proc: VmRSS after imports and after loading, and the
peak VmRSS during a separate untimed run, sampled by a thread (VmHWM cannot be
reset on every kernel: /proc/self/clear_refs is ignored on some, and without
a reset it reports the loader's transient peak as the run's).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

for _var in ("DO_NOT_TRACK", "NML_DISABLE_USAGE_LOGGING", "EVIDENTLY_DISABLE_TELEMETRY"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")


def _status(field: str) -> int:
    """A /proc/self/status field in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


class PeakRss:
    """The highest VmRSS seen while the block runs, read every 2 ms by a thread."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _status("VmRSS"))
            time.sleep(0.002)

    def __enter__(self) -> PeakRss:
        self.peak = _status("VmRSS")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _status("VmRSS"))


def _peak_rss(run: Callable[[], object]) -> int:
    with PeakRss() as sampler:
        run()
    return sampler.peak


def _load(ref_path: str, cur_path: str) -> tuple[Any, Any]:
    """The same loader for everyone: arrow buffers released column by column as pandas takes them."""
    import pyarrow.parquet as pq

    def read(path: str) -> Any:
        return pq.read_table(path).to_pandas(split_blocks=True, self_destruct=True)

    frames = read(ref_path), read(cur_path)
    # Settle the loader's garbage (Arrow's pool and Python's cycles) so every contender starts
    # from the same resident data and a run's peak is not the loader's leftovers.
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    return frames


def _working_memory(func: Callable[[Any, Any], list[str]], ref: Any, cur: Any) -> int:
    """Peak bytes the run allocates beyond the loaded data (numpy and Python objects; tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        func(ref, cur)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------------ contenders


def binning(ref, cur) -> list[str]:
    """The floor: bin each numeric column on reference deciles, count each categorical. No statistic."""
    import numpy as np
    import pandas as pd

    for col in cur.columns:
        if col.startswith("num"):
            edges = np.quantile(ref[col].to_numpy(), np.linspace(0, 1, 11))
            np.histogram(cur[col].to_numpy(), bins=edges)
        else:
            codes, _ = pd.factorize(cur[col])
            np.bincount(codes[codes >= 0])
    return []


def steward(ref, cur, mode: str = "fixed") -> list[str]:
    from steward.core.drift.profile import build_profile
    from steward.core.drift.report import DriftOptions, compare

    report = compare(build_profile(ref), cur, DriftOptions(mode=mode))  # type: ignore[arg-type]
    return list(report.verdict.drifted)


def steward_calibrated(ref, cur) -> list[str]:
    return steward(ref, cur, "calibrated")


def scipy_per_column(ref, cur) -> list[str]:
    """What a careful user writes by hand: KS and Wasserstein per numeric, chi-squared per categorical."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    drifted = []
    for col in cur.columns:
        if col.startswith("num"):
            x, y = ref[col].to_numpy(), cur[col].to_numpy()
            ks = stats.ks_2samp(x, y)
            w = stats.wasserstein_distance(x, y) / np.std(x)
            if w > 0.1:
                drifted.append(col)
            del ks
        else:
            table = (
                pd.concat([ref[col].value_counts(), cur[col].value_counts()], axis=1).fillna(0).T.to_numpy()
            )
            stats.chi2_contingency(table)
            p = table / table.sum(axis=1, keepdims=True)
            from scipy.spatial.distance import jensenshannon

            if jensenshannon(p[0], p[1], base=2) > 0.1:
                drifted.append(col)
    return drifted


def evidently(ref, cur) -> list[str]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    result = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref).dict()
    drifted = []
    for metric in result["metrics"]:
        name = metric.get("metric_name", "")
        value = metric.get("value")
        if name.startswith("ValueDrift(") and isinstance(value, (int, float)):
            column = name.split("column=", 1)[1].split(",", 1)[0].rstrip(")")
            threshold = metric.get("config", {}).get("threshold")
            method = metric.get("config", {}).get("method", "")
            p_value_test = "p_value" in method or method in ("K-S p_value", "chi-square p_value")
            if threshold is not None and ((value < threshold) if p_value_test else (value >= threshold)):
                drifted.append(column)
    return drifted


def nannyml(ref, cur) -> list[str]:
    import warnings

    import nannyml as nml

    warnings.simplefilter("ignore")
    cols = list(ref.columns)
    calc = nml.UnivariateDriftCalculator(
        column_names=cols, treat_as_categorical=[c for c in cols if c.startswith("cat")], chunk_number=1
    )
    calc.fit(ref)
    frame = calc.calculate(cur).filter(period="analysis").to_df()
    drifted = []
    for col in cols:
        alerts = [v for k, v in frame.items() if k[0] == col and k[-1] == "alert"]
        if any(bool(a.iloc[0]) for a in alerts):
            drifted.append(col)
    return drifted


def whylogs(ref, cur) -> list[str]:
    import whylogs as why
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    scores = calculate_drift_scores(
        target_view=why.log(cur).view(), reference_view=why.log(ref).view(), with_thresholds=True
    )
    return [k for k, v in scores.items() if v and v.get("drift_category") == "DRIFT"]


def steward_files(ref_path: str, cur_path: str) -> list[str]:
    """The CLI's path for data that does not fit: both files read in chunks of 1M rows, memory bounded."""
    from steward.core.drift.io import open_table
    from steward.core.drift.profile import build_profile
    from steward.core.drift.report import compare

    reference = build_profile(open_table(ref_path).iter_chunks(1_000_000))
    report = compare(reference, open_table(cur_path).iter_chunks(1_000_000))
    return list(report.verdict.drifted)


IN_MEMORY: dict[str, Callable[[Any, Any], list[str]]] = {
    "binning": binning,
    "steward": steward,
    "steward-calibrated": steward_calibrated,
    "scipy": scipy_per_column,
    "evidently": evidently,
    "nannyml": nannyml,
    "whylogs": whylogs,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("reference")
    parser.add_argument("current")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the working-memory run")
    args = parser.parse_args()

    if args.name == "steward-files":
        import steward.core.drift.report  # imports first, like the others

        rss_imports = _status("VmRSS")
        times, cpus = [], []
        drifted: list[str] = []
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            drifted = steward_files(args.reference, args.current)
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        out = {
            "name": args.name,
            "load_s": 0.0,
            "run_s": min(times),
            "run_cpu_s": min(cpus),
            "runs": times,
            "rss_imports": rss_imports,
            "rss_loaded": rss_imports,
            "peak_run": _peak_rss(lambda: steward_files(args.reference, args.current)),
            "peak_total": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "current_bytes": None,
            "drifted": sorted(drifted),
        }
        print(json.dumps(out))
        return

    func = IN_MEMORY[args.name]
    # Import the contender's libraries before measuring the baseline memory.
    if args.name.startswith("steward"):
        import steward.core.drift.report  # noqa: F401
    elif args.name == "scipy":
        import scipy.stats  # noqa: F401
    elif args.name == "evidently":
        import evidently.presets  # noqa: F401
    elif args.name == "nannyml":
        import nannyml  # noqa: F401
    elif args.name == "whylogs":
        import whylogs.viz.drift.column_drift_algorithms  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401  (the loader's import, for everyone)

    rss_imports = _status("VmRSS")
    t0 = time.perf_counter()
    ref, cur = _load(args.reference, args.current)
    load_s = time.perf_counter() - t0
    rss_loaded = _status("VmRSS")
    current_bytes = int(cur.memory_usage(deep=True).sum())
    peak_before = _status("VmHWM")
    times, cpus = [], []
    drifted = []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        drifted = func(ref, cur)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    # Untimed runs: one under the RSS sampler, one under tracemalloc (long peers skip both).
    peak_run = None if args.no_tracemalloc else _peak_rss(lambda: func(ref, cur))
    working = None if args.no_tracemalloc else _working_memory(func, ref, cur)
    out: dict[str, Any] = {
        "name": args.name,
        "working_bytes": working,
        "load_s": load_s,
        "run_s": min(times),
        "run_cpu_s": min(cpus),
        "runs": times,
        "rss_imports": rss_imports,
        "rss_loaded": rss_loaded,
        "peak_run": peak_run,
        "peak_load": peak_before,
        "peak_total": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "current_bytes": current_bytes,
        "drifted": sorted(drifted),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
