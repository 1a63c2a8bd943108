"""Infrastructure rules: thresholds and words (core/domain/infrastructure.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from steward.core.domain.infrastructure import (
    BeatState,
    Health,
    HostMinute,
    beat_state,
    compute_health,
    growth_health,
    next_slot,
    timeout_for,
    worst,
)

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def minutes(cpu: float, load: float, memory: float = 40.0, count: int = 5) -> list[HostMinute]:
    return [HostMinute(NOW - timedelta(minutes=i), cpu, load, memory, 2) for i in range(count)]


@pytest.mark.parametrize(
    ("cpu", "load", "memory", "health"),
    [
        (50, 0.5, 40, Health.UP),
        (86, 0.5, 40, Health.DEGRADED),
        (96, 0.5, 40, Health.DOWN),
        (50, 2.2, 40, Health.DEGRADED),  # 1.1 per core
        (50, 4.2, 40, Health.DOWN),  # 2.1 per core
        (50, 0.5, 98, Health.DOWN),
        (100, 10.5, 40, Health.DOWN),  # the reading that used to stay green
    ],
)
def test_compute_is_judged_on_the_mean_of_the_window(cpu, load, memory, health):
    assert compute_health("h", minutes(cpu, load, memory), NOW)[0] is health


def test_compute_needs_minutes_of_history_and_ignores_older_minutes():
    assert compute_health("h", minutes(100, 10, count=2), NOW)[0] is Health.UNKNOWN
    old = [HostMinute(NOW - timedelta(minutes=30 + i), 100, 10, 40, 2) for i in range(5)]
    assert compute_health("h", old + minutes(10, 0.1), NOW)[0] is Health.UP


def test_beat_states_and_their_words():
    beat = NOW - timedelta(seconds=4)
    assert beat_state(beat_at=beat, interval_seconds=5, timeout_seconds=30, now=NOW, stopped_at=None) == (
        BeatState.LIVE,
        "beat 4.0 s ago",
    )
    late = beat_state(
        beat_at=NOW - timedelta(seconds=13), interval_seconds=5, timeout_seconds=30, now=NOW, stopped_at=None
    )
    assert late[0] is BeatState.LATE
    lost = beat_state(
        beat_at=NOW - timedelta(minutes=2), interval_seconds=5, timeout_seconds=30, now=NOW, stopped_at=None
    )
    assert lost == (BeatState.LOST, "no heartbeat for 2 min (timeout 30 s)")
    assert timeout_for(20, 30) == 60  # a slow beater gets three of its own intervals


def test_growth_worst_and_next_slot():
    assert growth_health(2e9, 5e9)[0] is Health.DEGRADED  # full in 2.5 days
    assert growth_health(2e9, 1e9)[0] is Health.DOWN
    assert growth_health(None, 1e9)[0] is Health.UNKNOWN
    assert worst([Health.UP, Health.DEGRADED]) is Health.DEGRADED and worst([]) is Health.UNKNOWN
    assert next_slot(NOW + timedelta(minutes=7), timedelta(minutes=15)) == NOW + timedelta(minutes=15)
