"""Is storage and compute up? Probes of the database, the folders, the scheduler and every process.

Two kinds of evidence meet here. *Heartbeats* (:mod:`steward.core.services.heartbeats`)
say which processes live and what they use; *probes* read the shared parts:
the database (reachable, one round trip's latency, size and growth), the
artifact store and the data folder (writable, free space) and the scheduler
(who leads, when each job last ran and runs next, missed slots). The worker
records the probes every ``STEWARD_INFRA_CHECK_SECONDS`` (``infrastructure.check``),
so the page and the Overview read a recent, stored answer and the history has
one sample per probe per minute; when no worker has recorded one lately the
probes are read live by whoever asks, and say so.

:meth:`InfrastructureService.status` is the one question the Overview's
infrastructure light asks: every component with its health and a reason, and
the worst of them (for one environment, when asked: the shared parts plus the
scoring replicas serving it).
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from steward.core.adapters.db.models import AlertRow, BatchRunRow, ProbeSampleRow
from steward.core.clock import utc
from steward.core.domain.accounts import Actor
from steward.core.domain.infrastructure import (
    DEFAULT_LEASE,
    SUSTAINED,
    Health,
    HostMinute,
    Reading,
    bytes_in_words,
    compute_health,
    disk_health,
    growth_health,
    job_overdue,
    latency_health,
    next_slot,
    seconds_in_words,
    worst,
)
from steward.core.services.context import ServiceContext
from steward.core.services.heartbeats import (
    ComponentStatus,
    Heartbeat,
    HeartbeatService,
    minute_of,
    this_instance,
)
from steward.core.services.jobs import JobRun, JobService
from steward.core.services.leases import Lease, LeaseService
from steward.core.services.uow import UnitOfWork

DATABASE, ARTIFACTS, DATA_FOLDER, SCHEDULER = "Database", "Artifact store", "Data folder", "Scheduler"
STORAGE_PROBES = (DATABASE, ARTIFACTS, DATA_FOLDER)
ROUND_TRIPS = 3
PROBE_FILE_PREFIX = (
    ".probe-"  # never an artifact name (those cannot start with '.'), never swept as a leftover
)


@dataclass(frozen=True)
class HostStats:
    cpu_percent: float
    cpu_count: int
    memory_percent: float
    memory_total_gb: float
    load_1m: float


@dataclass(frozen=True)
class ProbeSample:
    probe: str
    minute: datetime
    health: Health
    readings: dict[str, Any]


@dataclass(frozen=True)
class JobSchedule:
    """One scheduled job as the leader runs it: when it last ran, when it runs next, what it missed."""

    job: str
    every: timedelta | None
    why: str
    last: JobRun | None
    next_at: datetime | None
    runs_24h: int
    failed_24h: int
    missed_24h: int
    health: Health
    reason: str


@dataclass(frozen=True)
class InfraStatus:
    """Every infrastructure component judged now, worst first, and the overall verdict."""

    health: Health
    reason: str
    readings: list[Reading]
    components: list[ComponentStatus] = field(default_factory=list)
    jobs: list[JobSchedule] = field(default_factory=list)
    lease: Lease | None = None

    def reading(self, component: str) -> Reading | None:
        return next((r for r in self.readings if r.component == component), None)


@dataclass(frozen=True)
class MetricsSnapshot:
    """What the worker's ``/metrics`` exposes from the database, read in one go at scrape time."""

    batch_runs: dict[tuple[str, str], int]  # (environment, status) -> runs
    alerts_opened: dict[tuple[str, str], int]  # (kind, severity) -> alerts ever opened
    alerts_unresolved: dict[str, int]  # severity -> unresolved alerts
    heartbeats: list[tuple[Heartbeat, float]]  # process, seconds since its last beat
    components: list[ComponentStatus]
    job_last_success: dict[str, datetime]
    lease: Lease | None


def _share(usage: Any) -> float:
    return usage.used / usage.total if usage.total else 1.0


class InfrastructureService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.heartbeats = HeartbeatService(ctx)
        self.jobs = JobService(ctx)
        self.leases = LeaseService(ctx)

    # ---- probes, read live -------------------------------------------------------------------------
    def probes(self) -> builtins.list[Reading]:
        """The storage probes read now by this process (database, artifact store, data folder)."""
        by = this_instance()
        return [self.probe_database(by), self.probe_artifact_store(by), self.probe_data_folder(by)]

    def probe_database(self, read_by: str = "") -> Reading:
        engine = self.ctx.engines.read
        url = engine.url.render_as_string(hide_password=True)
        now = self.ctx.clock.now()
        try:
            trips = []
            with engine.connect() as connection:
                for _ in range(ROUND_TRIPS):
                    started = time.perf_counter()
                    connection.execute(text("SELECT 1"))
                    trips.append((time.perf_counter() - started) * 1000)
                size, free = self._database_size(connection)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
            return Reading(DATABASE, "probe", Health.DOWN, f"unreachable: {url}: {reason}", {}, now, read_by)
        latency = statistics.median(trips)
        readings: dict[str, Any] = {
            "latency_ms": round(latency, 2),
            "size_bytes": size,
            "dialect": self.ctx.engines.dialect,
        }
        if free is not None:
            readings["disk_free_bytes"] = free
        per_day = self._growth_per_day(size, now)
        growth, growth_words = growth_health(per_day, free)
        if per_day is not None:
            readings["growth_bytes_per_day"] = round(per_day)
        health = worst([latency_health(latency), growth if growth is not Health.UNKNOWN else Health.UP])
        reason = (
            f"{self.ctx.engines.dialect} reachable, round trip {latency:.1f} ms, "
            f"size {bytes_in_words(size)}, {growth_words}"
        )
        return Reading(DATABASE, "probe", health, reason, readings, now, read_by)

    def _database_size(self, connection: Any) -> tuple[int, int | None]:
        """Bytes the database takes and, for SQLite, bytes free on its disk (PostgreSQL's is not ours)."""
        if self.ctx.engines.dialect == "postgresql":
            return int(
                connection.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0
            ), None
        database = self.ctx.engines.read.url.database or ""
        if not database or database == ":memory:":
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar() or 0
            page_size = connection.exec_driver_sql("PRAGMA page_size").scalar() or 0
            return int(pages) * int(page_size), None
        path = Path(database)
        size = sum(p.stat().st_size for p in (path, Path(f"{database}-wal")) if p.exists())
        return size, int(psutil.disk_usage(str(path.parent)).free)

    def _growth_per_day(self, size: int, now: datetime) -> float | None:
        """Growth over the history kept (at least an hour of it), from the probe's own samples."""
        since = now - timedelta(hours=self.ctx.settings.infra_history_hours)
        with UnitOfWork(self.ctx, write=False) as uow:
            first = uow.session.scalar(
                select(ProbeSampleRow)
                .where(ProbeSampleRow.probe == DATABASE, ProbeSampleRow.minute >= since)
                .order_by(ProbeSampleRow.minute)
                .limit(1)
            )
            if first is None:
                return None
            then = json.loads(first.readings_json).get("size_bytes")
            elapsed = (now - utc(first.read_at)).total_seconds()
        if then is None or elapsed < 3600:
            return None
        return (size - float(then)) / (elapsed / 86400)

    def probe_artifact_store(self, read_by: str = "") -> Reading:
        """Writable (a probe file written and deleted) and free space, where artifacts are stored."""
        return self._folder_probe(ARTIFACTS, self.ctx.settings.resolved_artifact_root.resolve(), read_by)

    def probe_data_folder(self, read_by: str = "") -> Reading:
        return self._folder_probe(DATA_FOLDER, self.ctx.settings.data_dir.resolve(), read_by)

    def _folder_probe(self, name: str, path: Path, read_by: str) -> Reading:
        now = self.ctx.clock.now()
        probe = path / f"{PROBE_FILE_PREFIX}{uuid.uuid4().hex}"
        try:
            path.mkdir(parents=True, exist_ok=True)
            usage = psutil.disk_usage(str(path))
        except OSError as exc:
            return Reading(name, "probe", Health.DOWN, f"{path}: {exc.strerror or exc}", {}, now, read_by)
        try:
            probe.write_bytes(b"steward probe")
            probe.unlink()
            writable, problem = True, ""
        except OSError as exc:
            writable, problem = False, f", NOT writable ({exc.strerror or exc})"
            with contextlib.suppress(OSError):
                probe.unlink()
        share = _share(usage)
        readings = {
            "used_percent": round(share * 100, 1),
            "free_bytes": int(usage.free),
            "writable": writable,
        }
        reason = f"{path}: {bytes_in_words(usage.free)} free of {bytes_in_words(usage.total)}{problem}"
        return Reading(name, "probe", disk_health(share, writable), reason, readings, now, read_by)

    # ---- the scheduler --------------------------------------------------------------------------------
    def schedule(self, beats: builtins.list[Heartbeat] | None = None) -> builtins.list[JobSchedule]:
        """Each job the leading worker schedules (as its heartbeat reports), with its last and next run."""
        now = self.ctx.clock.now()
        beats = self.heartbeats.list() if beats is None else beats
        lease = self.leases.get(DEFAULT_LEASE)
        specs = _published_schedule(beats, lease)
        latest = self.jobs.latest()
        tallies = self.jobs.tallies(now - timedelta(hours=24))
        names = list(specs) + sorted(set(latest) - set(specs))
        schedules = []
        for job in names:
            every_seconds, why = specs.get(job, (None, ""))
            every = timedelta(seconds=every_seconds) if every_seconds else None
            last = latest.get(job)
            counts = tallies.get(job, {})
            failed = counts.get("failed", 0) + counts.get("abandoned", 0)
            missed = counts.get("missed", 0)
            runs = sum(v for k, v in counts.items() if k != "missed")
            next_at = (
                next_slot(now, every) if every is not None and lease is not None and lease.live(now) else None
            )
            health, reason = Health.UP, "ran as scheduled"
            if every is None:
                health, reason = Health.UNKNOWN, "not in the leading worker's schedule"
            elif last is None:
                health, reason = Health.UNKNOWN, "has not run yet"
            elif job_overdue(last.slot, every, now):
                health = Health.DEGRADED
                reason = f"overdue: last slot {seconds_in_words((now - last.slot).total_seconds())} ago"
            elif last.status in ("failed", "abandoned"):
                health, reason = Health.DEGRADED, f"last run {last.status}"
            if missed and health is Health.UP:
                reason = f"ran as scheduled; {missed} missed slot(s) coalesced in the last 24 h"
            schedules.append(
                JobSchedule(job, every, why, last, next_at, runs, failed, missed, health, reason)
            )
        return schedules

    def probe_scheduler(self, beats: builtins.list[Heartbeat] | None = None, read_by: str = "") -> Reading:
        """Who leads the workers, since when, and whether every job runs as scheduled."""
        now = self.ctx.clock.now()
        beats = self.heartbeats.list() if beats is None else beats
        lease = self.leases.get(DEFAULT_LEASE)
        jobs = self.schedule(beats)
        missed = sum(job.missed_24h for job in jobs)
        readings: dict[str, Any] = {"missed_slots_24h": missed, "jobs": len(jobs)}
        live_workers = [
            b
            for b in beats
            if b.kind == "worker"
            and b.stopped_at is None
            and b.lost_at is None
            and (now - b.beat_at).total_seconds() <= self.ctx.settings.heartbeat_timeout_seconds
        ]
        if lease is None:
            return Reading(
                SCHEDULER,
                "probe",
                Health.UNKNOWN,
                "no worker has run yet: start `steward worker`",
                readings,
                now,
                read_by,
            )
        readings |= {"leader": lease.holder or "", "token": lease.token}
        if lease.live(now):
            assert lease.expires_at is not None and lease.acquired_at is not None
            since = seconds_in_words((now - lease.acquired_at).total_seconds())
            beating = len(live_workers)
            reason = f"{lease.holder} leads (token {lease.token}) for {since}, {beating} worker(s) beating"
            overdue = [job for job in jobs if job.health is Health.DEGRADED]
            health = Health.DEGRADED if overdue else Health.UP
            if overdue:
                reason += "; " + "; ".join(f"{job.job} {job.reason}" for job in overdue)
            if missed:
                reason += f"; {missed} missed slot(s) coalesced in the last 24 h"
            return Reading(SCHEDULER, "probe", health, reason, readings, now, read_by)
        ended = seconds_in_words((now - lease.expires_at).total_seconds()) if lease.expires_at else "?"
        if lease.holder is None:
            reason = (
                f"no worker leads: the last leader stopped cleanly {ended} ago; scheduled jobs wait for one"
            )
            return Reading(SCHEDULER, "probe", Health.DEGRADED, reason, readings, now, read_by)
        if live_workers:
            alive = len(live_workers)
            reason = f"{lease.holder}'s lease expired {ended} ago; one of {alive} live worker(s) takes over"
            return Reading(SCHEDULER, "probe", Health.DEGRADED, reason, readings, now, read_by)
        reason = (
            f"{lease.holder}'s lease expired {ended} ago and no worker beats: scheduled jobs are not running"
        )
        return Reading(SCHEDULER, "probe", Health.DOWN, reason, readings, now, read_by)

    # ---- compute ---------------------------------------------------------------------------------------
    def compute(self) -> builtins.list[Reading]:
        """One reading per host that beat lately: CPU, load per core and memory sustained over minutes."""
        now = self.ctx.clock.now()
        samples = self.heartbeats.history(minute_of(now - SUSTAINED))
        per_host: dict[str, dict[datetime, builtins.list[Any]]] = {}
        for sample in samples:
            per_host.setdefault(sample.host, {}).setdefault(sample.minute, []).append(sample)
        readings = []
        for host in sorted(per_host):
            minutes = [
                HostMinute(
                    minute,
                    statistics.fmean(s.host_cpu_percent for s in group),
                    statistics.fmean(s.host_load_1m for s in group),
                    statistics.fmean(s.host_memory_percent for s in group),
                    max(s.host_cpu_count for s in group),
                )
                for minute, group in sorted(per_host[host].items())
            ]
            health, reason, values = compute_health(host, minutes, now)
            readings.append(
                Reading(f"Compute on {host}", "compute", health, reason, values, now, "heartbeats")
            )
        return readings

    def host(self) -> HostStats:
        """This process's host, read now (the page's live figures)."""
        memory = psutil.virtual_memory()
        return HostStats(
            cpu_percent=psutil.cpu_percent(interval=0.1),
            cpu_count=psutil.cpu_count() or 1,
            memory_percent=memory.percent,
            memory_total_gb=round(memory.total / 1e9, 1),
            load_1m=os.getloadavg()[0],
        )

    # ---- recording (the worker's jobs) ------------------------------------------------------------------
    def record_probes(self) -> builtins.list[Reading]:
        """Read every probe now and keep the reading as this minute's sample."""
        by = this_instance()
        readings = [*self.probes(), self.probe_scheduler(read_by=by)]
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            for reading in readings:
                minute = minute_of(reading.read_at or self.ctx.clock.now())
                row = db.scalar(
                    select(ProbeSampleRow).where(
                        ProbeSampleRow.probe == reading.component, ProbeSampleRow.minute == minute
                    )
                )
                if row is None:
                    row = ProbeSampleRow(probe=reading.component, minute=minute)
                    db.add(row)
                row.health, row.reason = reading.health.value, reading.reason[:2000]
                row.readings_json = json.dumps(reading.readings, sort_keys=True, default=str)
                row.read_at, row.read_by = reading.read_at or self.ctx.clock.now(), by[:200]
            uow.commit()
        return readings

    def check(self, actor: Actor) -> str:
        """The worker's ``infrastructure.check``: record the probes, then open alerts for lost processes."""
        readings = self.record_probes()
        lost = self.heartbeats.detect_lost(actor)
        words = ", ".join(f"{r.component.lower()} {r.health.value}" for r in readings)
        if lost:
            words += "; lost: " + ", ".join(f"{b.component} {b.instance}" for b in lost)
        return words

    def prune(self) -> str:
        """Bound the history: samples past ``STEWARD_INFRA_HISTORY_HOURS``, job runs past their retention."""
        now = self.ctx.clock.now()
        before = now - timedelta(hours=self.ctx.settings.infra_history_hours)
        beats = self.heartbeats.prune(before)
        with UnitOfWork(self.ctx) as uow:
            probes = uow.session.execute(
                delete(ProbeSampleRow).where(ProbeSampleRow.minute < before)
            ).rowcount  # type: ignore[attr-defined]
            uow.commit()
        runs = self.jobs.prune(now - timedelta(days=self.ctx.settings.job_run_retention_days))
        return f"pruned {beats} heartbeat row(s), {int(probes or 0)} probe sample(s), {runs} job run(s)"

    # ---- reading what was recorded ----------------------------------------------------------------------
    def latest_probes(self, fresh_within: timedelta | None = None) -> builtins.list[Reading]:
        """The last stored reading of each storage probe (recorded within ``fresh_within``, when given)."""
        now = self.ctx.clock.now()
        with UnitOfWork(self.ctx, write=False) as uow:
            newest = (
                select(ProbeSampleRow.probe, func.max(ProbeSampleRow.minute).label("minute"))
                .group_by(ProbeSampleRow.probe)
                .subquery()
            )
            rows = uow.session.scalars(
                select(ProbeSampleRow).join(
                    newest,
                    (ProbeSampleRow.probe == newest.c.probe) & (ProbeSampleRow.minute == newest.c.minute),
                )
            ).all()
            found = {}
            for row in rows:
                if row.probe not in STORAGE_PROBES:
                    continue
                if fresh_within is not None and now - utc(row.read_at) > fresh_within:
                    continue
                found[row.probe] = Reading(
                    row.probe,
                    "probe",
                    Health(row.health),
                    row.reason,
                    json.loads(row.readings_json),
                    utc(row.read_at),
                    row.read_by,
                )
        return [found[name] for name in STORAGE_PROBES if name in found]

    def probe_history(self, since: datetime) -> builtins.list[ProbeSample]:
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.scalars(
                select(ProbeSampleRow).where(ProbeSampleRow.minute >= since).order_by(ProbeSampleRow.minute)
            ).all()
            return [
                ProbeSample(r.probe, utc(r.minute), Health(r.health), json.loads(r.readings_json))
                for r in rows
            ]

    def status(self, environment: str | None = None) -> InfraStatus:
        """Every component judged now, worst first; for ``environment``, other environments' replicas omitted.

        Storage probes come from the worker's last recording when it is recent
        (three check intervals), else they are read live here.
        """
        beats = self.heartbeats.list()
        components = self.heartbeats.components(beats)
        if environment is not None:
            components = [
                c for c in components if c.kind != "scoring" or c.environment in (None, environment)
            ]
        fresh = timedelta(seconds=max(180, 3 * self.ctx.settings.infra_check_seconds))
        storage = self.latest_probes(fresh_within=fresh)
        if len(storage) < len(STORAGE_PROBES):
            recorded = {r.component for r in storage}
            live = [r for r in self.probes() if r.component not in recorded]
            storage = [*storage, *live]
        process_readings = [
            Reading(
                c.label,
                "process",
                c.health,
                c.reason,
                {"processes": len(c.instances), "kind": c.kind, "name": c.name},
                self.ctx.clock.now(),
                "heartbeats",
                c.environment,
            )
            for c in components
        ]
        readings = [
            *storage,
            self.probe_scheduler(beats, this_instance()),
            *self.compute(),
            *process_readings,
        ]
        if not any(c.kind == "worker" for c in components):
            readings.append(
                Reading(
                    "Worker", "process", Health.UNKNOWN, "Worker: no heartbeat yet: start `steward worker`"
                )
            )
        readings.sort(key=lambda r: r.health.rank)
        judged = [r for r in readings if r.health is not Health.UNKNOWN]
        overall = worst(
            [r.health for r in judged]
        )  # what is not judged yet neither greens nor greys the rest
        if overall in (Health.DOWN, Health.DEGRADED):
            bad = [r for r in readings if r.health is overall]
            first = bad[0]
            # Process and compute reasons name their subject already; a probe's does not.
            reason = f"{first.component}: {first.reason}" if first.kind == "probe" else first.reason
            reason += f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        else:
            reason = f"all {len(judged)} component(s) judged are up" if judged else "nothing reports yet"
        lease = self.leases.get(DEFAULT_LEASE)
        return InfraStatus(
            overall if judged else Health.UNKNOWN, reason, readings, components, self.schedule(beats), lease
        )

    def metrics(self) -> MetricsSnapshot:
        now = self.ctx.clock.now()
        beats = self.heartbeats.list()
        with UnitOfWork(self.ctx, write=False) as uow:
            db = uow.session
            batch = db.execute(
                select(BatchRunRow.environment, BatchRunRow.status, func.count()).group_by(
                    BatchRunRow.environment, BatchRunRow.status
                )
            ).all()
            opened = db.execute(
                select(AlertRow.kind, AlertRow.severity, func.count()).group_by(
                    AlertRow.kind, AlertRow.severity
                )
            ).all()
            unresolved = db.execute(
                select(AlertRow.severity, func.count())
                .where(AlertRow.status != "resolved")
                .group_by(AlertRow.severity)
            ).all()
        last_ok = {}
        for job, run in self.jobs.latest().items():
            if run.status == "ok" and run.finished_at is not None:
                last_ok[job] = run.finished_at
        return MetricsSnapshot(
            batch_runs={(env, status): int(n) for env, status, n in batch},
            alerts_opened={(kind, severity): int(n) for kind, severity, n in opened},
            alerts_unresolved={severity: int(n) for severity, n in unresolved},
            heartbeats=[(b, max(0.0, (now - b.beat_at).total_seconds())) for b in beats],
            components=self.heartbeats.components(beats),
            job_last_success=last_ok,
            lease=self.leases.get(DEFAULT_LEASE),
        )


def _published_schedule(beats: builtins.list[Heartbeat], lease: Lease | None) -> dict[str, tuple[float, str]]:
    """The schedule the leading worker reports in its heartbeat (else the freshest worker's)."""
    workers = sorted((b for b in beats if b.kind == "worker"), key=lambda b: b.beat_at, reverse=True)
    leader = next((b for b in workers if lease is not None and b.instance == lease.holder), None)
    for beat in [leader, *workers]:
        jobs = beat.details.get("jobs") if beat is not None else None
        if isinstance(jobs, list) and jobs:
            return {
                str(j["name"]): (float(j.get("every_seconds") or 0), str(j.get("why") or ""))
                for j in jobs
                if isinstance(j, dict) and j.get("name")
            }
    return {}
