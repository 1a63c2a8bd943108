"""The online writer on both databases: batches through the log's one bulk path; a spool replays exactly once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from test_promotions_support import build_world

from steward.core.services.online_log import OnlineLog, _encode


def _row(world, request_id: str, at: datetime, prediction: float | None = 0.5) -> dict:
    version = world.versions[0]
    env = next(e for e in world.steward.environments.list() if e.name == "Dev")
    return {
        "pipeline_id": version.pipeline_id,
        "environment_id": env.id,
        "version_id": version.id,
        "request_id": request_id,
        "source": "http",
        "event_time": at,
        "scored_at": at,
        "features_json": json.dumps({"amount": 1.0, "colour": "red"}),
        "prediction": prediction,
        "output_json": json.dumps({"prediction": prediction}),
        "latency_ms": 1.25,
        "status": "ok" if prediction is not None else "error",
        "fallback": prediction is None,
    }


def _logged(steward) -> dict[str, tuple]:
    with steward.engines.read.connect() as connection:
        rows = connection.execute(
            text("SELECT request_id, prediction, status, fallback, latency_ms, scored_at FROM predictions")
        ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_rows_are_written_in_batches_and_a_spool_replays_without_duplicates(steward, tmp_path):
    world = build_world(steward, versions=1)
    at = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    spool = tmp_path / "spool.jsonl"
    first = OnlineLog(steward.ctx, spool, flush_seconds=0.05)
    first.start()
    for i in range(30):
        first.submit(_row(world, f"r{i}", at + timedelta(seconds=i)))
    first.submit(_row(world, "failed", at, prediction=None))
    first.stop()
    assert first.stats.written == 31 and first.stats.spooled == 0
    logged = _logged(steward)
    assert len(logged) == 31
    assert logged["failed"][:3] == (None, "error", True)
    assert logged["r0"][0] == 0.5 and logged["r0"][3] == 1.25

    # a spool left by a process that could not tell whether its last write landed: r28, r29 are in already
    spool.write_text(
        "".join(_encode(_row(world, f"r{i}", at + timedelta(seconds=i))) + "\n" for i in range(28, 40))
    )
    second = OnlineLog(steward.ctx, spool, flush_seconds=0.05)
    second.start()
    second.submit(_row(world, "after", at))
    second.stop()
    logged = _logged(steward)
    assert sorted(logged) == sorted([*(f"r{i}" for i in range(40)), "failed", "after"])  # each exactly once
    assert second.stats.replayed == 12 and not spool.exists()
    assert not spool.with_suffix(".replaying").exists()
