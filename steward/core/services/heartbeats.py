"""Heartbeats: every Steward process says it is alive every few seconds, and what it is using.

One call from any entrypoint::

    steward.heartbeats.beat("scoring", "Prod", {"environment": "Prod", "versions": {"credit-default": "v2"}})

or, for a process that lives a while, a thread that beats until stopped::

    beat = HeartbeatThread(steward.heartbeats, "scoring", "Prod", details=lambda: {...})
    beat.start()
    ...
    beat.stop()  # a clean shutdown says goodbye: the process shows as stopped, not lost

Each beat overwrites the process's row in ``heartbeats`` (process id, host,
Steward version, start time, CPU, memory, open files, threads, and the host's
CPU, load and memory, all via psutil) and adds to that minute's sample in
``heartbeat_samples`` (sums and maxima, so per-minute means are exact and the
history is bounded: one row per process per minute, pruned after
``STEWARD_INFRA_HISTORY_HOURS``).

``details`` is a small JSON object for what the process wants shown. Keys read
by Steward: ``environment`` (the environment a scoring replica serves),
``versions`` (what it has loaded: ``{"pipeline": "version label"}``),
``leader`` and ``jobs`` (the worker's lead and schedule).

A process silent past its timeout is *lost*: :meth:`HeartbeatService.detect_lost`
(the worker's ``infrastructure.check`` job, and the app as a fallback when no
worker lives) marks it once and records ``heartbeat.lost``, which opens one
alert; a lost process that beats again records ``heartbeat.resumed``.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import psutil
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from steward.core.adapters.db.models import HeartbeatRow, HeartbeatSampleRow
from steward.core.clock import utc
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import Outcome
from steward.core.domain.infrastructure import (
    COMPONENT_KINDS,
    MAX_DETAILS_BYTES,
    MAX_NAME,
    BeatState,
    Health,
    InstanceView,
    beat_state,
    component_health,
    replaced,
    seconds_in_words,
)
from steward.core.errors import InvalidInput
from steward.core.services.context import ServiceContext
from steward.core.services.fencing import end_if_frozen
from steward.core.services.uow import UnitOfWork

log = logging.getLogger(__name__)
KIND_ORDER = {kind: index for index, kind in enumerate(COMPONENT_KINDS)}


@lru_cache(maxsize=1)
def steward_version() -> str:
    try:
        return version("steward")
    except PackageNotFoundError:  # pragma: no cover - a source checkout without installing
        return "unknown"


@dataclass(frozen=True)
class ProcessReading:
    """What psutil says about this process and its host at one moment."""

    pid: int
    host: str
    started_at: datetime
    cpu_percent: float
    memory_bytes: int
    open_files: int
    threads: int
    host_cpu_percent: float
    host_load_1m: float
    host_memory_percent: float
    host_cpu_count: int


class ProcessProbe:
    """Reads this process; CPU is measured between two reads, so keep one probe per process."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.process.cpu_percent(None)
        psutil.cpu_percent(None)
        self._lock = threading.Lock()

    def read(self) -> ProcessReading:
        with self._lock:
            process = self.process
            with process.oneshot():
                try:
                    open_files = len(process.open_files())
                except psutil.Error:
                    open_files = -1
                return ProcessReading(
                    pid=process.pid,
                    host=socket.gethostname(),
                    started_at=datetime.fromtimestamp(process.create_time(), tz=UTC),
                    cpu_percent=float(process.cpu_percent(None)),
                    memory_bytes=int(process.memory_info().rss),
                    open_files=open_files,
                    threads=int(process.num_threads()),
                    host_cpu_percent=float(psutil.cpu_percent(None)),
                    host_load_1m=float(os.getloadavg()[0]),
                    host_memory_percent=float(psutil.virtual_memory().percent),
                    host_cpu_count=int(psutil.cpu_count() or 1),
                )


_probe_lock = threading.Lock()
_probe: ProcessProbe | None = None


def process_probe() -> ProcessProbe:
    """The probe of the current process (one per pid: a forked child gets its own)."""
    global _probe
    with _probe_lock:
        if _probe is None or _probe.process.pid != os.getpid():
            _probe = ProcessProbe()
        return _probe


def this_instance() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Heartbeat:
    id: int
    kind: str
    name: str
    instance: str
    host: str
    pid: int
    version: str
    started_at: datetime
    beat_at: datetime
    interval_seconds: float
    cpu_percent: float
    memory_bytes: int
    open_files: int
    threads: int
    host_cpu_percent: float
    host_load_1m: float
    host_memory_percent: float
    host_cpu_count: int
    details: dict[str, Any]
    stopped_at: datetime | None
    lost_at: datetime | None

    @property
    def component(self) -> str:
        """``kind/name``: what alerts and Prometheus call the component."""
        return f"{self.kind}/{self.name}"

    @property
    def label(self) -> str:
        return component_label(self.kind, self.name)

    @property
    def versions(self) -> dict[str, str]:
        """A scoring replica's loaded versions, as it reported them."""
        found = self.details.get("versions")
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    @property
    def environment(self) -> str | None:
        found = self.details.get("environment")
        return str(found) if found else None


def component_label(kind: str, name: str) -> str:
    words = COMPONENT_KINDS.get(kind, kind)
    return words if name == kind else f"{words} {name}"


@dataclass(frozen=True)
class InstanceStatus:
    heartbeat: Heartbeat
    state: BeatState
    reason: str


@dataclass(frozen=True)
class ComponentStatus:
    """One component (the app, the worker fleet, one scoring service) judged from its processes."""

    kind: str
    name: str
    health: Health
    reason: str
    instances: list[InstanceStatus] = field(default_factory=list)

    @property
    def label(self) -> str:
        return component_label(self.kind, self.name)

    @property
    def environment(self) -> str | None:
        """The environment its processes serve, when they say (scoring replicas), else None (shared)."""
        found = {i.heartbeat.environment for i in self.instances if i.heartbeat.environment}
        return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class Sample:
    """One minute of one process: means of CPU and host readings, maxima of memory and open files."""

    kind: str
    name: str
    instance: str
    host: str
    minute: datetime
    beats: int
    cpu_percent: float
    memory_bytes: int
    open_files: int
    host_cpu_percent: float
    host_load_1m: float
    host_memory_percent: float
    host_cpu_count: int


def _details_json(details: Mapping[str, Any] | None) -> str:
    try:
        text = json.dumps(dict(details or {}), sort_keys=True, default=str)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"heartbeat details must be a JSON object ({exc})") from None
    if len(text.encode()) > MAX_DETAILS_BYTES:
        raise InvalidInput(
            f"heartbeat details are {len(text.encode()):,} bytes; the limit is {MAX_DETAILS_BYTES:,}"
        )
    return text


def _check_names(kind: str, name: str) -> None:
    if not kind or not kind.isascii() or not kind.isalpha() or not kind.islower() or len(kind) > 16:
        raise InvalidInput(
            f"component kind must be a short lowercase word (app, worker, scoring), got {kind[:20]!r}"
        )
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise InvalidInput(f"component name must be 1 to {MAX_NAME} printable characters, got {name[:20]!r}")


def _entity(row: HeartbeatRow) -> Heartbeat:
    try:
        details = json.loads(row.details_json or "{}")
    except ValueError:
        details = {}
    return Heartbeat(
        id=row.id,
        kind=row.kind,
        name=row.name,
        instance=row.instance,
        host=row.host,
        pid=row.pid,
        version=row.version,
        started_at=utc(row.started_at),
        beat_at=utc(row.beat_at),
        interval_seconds=row.interval_seconds,
        cpu_percent=row.cpu_percent,
        memory_bytes=row.memory_bytes,
        open_files=row.open_files,
        threads=row.threads,
        host_cpu_percent=row.host_cpu_percent,
        host_load_1m=row.host_load_1m,
        host_memory_percent=row.host_memory_percent,
        host_cpu_count=row.host_cpu_count,
        details=details if isinstance(details, dict) else {},
        stopped_at=utc(row.stopped_at) if row.stopped_at else None,
        lost_at=utc(row.lost_at) if row.lost_at else None,
    )


def minute_of(moment: datetime) -> datetime:
    return utc(moment).replace(second=0, microsecond=0)


class HeartbeatService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # ---- writing ---------------------------------------------------------------------------------
    def beat(
        self,
        kind: str,
        name: str,
        details: Mapping[str, Any] | None = None,
        *,
        instance: str | None = None,
        interval: float | None = None,
        reading: ProcessReading | None = None,
    ) -> Heartbeat:
        """Record that this process (``kind``/``name``, one instance per host:pid) is alive; one transaction.

        ``interval`` is how often it beats (default ``STEWARD_HEARTBEAT_SECONDS``):
        readers allow it three intervals before calling it lost. ``reading``
        replaces the psutil reading (tests, or a process reporting for another).
        """
        _check_names(kind, name)
        details_json = _details_json(details)
        reading = reading or process_probe().read()
        instance = (instance or f"{reading.host}:{reading.pid}")[:200]
        every = float(interval or self.ctx.settings.heartbeat_seconds)
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            end_if_frozen(db, self.ctx.settings.heartbeat_timeout_seconds)
            # Stamped once the write transaction holds the database, never before: a process paused
            # (SIGSTOP, a long GC, a busy lock wait) between reading the clock and writing would
            # otherwise record a stale beat that clears "lost" and is judged lost again at once.
            now = self.ctx.clock.now()
            row = db.scalar(
                select(HeartbeatRow).where(
                    HeartbeatRow.kind == kind, HeartbeatRow.name == name, HeartbeatRow.instance == instance
                )
            )
            if row is None:
                row = HeartbeatRow(kind=kind, name=name, instance=instance, started_at=reading.started_at)
                db.add(row)
            elif row.lost_at is not None:
                silent = (now - utc(row.beat_at)).total_seconds()
                uow.record(
                    Actor.system_actor(kind),
                    "heartbeat.resumed",
                    object_type="component",
                    object_id=f"{kind}/{name}",
                    detail=f"{instance} beats again after {seconds_in_words(silent)} of silence",
                )
            row.host, row.pid, row.version = reading.host[:200], reading.pid, steward_version()[:32]
            row.beat_at, row.interval_seconds = now, every
            row.cpu_percent, row.memory_bytes = reading.cpu_percent, reading.memory_bytes
            row.open_files, row.threads = reading.open_files, reading.threads
            row.host_cpu_percent, row.host_load_1m = reading.host_cpu_percent, reading.host_load_1m
            row.host_memory_percent, row.host_cpu_count = reading.host_memory_percent, reading.host_cpu_count
            row.details_json, row.stopped_at, row.lost_at = details_json, None, None
            db.flush()
            self._add_sample(db, row.id, now, reading)
            uow.commit()
            return _entity(row)

    @staticmethod
    def _add_sample(db: Any, heartbeat_id: int, now: datetime, reading: ProcessReading) -> None:
        minute = minute_of(now)
        sample = db.scalar(
            select(HeartbeatSampleRow).where(
                HeartbeatSampleRow.heartbeat_id == heartbeat_id, HeartbeatSampleRow.minute == minute
            )
        )
        if sample is None:
            db.add(
                HeartbeatSampleRow(
                    heartbeat_id=heartbeat_id,
                    minute=minute,
                    beats=1,
                    cpu_sum=reading.cpu_percent,
                    memory_max=reading.memory_bytes,
                    open_files_max=reading.open_files,
                    host_cpu_sum=reading.host_cpu_percent,
                    host_load_sum=reading.host_load_1m,
                    host_memory_sum=reading.host_memory_percent,
                )
            )
            return
        sample.beats += 1
        sample.cpu_sum += reading.cpu_percent
        sample.memory_max = max(sample.memory_max, reading.memory_bytes)
        sample.open_files_max = max(sample.open_files_max, reading.open_files)
        sample.host_cpu_sum += reading.host_cpu_percent
        sample.host_load_sum += reading.host_load_1m
        sample.host_memory_sum += reading.host_memory_percent

    def stop(self, kind: str, name: str, *, instance: str | None = None) -> None:
        """A clean shutdown: the process shows as stopped (grey), never as lost, and opens no alert."""
        instance = (instance or this_instance())[:200]
        with UnitOfWork(self.ctx) as uow:
            uow.session.execute(
                update(HeartbeatRow)
                .where(
                    HeartbeatRow.kind == kind, HeartbeatRow.name == name, HeartbeatRow.instance == instance
                )
                .values(stopped_at=self.ctx.clock.now())
            )
            uow.commit()

    def detect_lost(self, actor: Actor) -> builtins.list[Heartbeat]:
        """Mark processes silent past their timeout as lost, one ``heartbeat.lost`` event each (one alert).

        Safe to run from several processes at once: the mark is a conditional
        update (still not lost, still the same last beat), so exactly one
        checker records each loss, and a beat landing meanwhile wins.
        """
        now = self.ctx.clock.now()
        timeout = self.ctx.settings.heartbeat_timeout_seconds
        found: builtins.list[Heartbeat] = []
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            rows = db.scalars(
                select(HeartbeatRow).where(HeartbeatRow.stopped_at.is_(None), HeartbeatRow.lost_at.is_(None))
            ).all()
            for row in rows:
                state, reason = beat_state(
                    beat_at=utc(row.beat_at),
                    interval_seconds=row.interval_seconds,
                    timeout_seconds=timeout,
                    now=now,
                    stopped_at=None,
                )
                if state is not BeatState.LOST:
                    continue
                marked = db.execute(
                    update(HeartbeatRow)
                    .where(
                        HeartbeatRow.id == row.id,
                        HeartbeatRow.lost_at.is_(None),
                        HeartbeatRow.stopped_at.is_(None),
                        HeartbeatRow.beat_at == row.beat_at,
                    )
                    .values(lost_at=now)
                    .execution_options(synchronize_session=False)
                )
                if not marked.rowcount:  # type: ignore[attr-defined]
                    continue
                db.refresh(row)
                beat = _entity(row)
                found.append(beat)
                uow.record(
                    actor,
                    "heartbeat.lost",
                    object_type="component",
                    object_id=beat.component,
                    outcome=Outcome.FAILED,
                    after={
                        "instance": beat.instance,
                        "host": beat.host,
                        "pid": beat.pid,
                        "beat_at": beat.beat_at,
                    },
                    detail=f"{beat.label}: {beat.instance} (pid {beat.pid} on {beat.host}) {reason}",
                )
            uow.commit()
        return found

    def prune(self, before: datetime) -> int:
        """Drop samples older than ``before`` and processes silent or stopped since then; rows removed."""
        with UnitOfWork(self.ctx) as uow:
            db = uow.session
            removed = db.execute(
                delete(HeartbeatSampleRow).where(HeartbeatSampleRow.minute < before)
            ).rowcount  # type: ignore[attr-defined]
            gone = db.scalars(
                select(HeartbeatRow.id).where(
                    or_(HeartbeatRow.beat_at < before, HeartbeatRow.stopped_at < before)
                )
            ).all()
            if gone:
                db.execute(delete(HeartbeatSampleRow).where(HeartbeatSampleRow.heartbeat_id.in_(gone)))
                db.execute(delete(HeartbeatRow).where(HeartbeatRow.id.in_(gone)))
            uow.commit()
            return int(removed or 0) + len(gone)

    # ---- reading ---------------------------------------------------------------------------------
    def list(self) -> builtins.list[Heartbeat]:
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.scalars(select(HeartbeatRow).order_by(HeartbeatRow.kind, HeartbeatRow.name))
            return [_entity(row) for row in rows]

    def find(self, kind: str, name: str, instance: str) -> Heartbeat | None:
        with UnitOfWork(self.ctx, write=False) as uow:
            row = uow.session.scalar(
                select(HeartbeatRow).where(
                    HeartbeatRow.kind == kind, HeartbeatRow.name == name, HeartbeatRow.instance == instance
                )
            )
            return _entity(row) if row is not None else None

    def components(self, beats: builtins.list[Heartbeat] | None = None) -> builtins.list[ComponentStatus]:
        """Every component that beat within the history kept, judged now; worst first."""
        now = self.ctx.clock.now()
        timeout = self.ctx.settings.heartbeat_timeout_seconds
        groups: dict[tuple[str, str], builtins.list[Heartbeat]] = {}
        for beat in self.list() if beats is None else beats:
            groups.setdefault((beat.kind, beat.name), []).append(beat)
        statuses = []
        for (kind, name), members in groups.items():
            judged = []
            for beat in members:
                state, reason = beat_state(
                    beat_at=beat.beat_at,
                    interval_seconds=beat.interval_seconds,
                    timeout_seconds=timeout,
                    now=now,
                    stopped_at=beat.stopped_at,
                )
                judged.append(
                    (
                        beat,
                        InstanceView(beat.instance, beat.host, beat.started_at, beat.beat_at, state, reason),
                    )
                )
            views = [view for _beat, view in judged]
            instances = []
            for beat, view in judged:
                if view.state is BeatState.LOST and replaced(view, views):
                    view = InstanceView(
                        view.instance,
                        view.host,
                        view.started_at,
                        view.beat_at,
                        BeatState.REPLACED,
                        f"replaced by a newer process on {view.host} ({view.reason})",
                    )
                instances.append((beat, view))
            health, reason = component_health(component_label(kind, name), [view for _b, view in instances])
            order = {
                BeatState.LOST: 0,
                BeatState.LATE: 1,
                BeatState.LIVE: 2,
                BeatState.STOPPED: 3,
                BeatState.REPLACED: 4,
            }
            instances.sort(key=lambda pair: (order[pair[1].state], pair[0].instance))
            statuses.append(
                ComponentStatus(
                    kind, name, health, reason, [InstanceStatus(b, v.state, v.reason) for b, v in instances]
                )
            )
        statuses.sort(key=lambda s: (s.health.rank, KIND_ORDER.get(s.kind, 99), s.name))
        return statuses

    def history(self, since: datetime) -> builtins.list[Sample]:
        """Per-minute samples of every process since ``since``, oldest first."""
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.execute(
                select(HeartbeatSampleRow, HeartbeatRow)
                .join(HeartbeatRow, HeartbeatRow.id == HeartbeatSampleRow.heartbeat_id)
                .where(HeartbeatSampleRow.minute >= since)
                .order_by(
                    HeartbeatSampleRow.minute, HeartbeatRow.kind, HeartbeatRow.name, HeartbeatRow.instance
                )
            ).all()
            samples = []
            for sample, beat in rows:
                beats = max(1, sample.beats)
                samples.append(
                    Sample(
                        kind=beat.kind,
                        name=beat.name,
                        instance=beat.instance,
                        host=beat.host,
                        minute=utc(sample.minute),
                        beats=sample.beats,
                        cpu_percent=sample.cpu_sum / beats,
                        memory_bytes=sample.memory_max,
                        open_files=sample.open_files_max,
                        host_cpu_percent=sample.host_cpu_sum / beats,
                        host_load_1m=sample.host_load_sum / beats,
                        host_memory_percent=sample.host_memory_sum / beats,
                        host_cpu_count=beat.host_cpu_count,
                    )
                )
        return samples


class HeartbeatThread:
    """Beats for this process every ``every`` seconds until :meth:`stop`, which marks it stopped.

    ``details`` is a mapping or a function returning one (called at every
    beat, so a scoring replica reports the versions it has *now*). With
    ``sweep=actor`` the thread also looks for lost processes about once per
    heartbeat timeout: the app does, so a dead worker still opens its alert.
    A failing beat (database away) is logged and retried at the next tick; it
    never stops the process.
    """

    def __init__(
        self,
        service: HeartbeatService,
        kind: str,
        name: str,
        *,
        details: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
        every: float | None = None,
        sweep: Actor | None = None,
    ) -> None:
        _check_names(kind, name)
        self.service, self.kind, self.name = service, kind, name
        self.details = details
        self.every = float(every or service.ctx.settings.heartbeat_seconds)
        self.sweep = sweep
        self.instance = this_instance()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{kind}", daemon=True)
        self._last_sweep: datetime | None = None
        self._last_problem = ""
        self.beats = 0

    def start(self) -> HeartbeatThread:
        self.beat_now()
        self._thread.start()
        return self

    def beat_now(self) -> None:
        try:
            found = self.details() if callable(self.details) else self.details
            self.service.beat(self.kind, self.name, found, instance=self.instance, interval=self.every)
            self.beats += 1
            self._last_problem = ""
            self._maybe_sweep()
        except (SQLAlchemyError, OSError, InvalidInput, psutil.Error) as problem:
            words = f"{type(problem).__name__}: {str(problem).splitlines()[0] if str(problem) else ''}"
            if words != self._last_problem:  # once per distinct problem, not every few seconds
                log.warning("heartbeat %s/%s not recorded: %s", self.kind, self.name, words)
                self._last_problem = words

    def _maybe_sweep(self) -> None:
        if self.sweep is None:
            return
        now = self.service.ctx.clock.now()
        period = timedelta(seconds=self.service.ctx.settings.heartbeat_timeout_seconds)
        if self._last_sweep is None or now - self._last_sweep >= period:
            self._last_sweep = now
            self.service.detect_lost(self.sweep)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=max(5.0, self.every * 2))
        try:
            self.service.stop(self.kind, self.name, instance=self.instance)
        except SQLAlchemyError as problem:
            log.warning(
                "heartbeat %s/%s: stop not recorded (%s)", self.kind, self.name, type(problem).__name__
            )

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.beat_now()
