"""The worker's ``/metrics``: Prometheus text, from this worker's own counters and the database.

Two kinds of series (see docs/infrastructure.md for a scrape example):

- this worker's own, counted in-process: ``steward_worker_job_runs_total{job,status}``
  (``ok``, ``failed``, ``refused`` by the fence, ``skipped`` as a follower),
  ``steward_worker_missed_slots_total{job}``, ``steward_worker_leader`` and
  ``steward_worker_lease_token``;
- the installation's, read from the database at scrape time (the same on every
  worker: aggregate with ``max``): ``steward_batch_runs_total{environment,status}``,
  ``steward_alerts_opened_total{kind,severity}``, ``steward_alerts_unresolved{severity}``,
  ``steward_heartbeat_age_seconds{kind,name,instance}``, ``steward_component_up{kind,name}``
  and ``steward_job_last_success_timestamp_seconds{job}``.

A private registry (not prometheus-client's global one) keeps tests and
several workers in one process apart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from steward.core.domain.infrastructure import Health
from steward.core.services.fencing import Fence
from steward.core.services.jobs import JobRun
from steward.core.steward import Steward

log = logging.getLogger(__name__)


class DatabaseCollector(Collector):
    """Series read from the database at each scrape; one that cannot read it reports database_up 0."""

    def __init__(self, steward: Steward) -> None:
        self.steward = steward

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(
            "steward_database_up", "1 when the worker could read the database for this scrape"
        )
        try:
            snapshot = self.steward.infrastructure.metrics()
        except SQLAlchemyError as problem:
            log.warning("/metrics: database not readable (%s)", type(problem).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        batch = CounterMetricFamily(
            "steward_batch_runs",
            "Batch runs recorded, by environment and status",
            labels=["environment", "status"],
        )
        for (environment, status), count in sorted(snapshot.batch_runs.items()):
            batch.add_metric([environment, status], count)
        yield batch
        opened = CounterMetricFamily(
            "steward_alerts_opened", "Alerts ever opened, by kind and severity", labels=["kind", "severity"]
        )
        for (kind, severity), count in sorted(snapshot.alerts_opened.items()):
            opened.add_metric([kind, severity], count)
        yield opened
        unresolved = GaugeMetricFamily(
            "steward_alerts_unresolved", "Alerts not yet resolved", labels=["severity"]
        )
        for severity, count in sorted(snapshot.alerts_unresolved.items()):
            unresolved.add_metric([severity], count)
        yield unresolved
        age = GaugeMetricFamily(
            "steward_heartbeat_age_seconds",
            "Seconds since each process's last heartbeat (processes stopped cleanly are left out)",
            labels=["kind", "name", "instance"],
        )
        for beat, seconds in snapshot.heartbeats:
            if beat.stopped_at is None:
                age.add_metric([beat.kind, beat.name, beat.instance], round(seconds, 3))
        yield age
        component = GaugeMetricFamily(
            "steward_component_up",
            "1 up, 0.5 degraded, 0 down, per component (grey components are left out)",
            labels=["kind", "name"],
        )
        values = {Health.UP: 1.0, Health.DEGRADED: 0.5, Health.DOWN: 0.0}
        for judged in snapshot.components:
            if judged.health in values:
                component.add_metric([judged.kind, judged.name], values[judged.health])
        yield component
        success = GaugeMetricFamily(
            "steward_job_last_success_timestamp_seconds",
            "When each job last finished ok (Unix time)",
            labels=["job"],
        )
        for job, finished in sorted(snapshot.job_last_success.items()):
            success.add_metric([job], finished.timestamp())
        yield success


class WorkerMetrics:
    """This worker's counters and, once :meth:`serve` is called, the HTTP endpoint serving them."""

    def __init__(self, steward: Steward, leader: Callable[[], Fence | None]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.job_runs = Counter(
            "steward_worker_job_runs",
            "Job slots this worker handled, by job and outcome (ok, failed, refused, skipped)",
            ["job", "status"],
            registry=self.registry,
        )
        self.missed = Counter(
            "steward_worker_missed_slots",
            "Slots nobody ran, coalesced into a run by this worker",
            ["job"],
            registry=self.registry,
        )
        leading = Gauge("steward_worker_leader", "1 while this worker leads, else 0", registry=self.registry)
        leading.set_function(lambda: 1.0 if leader() is not None else 0.0)
        token = Gauge(
            "steward_worker_lease_token",
            "The lease token this worker leads with (0: follower)",
            registry=self.registry,
        )
        token.set_function(lambda: float(fence.token) if (fence := leader()) is not None else 0.0)
        self.registry.register(DatabaseCollector(steward))
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    def ran(self, run: JobRun) -> None:
        self.job_runs.labels(run.job, run.status).inc()
        if run.missed:
            self.missed.labels(run.job).inc(run.missed)

    def outcome(self, job: str, status: str) -> None:
        self.job_runs.labels(job, status).inc()

    def serve(self, port: int, address: str) -> int:
        """Serve ``/metrics`` on ``address:port`` in a daemon thread; the port actually bound."""
        self._server, self._thread = start_http_server(port, addr=address, registry=self.registry)
        self.port = int(self._server.server_port)
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
