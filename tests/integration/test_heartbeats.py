"""Heartbeats: what a beat records, when a component turns late, lost or stopped, and one alert per loss."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from steward.core.adapters.db.models import AuditEventRow
from steward.core.domain.accounts import Actor
from steward.core.domain.infrastructure import BeatState, Health
from steward.core.errors import InvalidInput
from steward.core.services.heartbeats import HeartbeatThread, ProcessReading
from steward.core.services.uow import UnitOfWork
from steward.core.steward import Steward
from testkit import REPO_ROOT, TEST_SCRYPT_N, make_settings

WORKER = Actor.system_actor("worker")


def reading(
    pid: int = 4242, host: str = "host-a", cpu: float = 10.0, load: float = 0.5, **extra
) -> ProcessReading:
    values = {
        "pid": pid,
        "host": host,
        "started_at": datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
        "cpu_percent": 3.0,
        "memory_bytes": 150_000_000,
        "open_files": 7,
        "threads": 4,
        "host_cpu_percent": cpu,
        "host_load_1m": load,
        "host_memory_percent": 40.0,
        "host_cpu_count": 2,
    }
    return ProcessReading(**(values | extra))


def test_a_beat_records_the_process_as_psutil_sees_it(steward):
    beat = steward.heartbeats.beat(
        "scoring", "Prod", {"environment": "Prod", "versions": {"credit-default": "v2"}}
    )
    assert beat.pid == os.getpid() and beat.instance.endswith(f":{os.getpid()}")
    assert beat.memory_bytes > 10_000_000 and beat.threads >= 1 and beat.open_files >= 0
    assert beat.version == "0.1.0" and beat.started_at <= datetime.now(UTC)
    assert beat.versions == {"credit-default": "v2"} and beat.environment == "Prod"
    (component,) = steward.heartbeats.components()
    assert component.health is Health.UP and component.label == "Scoring replica Prod"
    assert component.environment == "Prod"


def test_bad_names_and_oversized_details_are_refused(steward):
    with pytest.raises(InvalidInput, match="component kind"):
        steward.heartbeats.beat("Scoring Service", "Prod")
    with pytest.raises(InvalidInput, match="the limit is"):
        steward.heartbeats.beat("scoring", "Prod", {"blob": "x" * 20_000})


def test_late_then_lost_then_resumed_opens_one_alert(steward, clock):
    steward.heartbeats.beat("worker", "worker", instance="host-a:1", interval=5, reading=reading(1))
    clock.advance(seconds=14)
    (worker,) = steward.heartbeats.components()
    assert worker.health is Health.DEGRADED and worker.instances[0].state is BeatState.LATE
    assert "last heartbeat 14 s ago (beats every 5.0 s)" in worker.reason
    assert steward.heartbeats.detect_lost(WORKER) == []  # late is not lost
    clock.advance(seconds=17)  # 31 s of silence, timeout 30 s
    (worker,) = steward.heartbeats.components()
    assert worker.health is Health.DOWN and "no heartbeat for 31 s (timeout 30 s)" in worker.reason
    assert [b.instance for b in steward.heartbeats.detect_lost(WORKER)] == ["host-a:1"]
    for _ in range(3):  # every later check sees it lost already: no new event
        clock.advance(seconds=10)
        assert steward.heartbeats.detect_lost(WORKER) == []
    (alert,) = steward.alerts.unresolved()
    assert alert.kind == "heartbeat.lost" and alert.object_id == "worker/worker" and alert.count == 1
    assert (
        "host-a:1 (pid 1 on host-a) no heartbeat for 31 s" in alert.detail and alert.page == "Infrastructure"
    )
    steward.heartbeats.beat("worker", "worker", instance="host-a:1", interval=5, reading=reading(1))
    assert steward.heartbeats.components()[0].health is Health.UP
    with UnitOfWork(steward.ctx, write=False) as uow:
        resumed = list(
            uow.session.scalars(
                select(AuditEventRow.detail).where(AuditEventRow.action == "heartbeat.resumed")
            )
        )
    assert resumed == ["host-a:1 beats again after 61 s of silence"]


def test_two_checkers_record_a_loss_once(steward, tmp_path, database_url, clock):
    other = Steward(make_settings(tmp_path, database_url), clock=clock)
    steward.heartbeats.beat("app", "app", instance="host-a:7", reading=reading(7))
    clock.advance(seconds=60)
    found = steward.heartbeats.detect_lost(WORKER) + other.heartbeats.detect_lost(Actor.system_actor("app"))
    assert len(found) == 1 and len(steward.alerts.unresolved()) == 1
    other.close()


def test_a_clean_stop_is_grey_and_a_restart_replaces_a_lost_process(steward, clock):
    steward.heartbeats.beat("worker", "worker", instance="host-a:1", reading=reading(1))
    steward.heartbeats.stop("worker", "worker", instance="host-a:1")
    clock.advance(minutes=5)
    (worker,) = steward.heartbeats.components()
    assert worker.health is Health.UNKNOWN and worker.instances[0].state is BeatState.STOPPED
    assert steward.heartbeats.detect_lost(WORKER) == []  # stopped on purpose: no alert
    steward.heartbeats.beat("worker", "worker", instance="host-a:2", reading=reading(2))
    clock.advance(minutes=5)  # host-a:2 dies ...
    assert steward.heartbeats.components()[0].health is Health.DOWN
    later = reading(3, started_at=clock.now())
    steward.heartbeats.beat("worker", "worker", instance="host-a:3", reading=later)  # ... and is restarted
    (worker,) = steward.heartbeats.components()
    states = {i.heartbeat.instance: i.state for i in worker.instances}
    assert worker.health is Health.UP and states["host-a:2"] is BeatState.REPLACED


def test_one_lost_replica_of_several_degrades_the_component(steward, clock):
    for pid, host in ((1, "host-a"), (2, "host-b")):
        steward.heartbeats.beat("scoring", "Prod", instance=f"{host}:{pid}", reading=reading(pid, host))
    clock.advance(seconds=40)
    steward.heartbeats.beat("scoring", "Prod", instance="host-a:1", reading=reading(1, "host-a"))
    (replicas,) = steward.heartbeats.components()
    assert replicas.health is Health.DEGRADED and "1 of 2 lost (host-b:2" in replicas.reason


def test_history_is_one_sample_per_process_per_minute_and_pruned(steward, clock):
    clock.set(datetime(2026, 11, 26, 9, 0, 5, tzinfo=UTC))
    for cpu in (10.0, 20.0, 60.0):
        steward.heartbeats.beat("app", "app", instance="host-a:7", reading=reading(7, cpu=cpu))
        clock.advance(seconds=15)
    clock.advance(seconds=30)
    steward.heartbeats.beat("app", "app", instance="host-a:7", reading=reading(7, cpu=90.0))
    first, second = steward.heartbeats.history(clock.now() - timedelta(hours=1))
    assert (first.beats, first.host_cpu_percent) == (3, 30.0) and (second.beats, second.host_cpu_percent) == (
        1,
        90.0,
    )
    clock.advance(hours=25)
    steward.heartbeats.beat("app", "app", instance="host-a:8", reading=reading(8))
    assert "pruned 3 heartbeat row(s)" in steward.infrastructure.prune()  # two samples and the silent process
    assert [b.instance for b in steward.heartbeats.list()] == ["host-a:8"]


def test_the_thread_beats_and_says_goodbye(steward):
    thread = HeartbeatThread(
        steward.heartbeats, "scoring", "Test", details=lambda: {"versions": {"p": "v1"}}, every=0.1
    )
    thread.start()
    time.sleep(0.5)
    thread.stop()
    assert thread.beats >= 3 and not thread.alive
    (component,) = steward.heartbeats.components()
    assert component.instances[0].state is BeatState.STOPPED
    assert component.instances[0].heartbeat.versions == {"p": "v1"}


REPLICA = """
import os, sys, time
from steward.core.services.heartbeats import HeartbeatThread
from steward.core.steward import Steward
steward = Steward()
HeartbeatThread(steward.heartbeats, "scoring", "Prod", details={"environment": "Prod", "versions": {"credit-default": "v2"}}).start()
print("beating", flush=True)
time.sleep(120)
"""


def test_a_stopped_scoring_replica_turns_red_after_its_timeout_and_back_when_resumed(tmp_path, database_url):
    """A real process beating through HeartbeatThread, paused with SIGSTOP: red after the timeout, one alert."""
    settings = make_settings(tmp_path, database_url, heartbeat_seconds=0.3, heartbeat_timeout_seconds=1.5)
    steward = Steward(settings)
    steward.upgrade_database()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")} | {
        "STEWARD_DATABASE_URL": database_url,
        "STEWARD_DATA_DIR": str(tmp_path / "data"),
        "STEWARD_SCRYPT_N": str(TEST_SCRYPT_N),
        "STEWARD_HEARTBEAT_SECONDS": "0.3",
        "STEWARD_HEARTBEAT_TIMEOUT_SECONDS": "1.5",
    }
    replica = subprocess.Popen(
        [sys.executable, "-c", REPLICA], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert replica.stdout is not None and replica.stdout.readline().strip() == "beating"
        (component,) = steward.heartbeats.components()
        assert component.health is Health.UP and component.instances[0].heartbeat.pid == replica.pid
        replica.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        while steward.heartbeats.components()[0].health is not Health.DOWN:
            assert time.monotonic() - stopped < 10, "never turned red"
            time.sleep(0.1)
        assert time.monotonic() - stopped >= 1.2  # not before its timeout (less the last beat's age)
        (component,) = steward.heartbeats.components()
        assert "no heartbeat for" in component.reason and "(timeout 1.5 s)" in component.reason
        lost = steward.heartbeats.detect_lost(WORKER)
        assert [b.pid for b in lost] == [replica.pid] and steward.heartbeats.detect_lost(WORKER) == []
        (alert,) = steward.alerts.unresolved()
        assert alert.object_id == "scoring/Prod" and alert.severity.value == "critical"
        replica.send_signal(signal.SIGCONT)
        resumed = time.monotonic()
        while steward.heartbeats.components()[0].health is not Health.UP:
            assert time.monotonic() - resumed < 10, "never came back"
            time.sleep(0.1)
    finally:
        replica.send_signal(signal.SIGCONT)
        replica.kill()
        replica.wait()
        steward.close()
