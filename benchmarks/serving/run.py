"""Benchmark ``steward serve`` against a bare Starlette app calling the same pipeline, both driven by wrk.

Writes the "Scoring service" section of docs/benchmarks.md. Run by hand:
``.venv/bin/python benchmarks/serving/run.py [--seconds 10] [--rounds 2]``. Needs ``wrk``
(``apt install wrk``). Measures, in one run:

- single-record throughput (requests/s) and latency percentiles of both servers under the same
  wrk load (1 thread, 8 connections, keep-alive), rounds interleaved, the best round of each kept;
- the latency the contract check and the log add per record, in process: p50/p99 of
  ``check_records`` + queueing the log row, over 5000 production records.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from steward.core.config import Settings  # noqa: E402
from steward.core.domain.accounts import Actor  # noqa: E402
from steward.core.pipelines.schema import InputSchema  # noqa: E402
from steward.core.scoring.contract import check_records, parse_records  # noqa: E402
from steward.core.services.api_keys import ApiKeyService  # noqa: E402
from steward.core.steward import Steward  # noqa: E402

SAMPLE = ROOT / "steward" / "sample_data"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- serving-benchmark:start -->", "<!-- serving-benchmark:end -->"
LUA = """wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "{key}"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit(f"{url} never answered")


def wrk(url: str, script: Path, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", "-c8", f"-d{seconds}s", "--latency", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rate,
        "p50": ms("50"),
        "p99": ms("99"),
        "non2xx": float(errors.group(1)) if errors else 0.0,
    }


def setup(folder: Path) -> tuple[Steward, str, str, dict[str, object], pd.DataFrame]:
    settings = Settings(data_dir=folder / "data", database_url=f"sqlite:///{folder / 'steward.db'}")
    steward = Steward(settings)
    steward.upgrade_database()
    datasets = settings.data_dir / "datasets" / "credit"
    datasets.mkdir(parents=True)
    shutil.copyfile(SAMPLE / "credit" / "train.csv", datasets / "train.csv")
    actor = Actor.system_actor("benchmark")
    steward.pipelines.register(actor, (SAMPLE / "specs" / "credit_default.toml").read_text())
    version = steward.pipelines.train(actor, "credit-default", importances=False)
    steward.promotions.request(actor, "credit-default", version.number, "Dev", "benchmark")
    key = ApiKeyService(steward.ctx).create(actor, "benchmark", ["Dev"]).secret
    production = pd.read_csv(SAMPLE / "credit" / "production.csv")
    names = [c["name"] for c in version.schema["columns"]]
    record = {k: (v.item() if hasattr(v, "item") else v) for k, v in production[names].iloc[0].items()}
    return steward, version.id, key, record, production[names]


def in_process(steward: Steward, version_id: str, production: pd.DataFrame) -> dict[str, float]:
    """Per record: parsing, the schema check and building + queueing the log row (what serve adds)."""
    import queue

    version = steward.pipelines.version_by_id(version_id)
    schema = InputSchema.from_dict(version.schema)
    bodies = [json.dumps(r).encode() for r in production.head(5000).to_dict(orient="records")]
    sink: queue.SimpleQueue[dict[str, object]] = queue.SimpleQueue()
    added, added_cpu = [], []
    for body in bodies:
        started, cpu = time.perf_counter(), time.thread_time()
        records, _batch = parse_records(body, max_fields=len(schema.columns) + 8)
        check_records(schema, records)
        sink.put({"features_json": json.dumps(records[0]), "output_json": "{}", "latency_ms": 0.0})
        added.append((time.perf_counter() - started) * 1000)
        added_cpu.append((time.thread_time() - cpu) * 1000)
    bare = []
    for body in bodies:  # what the bare app does instead: parse and build the frame
        started = time.perf_counter()
        pd.DataFrame.from_records([json.loads(body)], columns=list(schema.names))
        bare.append((time.perf_counter() - started) * 1000)
    return {
        "added_p50": float(np.percentile(added, 50)),
        "added_p99": float(np.percentile(added, 99)),
        "added_cpu_p50": float(np.percentile(added_cpu, 50)),
        "added_cpu_p99": float(np.percentile(added_cpu, 99)),
        "bare_p50": float(np.percentile(bare, 50)),
        "bare_p99": float(np.percentile(bare, 99)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="steward-serving-bench-"))
    steward, version_id, key, record, production = setup(folder)
    env = {
        **os.environ,
        "STEWARD_DATA_DIR": str(folder / "data"),
        "STEWARD_DATABASE_URL": f"sqlite:///{folder / 'steward.db'}",
    }
    serve_port, bare_port = free_port(), free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "steward.app.serving", "--port", str(serve_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bare = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("bare.py")),
            str(folder / "data"),
            env["STEWARD_DATABASE_URL"],
            version_id,
            str(bare_port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    script = folder / "post.lua"
    script.write_text(LUA.format(body=json.dumps(record), key=key))
    serve_url = f"http://127.0.0.1:{serve_port}/v1/Dev/credit-default/predict"
    bare_url = f"http://127.0.0.1:{bare_port}/predict"
    try:
        wait(f"http://127.0.0.1:{serve_port}/healthz", serve)
        wait(f"http://127.0.0.1:{bare_port}/predict", bare)
        check = httpx.post(serve_url, json=record, headers={"X-API-Key": key}).json()
        assert check["version"] == 1, check
        results: dict[str, list[dict[str, float]]] = {"serve": [], "bare": []}
        for _ in range(args.rounds):
            results["bare"].append(wrk(bare_url, script, args.seconds))
            results["serve"].append(wrk(serve_url, script, args.seconds))
        time.sleep(1.0)
        with steward.engines.read.connect() as connection:
            from sqlalchemy import text

            logged = connection.execute(
                text("SELECT count(*) FROM predictions WHERE source = 'http'")
            ).scalar()
    finally:
        for process in (serve, bare):
            process.terminate()
            process.wait(30)
    best = {name: max(runs, key=lambda r: r["rps"]) for name, runs in results.items()}
    local = in_process(steward, version_id, production)
    steward.close()
    write_doc(best, results, local, int(logged or 0), args.seconds)
    print(json.dumps({"best": best, "in_process": local, "logged": logged}, indent=2))


def write_doc(
    best: dict[str, dict[str, float]],
    results: dict[str, list[dict[str, float]]],
    local: dict[str, float],
    logged: int,
    seconds: int,
) -> None:
    ratio = best["serve"]["rps"] / best["bare"]["rps"]
    rows = "\n".join(
        f"| {name} | {i + 1} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']:.0f} |"
        for name, runs in results.items()
        for i, r in enumerate(runs)
    )
    section = f"""{START}
## Scoring service (`benchmarks/serving/run.py`)

Single-record predicts of the credit-default pipeline (v1, logistic regression) over loopback,
driven by `wrk -t1 -c8 -d{seconds}s` from Debian, rounds interleaved, on a shared 2-core machine
(load average {os.getloadavg()[0]:.1f} when the run ended: absolute numbers are low and noisy; the
ratio compares the two servers under the same conditions).
`steward serve` checks the key, the input contract and logs every request (prediction log on,
{logged} rows written during the run); the baseline is a bare Starlette app calling the same
pipeline's `predict_proba` with no key, no contract, no log and no metrics.

| server | round | requests/s | p50 ms | p99 ms | non-2xx |
|---|---|---|---|---|---|
{rows}

- Throughput, best round each: **{ratio:.2f}x** the bare app (target >= 0.8x).
- Latency the contract check and the log add per record (in process, 5000 production records):
  wall clock p50 {local["added_p50"]:.3f} ms, p99 {local["added_p99"]:.3f} ms; CPU time of the
  thread (preemption by the machine's other processes excluded) p50 {local["added_cpu_p50"]:.3f} ms,
  **p99 {local["added_cpu_p99"]:.3f} ms** (target < 2 ms). Building the frame alone, as the bare
  app does: p50 {local["bare_p50"]:.3f} ms, p99 {local["bare_p99"]:.3f} ms (wall clock).
- Under wrk, p99 of `steward serve` minus p99 of the bare app (best rounds):
  {best["serve"]["p99"] - best["bare"]["p99"]:.2f} ms (includes queueing at 8 connections).
{END}
"""
    current = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if START in current:
        before, _, rest = current.partition(START)
        _, _, after = rest.partition(END)
        current = before + section.strip() + after
    else:
        current = current.rstrip() + "\n\n" + section
    DOC.write_text(current)


if __name__ == "__main__":
    main()
