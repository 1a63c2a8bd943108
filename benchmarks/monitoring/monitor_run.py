"""Incremental monitoring: a monitor run's cost follows the rows logged since the last run, not the log.

Setup (untimed): a credit pipeline trained and deployed in Dev on an SQLite
file; its prediction log filled to ``--log-rows`` by raw sqlite3
``executemany`` (rows shaped like online requests over twelve months, so a
monthly monitor has 12 windows whatever the log size); a monitor on a
200-row production file whose rows are all answered already; a first run
that reads the whole log once.

Timed:
- a run with nothing new (best of ``--repeats``) at each log size: reads the
  production file, finds its rows answered, reads the log above the mark
  (nothing), copies the 12 windows;
- a run over N new rows (``--new``) appended to the biggest log: time, and
  the peak of Python allocations (tracemalloc, in a separate untimed run over
  another N rows).

Writes its own marked section of docs/benchmarks.md (``--write``) and prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "steward" / "sample_data"
START, END = "<!-- monitor-run:start -->", "<!-- monitor-run:end -->"
SECRET = "bench-secret-key-long-enough-0123456789"


def _deployment(folder: Path) -> tuple[Any, Any, int, int, str]:
    from steward.core.adapters.db.models import EnvironmentRow, PipelineRow
    from steward.core.config import Settings
    from steward.core.domain.accounts import Actor
    from steward.core.services.uow import UnitOfWork
    from steward.core.steward import Steward

    steward = Steward(
        Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'steward.db'}", secret_key=SECRET)
    )
    steward.upgrade_database()
    (steward.datasets.root / "credit").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLE / "credit" / "train.csv", steward.datasets.root / "credit" / "train.csv")
    actor = Actor.system_actor("bench")
    pipeline = steward.pipelines.register(actor, (SAMPLE / "specs" / "credit_default.toml").read_bytes())
    version = steward.pipelines.train(actor, pipeline.name, importances=False)
    steward.promotions.request(actor, pipeline.name, version.number, "Dev", "benchmark")
    with UnitOfWork(steward.ctx, write=False) as uow:
        pid = uow.session.scalar(select(PipelineRow.id).where(PipelineRow.name == pipeline.name))
        eid = uow.session.scalar(select(EnvironmentRow.id).where(EnvironmentRow.name == "Dev"))
    return steward, actor, int(pid), int(eid), version.id


class Log:
    """Appends online-shaped rows for the deployment with raw sqlite3 (setup only, never timed)."""

    def __init__(self, db: Path, pipeline_id: int, environment_id: int, version_id: str) -> None:
        frame = pd.read_csv(SAMPLE / "credit" / "production.csv").drop(columns=["ID"])
        self.features = frame.to_json(orient="records", lines=True).strip().split("\n")
        self.keys = pipeline_id, environment_id, version_id
        self.db, self.count = db, 0
        self.rng = np.random.default_rng(3)

    def append(self, rows: int) -> None:
        start = datetime(2026, 1, 1, tzinfo=UTC)
        span = 365 * 86400
        connection = sqlite3.connect(self.db)
        page = 200_000
        for first in range(self.count, self.count + rows, page):
            n = min(page, self.count + rows - first)
            offsets = self.rng.integers(0, span, n)
            scores = self.rng.random(n)
            batch = [
                (
                    *self.keys,
                    f"req-{first + i}",
                    "online",
                    (start + timedelta(seconds=int(offsets[i]))).strftime("%Y-%m-%d %H:%M:%S.000000"),
                    "2026-12-01 00:00:00.000000",
                    self.features[(first + i) % len(self.features)],
                    float(scores[i]),
                    f'{{"prediction": {float(scores[i])!r}, "label": {int(scores[i] > 0.5)}}}',
                    5.0,
                    "ok",
                    0,
                )
                for i in range(n)
            ]
            connection.executemany(
                "INSERT INTO predictions (pipeline_id, environment_id, version_id, request_id, source, "
                "event_time, scored_at, features_json, prediction, output_json, latency_ms, status, "
                "fallback) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
            connection.commit()
        connection.close()
        self.count += rows


def _timed(steward: Any, actor: Any, monitor_id: int) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    run = steward.monitoring.run(actor, monitor_id)
    seconds = time.perf_counter() - started
    assert run.status == "succeeded", run.detail
    return seconds, dict(steward.audit.recent(1)[0].after)


def measure(log_sizes: list[int], new_rows: list[int], repeats: int) -> dict[str, Any]:
    results: dict[str, Any] = {"idle": [], "new": [], "load": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        steward, actor, pid, eid, version_id = _deployment(folder)
        production = pd.read_csv(SAMPLE / "credit" / "production.csv").head(200)
        production["when"] = "2026-06-15"
        (steward.datasets.root / "prod.csv").write_text(production.to_csv(index=False))
        steward.datasets.register(actor, "bench/production", "prod.csv", role="production")
        monitor = steward.monitoring.add_monitor(
            actor,
            pipeline="credit-default",
            environment="Dev",
            dataset="bench/production",
            window="month",
            time_column="when",
        )
        log = Log(folder / "steward.db", pid, eid, version_id)
        for size in sorted(log_sizes):
            log.append(size - log.count)
            first, _ = _timed(steward, actor, monitor.id)  # reads what the log gained
            idle = [_timed(steward, actor, monitor.id) for _ in range(repeats)]
            assert all(after["log_rows_read"] == 0 for _, after in idle)
            best = min(seconds for seconds, _ in idle)
            results["idle"].append({"log_rows": size, "seconds": best, "catch_up_seconds": first})
            print(f"log {size:,}: nothing new {best * 1000:.1f} ms (catch-up {first:.1f} s)", file=sys.stderr)
        for n in new_rows:
            log.append(n)
            seconds, after = _timed(steward, actor, monitor.id)
            assert after["log_rows_read"] == n, after
            log.append(n)
            tracemalloc.start()
            _timed(steward, actor, monitor.id)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            results["new"].append(
                {"new_rows": n, "log_rows": log.count, "seconds": seconds, "peak_mb": peak / 2**20}
            )
            print(f"{n:,} new on {log.count:,}: {seconds:.2f} s, peak {peak / 2**20:.0f} MB", file=sys.stderr)
        steward.close()
    results["load_after"] = os.getloadavg()
    return results


def section(results: dict[str, Any]) -> str:
    idle = results["idle"]
    base = idle[0]["seconds"]
    lines = [
        START,
        "## Monitoring: a run's cost follows the new rows, not the log",
        "",
        f"Generated by `benchmarks/monitoring/monitor_run.py` on {datetime.now(UTC):%Y-%m-%d}, SQLite, "
        f"a shared 2-core machine (load average {results['load'][0]:.2f} before, "
        f"{results['load_after'][0]:.2f} after). A monthly monitor (12 windows) on a credit deployment; "
        "each run reads its 200-row production file (all answered already) and the log above its mark.",
        "",
        "| log rows | run with nothing new | vs smallest log | first run over the whole log |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for item in idle:
        lines.append(
            f"| {item['log_rows']:,} | {item['seconds'] * 1000:.1f} ms | {item['seconds'] / base:.2f}x "
            f"| {item['catch_up_seconds']:.1f} s |"
        )
    lines += [
        "",
        "| new rows | on a log of | run s | s per 100k new | peak Python MB (tracemalloc) |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for item in results["new"]:
        lines.append(
            f"| {item['new_rows']:,} | {item['log_rows']:,} | {item['seconds']:.2f} "
            f"| {item['seconds'] / item['new_rows'] * 1e5:.2f} | {item['peak_mb']:.0f} |"
        )
    ratio = idle[-1]["seconds"] / base
    lines += [
        "",
        f"Target: nothing new on the largest log ({idle[-1]['log_rows']:,} rows) within 2x of the smallest: "
        f"{ratio:.2f}x, {'met' if ratio <= 2 else 'missed'}. "
        "A run with nothing new copies its windows inside the database, so it grows with the size "
        "of the stored window profiles (each capped at 100,000 "
        "points per column), not with the rows. Peak memory is one read chunk (50,000 log rows) plus "
        "the profiles of the windows the new rows touch; here every new row lands in one of 12 windows "
        "whose profiles still grow towards that cap, which is most of the rise from 10k to 100k.",
        END,
    ]
    return "\n".join(lines)


def write(text: str) -> None:
    path = REPO / "docs" / "benchmarks.md"
    current = path.read_text()
    if START in current:
        before, rest = current.split(START, 1)
        after = rest.split(END, 1)[1]
        current = before + text + after
    else:
        current = current.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(current)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-rows", type=int, nargs="+", default=[10_000, 1_000_000, 10_000_000])
    parser.add_argument("--new", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="write the section of docs/benchmarks.md")
    args = parser.parse_args()
    results = measure(args.log_rows, args.new, args.repeats)
    print(json.dumps(results, indent=2))
    if args.write:
        write(section(results))


if __name__ == "__main__":
    main()
