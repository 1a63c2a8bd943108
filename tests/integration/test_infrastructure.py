"""Probes (database, artifact store, data folder, scheduler), compute, and the infrastructure status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from steward.core.domain.accounts import Actor
from steward.core.domain.infrastructure import Health
from steward.core.services.heartbeats import ProcessReading
from steward.core.steward import Steward
from testkit import make_settings

WORKER = Actor.system_actor("worker")


def reading(cpu: float, load: float, host: str = "host-a", pid: int = 1) -> ProcessReading:
    return ProcessReading(
        pid, host, datetime(2026, 11, 26, 8, tzinfo=UTC), 5.0, 100_000_000, 3, 2, cpu, load, 50.0, 2
    )


def test_the_database_probe_reads_latency_size_and_growth(steward, clock):
    probe = steward.infrastructure.probe_database("test")
    assert probe.health is Health.UP and probe.readings["latency_ms"] < 250
    assert probe.readings["size_bytes"] > 50_000 and probe.readings["dialect"] == steward.engines.dialect
    assert "round trip" in probe.reason and "growth: not enough history yet" in probe.reason
    steward.infrastructure.record_probes()
    clock.advance(hours=2)
    later = steward.infrastructure.probe_database("test")
    assert "growth_bytes_per_day" in later.readings and "a day" in later.reason


def test_an_unreachable_database_is_down_with_the_reason(tmp_path):
    broken = Steward(make_settings(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none"))
    probe = broken.infrastructure.probe_database()
    assert probe.health is Health.DOWN and probe.reason.startswith(
        "unreachable: postgresql+psycopg://nobody@"
    )
    broken.close()


def test_the_artifact_store_is_written_and_cleaned_and_an_unwritable_one_is_down(steward, tmp_path):
    probe = steward.infrastructure.probe_artifact_store()
    root = steward.settings.resolved_artifact_root.resolve()
    assert (
        probe.health is Health.UP and probe.readings["writable"] is True and probe.readings["free_bytes"] > 0
    )
    assert list(root.glob(".probe-*")) == []  # the probe file was deleted
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store should be")
    other = Steward(
        make_settings(tmp_path, steward.settings.database_url, artifact_root=blocked / "artifacts")
    )
    down = other.infrastructure.probe_artifact_store()
    assert down.health is Health.DOWN and "not-a-folder" in down.reason
    other.close()


def test_the_scheduler_probe_names_the_leader_and_each_jobs_last_and_next_run(steward, clock):
    assert steward.infrastructure.probe_scheduler().health is Health.UNKNOWN  # no worker ever ran
    fence = steward.leases.acquire("worker", "host-a:1", timedelta(seconds=30)).fence()
    jobs = {"jobs": [{"name": "audit.checkpoint", "every_seconds": 3600, "why": "sign"}], "leader": True}
    steward.heartbeats.beat("worker", "worker", jobs, instance="host-a:1", reading=reading(5, 0.1))
    steward.jobs.run_once("audit.checkpoint", timedelta(hours=1), "host-a:1", lambda: "signed", fence=fence)
    probe = steward.infrastructure.probe_scheduler()
    assert probe.health is Health.UP and "host-a:1 leads (token 1)" in probe.reason
    (job,) = steward.infrastructure.schedule()
    assert (
        job.last is not None
        and job.last.status == "ok"
        and job.next_at == datetime(2026, 11, 26, 10, tzinfo=UTC)
    )
    clock.advance(minutes=5)  # the leader dies: its lease runs out and nobody beats
    probe = steward.infrastructure.probe_scheduler()
    assert probe.health is Health.DOWN and "no worker beats: scheduled jobs are not running" in probe.reason


def test_sustained_cpu_or_load_turns_compute_amber_then_red(steward, clock):
    for _minute in range(5):
        steward.heartbeats.beat("app", "app", instance="host-a:1", reading=reading(cpu=100.0, load=10.5))
        clock.advance(minutes=1)
    (compute,) = steward.infrastructure.compute()
    assert compute.component == "Compute on host-a" and compute.health is Health.DOWN
    assert "CPU averaged 100 % over the last 5 min (red at 95)" in compute.reason
    assert "load averaged 5.25 per core" in compute.reason
    status = steward.infrastructure.status()
    assert status.health is Health.DOWN and status.reading("Compute on host-a") is not None
    lamp = next(lamp for lamp in steward.signals.lamps() if lamp.page == "Infrastructure")
    assert lamp.light.value == "red"


def test_one_busy_minute_is_not_sustained(steward, clock):
    steward.heartbeats.beat("app", "app", instance="host-a:1", reading=reading(cpu=100.0, load=10.0))
    (compute,) = steward.infrastructure.compute()
    assert compute.health is Health.UNKNOWN and "judged once 3 min of readings exist" in compute.reason


def test_status_reads_recorded_probes_and_filters_replicas_by_environment(steward, clock):
    steward.infrastructure.check(WORKER)
    for environment in ("Prod", "Test"):
        steward.heartbeats.beat(
            "scoring",
            environment,
            {"environment": environment},
            instance=f"host-a:{environment}",
            reading=reading(5, 0.1),
        )
    clock.advance(seconds=40)
    steward.heartbeats.beat(
        "scoring", "Prod", {"environment": "Prod"}, instance="host-a:Prod", reading=reading(5, 0.1)
    )
    everything = steward.infrastructure.status()
    assert everything.health is Health.DOWN and everything.reason.startswith(
        "Scoring replica Test: host-a:Test"
    )
    prod = steward.infrastructure.status(environment="Prod")
    assert [c.name for c in prod.components] == ["Prod"]
    database = prod.reading("Database")
    assert database is not None and database.read_by.endswith(str(__import__("os").getpid()))
