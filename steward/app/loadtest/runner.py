"""The Locust runner: replay rows against ``POST /v1/{environment}/{pipeline}/predict`` at a steady rate.

Importing this module imports Locust, which monkey-patches the interpreter
with gevent: import it only in a process that exists to generate load (see
``steward.app.loadtest``). Locust drives the traffic (simulated clients, each
pacing itself with ``constant_throughput``, over HTTP keep-alive connections
of ``FastHttpUser``); every answer's latency is kept exactly, from Locust's
own request events, so the percentiles are not Locust's rounded buckets.

Each request sends one record (a JSON object) with the API key in
``X-API-Key``. A 200 answer names the version that answered and whether the
primary or the fallback served; an answer from anything but the tested
version counts against the run (it did not measure that version).
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import gevent
import locust  # noqa: F401 - first: Locust's gevent patching must precede sockets and threads
from locust import FastHttpUser, constant_throughput, task
from locust.env import Environment

from steward.core.domain.loadtest import LoadResult, LoadTestRun, LoadTestStatus, percentile
from steward.core.errors import StewardError
from steward.core.steward import Steward

API_KEY_HEADER = "X-API-Key"
HEARTBEAT_SECONDS = 1.0
NETWORK_TIMEOUT_SECONDS = 10.0  # an answer slower than this is an error; also how long the end waits
MAX_ERROR_EXAMPLES = 5
Progress = Callable[[float, int], None]  # (seconds elapsed, requests answered so far)


def predict_path(environment: str, pipeline: str) -> str:
    return f"/v1/{quote(environment, safe='')}/{quote(pipeline, safe='')}/predict"


def answered_by(payload: object) -> tuple[str, bool]:
    """(version label, served by the fallback) as the scoring service names them in its answer."""
    if not isinstance(payload, Mapping):
        return "unnamed", False
    version = payload.get("version", payload.get("version_number"))
    label = f"v{version}" if isinstance(version, int) else str(version) if version is not None else "unnamed"
    served = str(payload.get("served_by", payload.get("source", ""))).lower()
    fallback = bool(payload.get("fallback")) or served == "fallback"
    return label, fallback


@dataclass
class Tally:
    """What the run saw; filled from Locust's request events and the answers' bodies."""

    expected: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    other: int = 0
    examples: list[str] = field(default_factory=list)

    def on_request(self, response_time: float, exception: BaseException | None = None, **_: Any) -> None:
        self.latencies_ms.append(float(response_time))
        if exception is not None:
            self.errors += 1
            text = str(exception).splitlines()[0][:300] if str(exception) else type(exception).__name__
            if text not in self.examples and len(self.examples) < MAX_ERROR_EXAMPLES:
                self.examples.append(text)

    def answer(self, payload: object) -> None:
        label, fallback = answered_by(payload)
        self.answers[f"{label} (fallback)" if fallback else label] += 1
        if fallback or label != self.expected:
            self.other += 1

    def result(self, seconds: float, rows_used: int) -> LoadResult:
        values = sorted(self.latencies_ms)
        requests = len(values)
        return LoadResult(
            requests=requests,
            errors=self.errors,
            p50_ms=percentile(values, 0.50),
            p95_ms=percentile(values, 0.95),
            p99_ms=percentile(values, 0.99),
            throughput_rps=(requests - self.errors) / seconds if seconds > 0 else None,
            answers=dict(self.answers),
            other_answers=self.other,
            error_examples=tuple(self.examples),
            rows_used=rows_used,
        )


def client_class(
    run: LoadTestRun, rows: Sequence[Mapping[str, Any]], api_key: str | None, tally: Tally
) -> type[FastHttpUser]:
    """A Locust user for this run: each instance posts the rows in turn, paced to its share of the rate."""
    path = predict_path(run.environment_name, run.pipeline_name)
    headers = {API_KEY_HEADER: api_key} if api_key else {}
    bodies = [json.dumps(row, allow_nan=False) for row in rows]
    turn = itertools.count()

    class ScoringClient(FastHttpUser):
        host = run.target_url.rstrip("/")
        wait_time = constant_throughput(run.plan.per_user_rps)
        network_timeout = NETWORK_TIMEOUT_SECONDS
        connection_timeout = 5.0

        @task
        def predict(self) -> None:
            body = bodies[next(turn) % len(bodies)]
            with self.client.post(
                path,
                data=body,
                headers={"Content-Type": "application/json", **headers},
                name="predict",
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    text = (response.text or "")[:200] if response.status_code else ""
                    response.failure(f"HTTP {response.status_code or 'no answer'} {text}".strip())
                    return
                try:
                    tally.answer(response.json())
                except ValueError:
                    response.failure("the answer was not JSON")
                    return
                response.success()

    return ScoringClient


def drive(
    run: LoadTestRun,
    rows: Sequence[Mapping[str, Any]],
    *,
    api_key: str | None,
    heartbeat: Callable[[int], LoadTestStatus],
    on_progress: Progress | None = None,
) -> LoadResult:
    """Send the planned load for the planned time; stop early if the run was closed meanwhile."""
    tally = Tally(expected=f"v{run.version_number}")
    # At the end, requests already sent finish (and count) instead of being cut off mid-flight.
    environment = Environment(
        user_classes=[client_class(run, rows, api_key, tally)], stop_timeout=NETWORK_TIMEOUT_SECONDS
    )
    environment.events.request.add_listener(tally.on_request)  # type: ignore[no-untyped-call]
    runner = environment.create_local_runner()
    started = time.perf_counter()
    # Spread the clients' starts over one pacing interval: started together they would stay in step
    # and send bursts (every client at the same instant), measuring queueing the steady rate never causes.
    runner.start(run.plan.users, spawn_rate=run.plan.rps)
    try:
        while (elapsed := time.perf_counter() - started) < run.plan.duration_seconds:
            gevent.sleep(min(HEARTBEAT_SECONDS, run.plan.duration_seconds - elapsed))
            done = len(tally.latencies_ms)
            if on_progress is not None:
                on_progress(min(time.perf_counter() - started, run.plan.duration_seconds), done)
            if heartbeat(done) is not LoadTestStatus.RUNNING:
                break
    finally:
        seconds = time.perf_counter() - started  # the time traffic was sent for
        runner.quit()
    return tally.result(seconds, len(rows))


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run(steward: Steward, run_id: int, on_progress: Progress | None = None) -> LoadTestRun:
    """Claim a queued load test, replay its rows against the scoring service, store what it measured."""
    service = steward.loadtests
    claimed = service.claim(run_id, runner_name())
    try:
        rows = service.replay_rows(run_id)
        key = steward.settings.loadtest_api_key
        result = drive(
            claimed,
            rows,
            api_key=key.get_secret_value() if key is not None else None,
            heartbeat=lambda done: service.heartbeat(run_id, done),
            on_progress=on_progress,
        )
    except StewardError as problem:
        service.fail(run_id, str(problem))
        raise
    except KeyboardInterrupt:
        service.fail(run_id, "interrupted before it finished; nothing was measured")
        raise
    except Exception as problem:  # any crash is recorded on the run, then surfaces
        service.fail(run_id, f"the runner crashed: {type(problem).__name__}: {problem}")
        raise
    return service.complete(run_id, result)
