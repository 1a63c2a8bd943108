"""Infrastructure rules: when a process, a probe or a host is up, degraded or down, and why, in words.

Plain functions over readings, so the thresholds are in one place and the
same judgement serves the Infrastructure page, the Overview's light, the
worker's alert job and Prometheus. Every verdict carries a reason a person
can act on ("no heartbeat for 45 s (timeout 30 s)"), not only a colour.

"Sustained" means judged over a window of per-minute samples, never one
reading: a page load that catches a busy second is not an incident, five
minutes at 100 % CPU or a load of five per core is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from steward.core.domain.signals import Light


class Health(StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"  # nothing to judge yet, or stopped on purpose

    @property
    def light(self) -> Light:
        return _LIGHTS[self]

    @property
    def rank(self) -> int:
        """Worst first: down, degraded, unknown, up."""
        return _RANKS[self]


_LIGHTS = {
    Health.UP: Light.GREEN,
    Health.DEGRADED: Light.AMBER,
    Health.DOWN: Light.RED,
    Health.UNKNOWN: Light.GREY,
}
_RANKS = {Health.DOWN: 0, Health.DEGRADED: 1, Health.UNKNOWN: 2, Health.UP: 3}


def worst(healths: Sequence[Health]) -> Health:
    """The worst of several; UNKNOWN when there is nothing to judge."""
    return min(healths, key=lambda h: h.rank, default=Health.UNKNOWN)


class BeatState(StrEnum):
    LIVE = "live"
    LATE = "late"  # missed a beat or two, not yet lost
    LOST = "lost"  # silent past its timeout: the process is dead, stopped (SIGSTOP) or cut off
    STOPPED = "stopped"  # said goodbye on a clean shutdown
    REPLACED = "replaced"  # lost, but a newer process of the same component started on its host since


COMPONENT_KINDS: dict[str, str] = {"app": "App", "worker": "Worker", "scoring": "Scoring replica"}
MAX_NAME = 100
MAX_DETAILS_BYTES = 16_000

# ---- thresholds ---------------------------------------------------------------------------------
LATE_AFTER_BEATS = 2.5  # a beat older than this many intervals is late
TIMEOUT_MIN_BEATS = 3.0  # a component's timeout is never shorter than three of its own intervals

SUSTAINED = timedelta(minutes=5)  # compute is judged over this window of per-minute samples
MIN_SUSTAINED_MINUTES = 3  # fewer minutes of history than this: report, do not judge
CPU_AMBER, CPU_RED = 85.0, 95.0  # host CPU %, mean over the window
LOAD_PER_CORE_AMBER, LOAD_PER_CORE_RED = 1.0, 2.0  # 1-minute load average / cores, mean over the window
MEMORY_AMBER, MEMORY_RED = 90.0, 97.0  # host memory used %, mean over the window

DISK_AMBER, DISK_RED = 0.85, 0.95  # share of the disk used
DB_LATENCY_AMBER_MS, DB_LATENCY_RED_MS = 250.0, 2000.0  # one round trip
FULL_WITHIN_AMBER, FULL_WITHIN_RED = timedelta(days=7), timedelta(days=1)  # at the last day's growth

JOB_LATE_GRACE = timedelta(minutes=10)  # the worker's misfire grace: a job later than every + this is overdue
DEFAULT_LEASE = "worker"


def timeout_for(interval_seconds: float, configured_timeout: float) -> float:
    """How long a component may stay silent: the configured timeout, or three of its own intervals."""
    return max(configured_timeout, TIMEOUT_MIN_BEATS * interval_seconds)


def seconds_in_words(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def bytes_in_words(value: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(value) >= size:
            return f"{value / size:,.1f} {unit}"
    return f"{value:,.0f} B"


def beat_state(
    *,
    beat_at: datetime,
    interval_seconds: float,
    timeout_seconds: float,
    now: datetime,
    stopped_at: datetime | None,
) -> tuple[BeatState, str]:
    """One process's state from its last heartbeat, with the reason in words."""
    if stopped_at is not None:
        return (
            BeatState.STOPPED,
            f"stopped cleanly {seconds_in_words((now - stopped_at).total_seconds())} ago",
        )
    age = (now - beat_at).total_seconds()
    timeout = timeout_for(interval_seconds, timeout_seconds)
    if age > timeout:
        return (
            BeatState.LOST,
            f"no heartbeat for {seconds_in_words(age)} (timeout {seconds_in_words(timeout)})",
        )
    if age > LATE_AFTER_BEATS * interval_seconds:
        return (
            BeatState.LATE,
            f"last heartbeat {seconds_in_words(age)} ago (beats every {seconds_in_words(interval_seconds)})",
        )
    return BeatState.LIVE, f"beat {seconds_in_words(age)} ago"


@dataclass(frozen=True)
class InstanceView:
    """What the component rule needs to know about one process of a component."""

    instance: str
    host: str
    started_at: datetime
    beat_at: datetime
    state: BeatState
    reason: str


def replaced(lost: InstanceView, others: Sequence[InstanceView]) -> bool:
    """Lost, but a newer process of its component started on its host after its last beat."""
    return any(
        other.instance != lost.instance
        and other.host == lost.host
        and other.started_at >= lost.beat_at
        and other.state in (BeatState.LIVE, BeatState.LATE, BeatState.STOPPED)
        for other in others
    )


def component_health(label: str, instances: Sequence[InstanceView]) -> tuple[Health, str]:
    """A component (the worker, the app, one scoring service) from its processes.

    Down when every process that should be beating is lost; degraded when some
    are lost or late while others beat; unknown when none is meant to run (all
    stopped cleanly, or none ever started).
    """
    counted = [i for i in instances if i.state not in (BeatState.STOPPED, BeatState.REPLACED)]
    if not counted:
        if instances:
            return Health.UNKNOWN, f"{label}: stopped cleanly, none running"
        return Health.UNKNOWN, f"{label}: no heartbeat yet"
    lost = [i for i in counted if i.state is BeatState.LOST]
    late = [i for i in counted if i.state is BeatState.LATE]
    live = [i for i in counted if i.state is BeatState.LIVE]
    if lost and not live and not late:
        names = ", ".join(i.instance for i in lost)
        return Health.DOWN, f"{label}: {names} {lost[0].reason}"
    if lost:
        return (
            Health.DEGRADED,
            f"{label}: {len(lost)} of {len(counted)} lost ({lost[0].instance}: {lost[0].reason})",
        )
    if late:
        return Health.DEGRADED, f"{label}: {late[0].instance} {late[0].reason}"
    plural = "es" if len(live) != 1 else ""
    return Health.UP, f"{label}: {len(live)} process{plural} beating"


# ---- compute ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HostMinute:
    """One minute of one host's readings (means over that minute's heartbeats)."""

    minute: datetime
    cpu_percent: float
    load_1m: float
    memory_percent: float
    cpu_count: int


def compute_health(
    host: str, minutes: Sequence[HostMinute], now: datetime
) -> tuple[Health, str, dict[str, float]]:
    """A host's compute over the last :data:`SUSTAINED` window: CPU, load per core and memory, as means.

    A host with fewer than :data:`MIN_SUSTAINED_MINUTES` minutes of readings in
    the window is reported but not judged (unknown): one busy minute at start-up
    is not sustained load.
    """
    window = [m for m in minutes if now - m.minute <= SUSTAINED]
    if not window:
        return (
            Health.UNKNOWN,
            f"{host}: no readings in the last {seconds_in_words(SUSTAINED.total_seconds())}",
            {},
        )
    cores = max(1, window[-1].cpu_count)
    cpu = sum(m.cpu_percent for m in window) / len(window)
    load = sum(m.load_1m for m in window) / len(window)
    memory = sum(m.memory_percent for m in window) / len(window)
    per_core = load / cores
    readings = {
        "cpu_percent": round(cpu, 1),
        "load_per_core": round(per_core, 2),
        "memory_percent": round(memory, 1),
    }
    span = f"over the last {len(window)} min"
    summary = f"CPU {cpu:.0f} %, load {load:.2f} on {cores} cores, memory {memory:.0f} % {span}"
    if len(window) < MIN_SUSTAINED_MINUTES:
        return (
            Health.UNKNOWN,
            f"{host}: {summary} (judged once {MIN_SUSTAINED_MINUTES} min of readings exist)",
            readings,
        )
    problems_red, problems_amber = [], []
    for value, amber, red, words in (
        (cpu, CPU_AMBER, CPU_RED, f"CPU averaged {cpu:.0f} %"),
        (per_core, LOAD_PER_CORE_AMBER, LOAD_PER_CORE_RED, f"load averaged {per_core:.2f} per core"),
        (memory, MEMORY_AMBER, MEMORY_RED, f"memory averaged {memory:.0f} % used"),
    ):
        if value >= red:
            problems_red.append(f"{words} {span} (red at {red:g})")
        elif value >= amber:
            problems_amber.append(f"{words} {span} (amber at {amber:g})")
    if problems_red:
        return Health.DOWN, f"{host}: " + "; ".join(problems_red + problems_amber), readings
    if problems_amber:
        return Health.DEGRADED, f"{host}: " + "; ".join(problems_amber), readings
    return Health.UP, f"{host}: {summary}", readings


# ---- probes -----------------------------------------------------------------------------------------
def latency_health(milliseconds: float) -> Health:
    if milliseconds >= DB_LATENCY_RED_MS:
        return Health.DOWN
    return Health.DEGRADED if milliseconds >= DB_LATENCY_AMBER_MS else Health.UP


def disk_health(used_share: float, writable: bool) -> Health:
    if not writable or used_share >= DISK_RED:
        return Health.DOWN
    return Health.DEGRADED if used_share >= DISK_AMBER else Health.UP


def growth_health(bytes_per_day: float | None, free_bytes: float | None) -> tuple[Health, str]:
    """Whether the database's disk fills soon at the growth of the last day (only known for SQLite)."""
    if bytes_per_day is None:
        return Health.UNKNOWN, "growth: not enough history yet"
    words = f"grows {bytes_in_words(bytes_per_day)} a day"
    if bytes_per_day <= 0 or free_bytes is None:
        return Health.UP, words
    days_left = free_bytes / bytes_per_day
    left = f"{words}: its disk fills in {days_left:,.1f} days"
    if timedelta(days=days_left) <= FULL_WITHIN_RED:
        return Health.DOWN, left
    if timedelta(days=days_left) <= FULL_WITHIN_AMBER:
        return Health.DEGRADED, left
    return Health.UP, left if math.isfinite(days_left) else words


def job_overdue(last_slot: datetime | None, every: timedelta, now: datetime) -> bool:
    """A job whose last slot is older than two intervals plus the misfire grace has stopped running."""
    return last_slot is not None and now - last_slot > 2 * every + JOB_LATE_GRACE


def next_slot(now: datetime, every: timedelta) -> datetime:
    """The start of the next interval (slots are aligned to the Unix epoch, as the worker claims them)."""
    seconds = max(1, int(every.total_seconds()))
    stamp = int(now.timestamp())
    return datetime.fromtimestamp(stamp - stamp % seconds + seconds, tz=now.tzinfo)


@dataclass(frozen=True)
class Reading:
    """One component's judgement: what it is, its health, why, and what was read."""

    component: str  # e.g. "Database", "Worker", "Compute on host-1"
    kind: str  # probe | process | compute
    health: Health
    reason: str
    readings: dict[str, Any] = field(default_factory=dict)
    read_at: datetime | None = None
    read_by: str = ""  # the process that read it (a probe recorded by the worker, or this one live)
    environment: str | None = None  # a scoring replica's environment; None: shared by all
