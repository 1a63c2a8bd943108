"""A steady trickle of real requests through the scoring service, so the demo's monitors have live traffic.

``make demo`` starts this beside the app, the worker and ``steward serve``:
each target deployment gets single-record requests drawn from its sample
production rows at a steady rate, and once per cycle a *slow stretch* of
large batch requests (a client bulk-scoring a portfolio), so that Service
health shows real percentiles against the SLA lines and one breach within
minutes. The latency is the service's own answer time for bigger requests,
not a sleep injected anywhere.

It is a client like any other: it holds an API key, never touches the
database, and keeps going when the service is briefly away (start-up, a
swap, a restart), counting what failed instead of stopping.
"""

from __future__ import annotations

import csv
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

logger = logging.getLogger(__name__)

API_KEY_HEADER = "X-API-Key"


@dataclass(frozen=True)
class Target:
    """One deployment to drive, and the production rows its requests are drawn from."""

    environment: str
    pipeline: str
    rows_file: Path
    drop_columns: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()  # when given, only these (the pipeline's input schema), in this order


@dataclass(frozen=True)
class TrafficPlan:
    """How hard to drive each target: a steady rate, and a slow stretch once per cycle."""

    requests_per_second: float = 4.0
    cycle_seconds: float = 600.0
    slow_start_seconds: float = 120.0  # into each cycle
    slow_seconds: float = 90.0
    slow_batch_rows: int = 400
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.requests_per_second <= 0:
            raise ValueError("requests_per_second must be above 0")
        if (
            not 0
            <= self.slow_start_seconds
            <= self.slow_start_seconds + self.slow_seconds
            <= self.cycle_seconds
        ):
            raise ValueError("the slow stretch must lie inside the cycle")
        if self.slow_batch_rows < 1:
            raise ValueError("slow_batch_rows must be at least 1")

    def in_slow_stretch(self, elapsed: float) -> bool:
        into_cycle = elapsed % self.cycle_seconds
        return self.slow_start_seconds <= into_cycle < self.slow_start_seconds + self.slow_seconds


@dataclass
class TrafficCounts:
    """What the trickle did, for its log line and for tests."""

    sent: int = 0
    answered: int = 0
    failed: int = 0
    batches: int = 0
    versions: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, *, ok: bool, batch: bool, version: str | None) -> None:
        with self.lock:
            self.sent += 1
            self.batches += batch
            if ok:
                self.answered += 1
                if version is not None:
                    self.versions.add(version)
            else:
                self.failed += 1


def read_rows(target: Target) -> list[dict[str, Any]]:
    """The target's production rows as JSON records (numbers as numbers), without the dropped columns."""
    with target.rows_file.open(newline="", encoding="utf-8") as handle:
        wanted = target.columns or None
        rows = [
            {
                name: _number_or_text(row[name])
                for name in (wanted or row.keys())
                if name in row and name not in target.drop_columns
            }
            for row in csv.DictReader(handle)
        ]
    if not rows:
        raise ValueError(f"{target.rows_file} has no rows to send")
    return rows


def _number_or_text(value: str) -> Any:
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value else number


class Trickle:
    """Drives every target at the plan's rate until ``stop()``; one thread, one HTTP client."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        targets: Sequence[Target],
        plan: TrafficPlan | None = None,
        *,
        seed: int = 2026,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not targets:
            raise ValueError("the trickle needs at least one target")
        self.base_url = base_url.rstrip("/")
        self.plan = plan or TrafficPlan()
        self.targets = list(targets)
        self.rows = {target: read_rows(target) for target in self.targets}
        self.counts = TrafficCounts()
        self._random = random.Random(seed)  # noqa: S311 - which demo row to send, not a secret
        self._monotonic = monotonic
        self._stopped = threading.Event()
        self._client = httpx.Client(
            headers={API_KEY_HEADER: api_key},
            timeout=self.plan.timeout_seconds,
            follow_redirects=False,
        )

    def url(self, target: Target) -> str:
        environment, pipeline = quote(target.environment, safe=""), quote(target.pipeline, safe="")
        return f"{self.base_url}/v1/{environment}/{pipeline}/predict"

    def send_one(self, target: Target, *, slow: bool) -> None:
        rows = self.rows[target]
        body: Any = (
            self._random.sample(rows, min(self.plan.slow_batch_rows, len(rows)))
            if slow
            else self._random.choice(rows)
        )
        try:
            response = self._client.post(self.url(target), json=body)
        except httpx.HTTPError as error:
            self.counts.add(ok=False, batch=slow, version=None)
            logger.debug("demo traffic to %s/%s failed: %s", target.environment, target.pipeline, error)
            return
        ok = response.status_code == 200
        version = None
        if ok:
            answer = response.json()
            version = str(answer.get("version")) if isinstance(answer, dict) else None
        self.counts.add(ok=ok, batch=slow, version=version)

    def wait_ready(self, timeout: float = 300.0, poll: float = 0.5) -> bool:
        """Wait until the scoring service is ready (``/readyz`` 200), so no request meets it loading.

        The demo starts the trickle beside the service; requests sent while it
        still loads its models fail and would read as errors on Service health.
        False when ``timeout`` passes (or ``stop()`` is called) first.
        """
        deadline = self._monotonic() + timeout
        while not self._stopped.is_set():
            try:
                if self._client.get(f"{self.base_url}/readyz").status_code == 200:
                    return True
            except httpx.HTTPError:
                pass  # not listening yet
            if self._monotonic() >= deadline:
                return False
            self._stopped.wait(poll)
        return False

    def run(self, duration: float | None = None) -> TrafficCounts:
        """Send until stopped (or for ``duration`` seconds); paced so each target gets the plan's rate."""
        started = self._monotonic()
        interval = 1.0 / self.plan.requests_per_second
        next_at = started
        last_report = started
        while not self._stopped.is_set():
            now = self._monotonic()
            if duration is not None and now - started >= duration:
                break
            slow = self.plan.in_slow_stretch(now - started)
            for target in self.targets:
                self.send_one(target, slow=slow)
            if now - last_report >= 60:
                last_report = now
                logger.info("demo traffic: %d sent, %d answered, %d failed", *self._snapshot())
            next_at += interval
            self._stopped.wait(max(0.0, next_at - self._monotonic()))
        self._client.close()
        return self.counts

    def _snapshot(self) -> tuple[int, int, int]:
        with self.counts.lock:
            return self.counts.sent, self.counts.answered, self.counts.failed

    def stop(self) -> None:
        self._stopped.set()


CONFIG_VARIABLE = "STEWARD_DEMO_TRAFFIC"


def config_json(base_url: str, api_key: str, targets: Sequence[Target], plan: TrafficPlan) -> str:
    """What the launcher hands the trickle process (in its environment: the key never touches a file)."""
    import json
    from dataclasses import asdict

    return json.dumps(
        {
            "url": base_url,
            "key": api_key,
            "targets": [
                {**asdict(t), "rows_file": str(t.rows_file), "drop_columns": list(t.drop_columns)}
                for t in targets
            ],
            "plan": asdict(plan),
        }
    )


def main() -> None:
    """``python -m steward.app.demo_traffic``: run the trickle the launcher configured, until SIGTERM."""
    import json
    import os
    import signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s demo-traffic %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the demo's output
    config = json.loads(os.environ[CONFIG_VARIABLE])
    targets = [
        Target(
            t["environment"],
            t["pipeline"],
            Path(t["rows_file"]),
            tuple(t.get("drop_columns", ())),
            tuple(t.get("columns", ())),
        )
        for t in config["targets"]
    ]
    trickle = Trickle(config["url"], config["key"], targets, TrafficPlan(**config["plan"]))
    signal.signal(signal.SIGTERM, lambda _signum, _frame: trickle.stop())
    try:
        if not trickle.wait_ready():
            logger.warning("the scoring service is not ready after 300 s; sending anyway")
        counts = trickle.run()
    except KeyboardInterrupt:
        trickle.stop()
        return
    logger.info("stopped: %d sent, %d answered, %d failed", counts.sent, counts.answered, counts.failed)


if __name__ == "__main__":
    main()
