"""A real worker serves Prometheus text on /metrics (a free port), from its own counters and the database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from steward.core.domain.accounts import Actor
from steward.core.steward import Steward
from testkit import REPO_ROOT, TEST_SCRYPT_N, make_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    series: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(httpx.get(url, timeout=5).text):
        for sample in family.samples:
            series.setdefault(sample.name, []).append((sample.labels, sample.value))
    return series


def test_the_worker_exposes_job_runs_alerts_heartbeat_age_and_its_lead(tmp_path, database_url):
    steward = Steward(make_settings(tmp_path, database_url))
    steward.upgrade_database()
    # An alert opened before the worker starts: a lost scoring replica.
    steward.heartbeats.beat("scoring", "Prod", instance="elsewhere:9", interval=0.2)
    time.sleep(1.2)
    steward.heartbeats.detect_lost(Actor.system_actor("test"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")} | {
        "STEWARD_DATABASE_URL": database_url,
        "STEWARD_DATA_DIR": str(tmp_path / "data"),
        "STEWARD_SCRYPT_N": str(TEST_SCRYPT_N),
        "STEWARD_HEARTBEAT_SECONDS": "0.5",
        "STEWARD_HEARTBEAT_TIMEOUT_SECONDS": "1",
        "STEWARD_WORKER_METRICS_PORT": str(port),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "steward.app.worker"],
        cwd=REPO_ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 60
        series: dict = {}
        while time.monotonic() < deadline:
            try:
                series = scrape(url)
                ran = {labels["job"] for labels, _ in series.get("steward_worker_job_runs_total", [])}
                # Catch-up runs every job at election, in parallel: wait for the two this test reads.
                if {"infrastructure.check", "audit.checkpoint"} <= ran:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        assert series, "no /metrics answer"
        assert (
            series["steward_worker_leader"] == [({}, 1.0)] and series["steward_worker_lease_token"][0][1] >= 1
        )
        assert series["steward_database_up"] == [({}, 1.0)]
        runs = {
            (labels["job"], labels["status"]): value
            for labels, value in series["steward_worker_job_runs_total"]
        }
        assert runs[("infrastructure.check", "ok")] >= 1 and runs[("audit.checkpoint", "ok")] == 1
        opened = {
            (labels["kind"], labels["severity"]): v for labels, v in series["steward_alerts_opened_total"]
        }
        assert opened == {("heartbeat.lost", "critical"): 1.0}
        assert series["steward_alerts_unresolved"] == [({"severity": "critical"}, 1.0)]
        ages = {labels["instance"]: value for labels, value in series["steward_heartbeat_age_seconds"]}
        assert ages[f"{socket.gethostname()}:{worker.pid}"] < 5 and ages["elsewhere:9"] > 1
        components = {labels["kind"]: value for labels, value in series["steward_component_up"]}
        assert components == {"worker": 1.0, "scoring": 0.0}
        assert "steward_batch_runs_total" not in series  # no batch has run: the family is there, empty
        assert {labels["job"] for labels, _ in series["steward_job_last_success_timestamp_seconds"]} >= {
            "audit.checkpoint"
        }
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=60)
        steward.close()
    assert worker.returncode == 0, stderr
    assert f"metrics on http://127.0.0.1:{port}/metrics" in stderr
