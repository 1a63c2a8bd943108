"""The set-based rollup (GROUP BY in SQL, one upsert) is exact: the same buckets and counts as one Python pass.

Both databases. Latencies include bucket edges, values below the lowest bucket
and the ten-minute top; traffic arrives in two runs into the same minute, so
the upsert's histogram merge is exercised, and a batch run's rows count as
requests without latency.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from test_promotions_support import build_world

from steward.core.adapters.db.bulk import append_predictions
from steward.core.adapters.db.models import EnvironmentRow, PipelineRow, RequestRollupRow
from steward.core.domain.latency import Histogram, Tally, edge
from steward.core.services.online_requests import OnlineRequest, append_online_requests
from steward.core.services.rollups import BATCH, HOUR, MINUTE, ONLINE
from steward.core.services.uow import UnitOfWork


def latencies(count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    values = [rng.lognormvariate(3.0, 1.2) for _ in range(count)]
    # Exactly on bucket edges, just above and below them, at and under the lowest, past the top.
    values += [edge(k) for k in (0, 1, 2, 50, 123, 300)]
    values += [edge(40) * (1 + 1e-12), edge(41) * (1 - 1e-12), 0.1, 0.05, 0.0, 700_000.0]
    return values


def test_two_runs_into_one_minute_match_a_single_python_pass(steward, clock):
    world = build_world(steward, versions=1)
    steward.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    [serving] = steward.deployments.serving("Dev")
    minute = clock.now().replace(second=0, microsecond=0) - timedelta(minutes=3)
    expected = Tally()
    for run, seed in ((0, 1), (1, 2)):
        requests = [
            OnlineRequest(
                request_id=f"r{run}-{i}",
                version_id=serving.version_id,
                latency_ms=value,
                scored_at=minute + timedelta(seconds=(i % 59) + 0.5),
                status="error" if i % 13 == 0 else "ok",
                fallback=i % 7 == 0,
            )
            for i, value in enumerate(latencies(400, seed))
        ]
        append_online_requests(steward.ctx, "toy", "Dev", requests)
        for r in requests:
            expected.add_request(r.latency_ms, error=r.status == "error", fallback=r.fallback)
        steward.rollups.run()
    with UnitOfWork(steward.ctx) as uow:  # a batch run's rows: requests, no latency
        pipeline = uow.session.scalar(select(PipelineRow.id).where(PipelineRow.name == "toy"))
        env = uow.session.scalar(select(EnvironmentRow.id).where(EnvironmentRow.name == "Dev"))
        at = minute + timedelta(seconds=5)
        append_predictions(
            uow.session,
            [
                (
                    pipeline,
                    env,
                    serving.version_id,
                    f"b{i}",
                    "batch:7",
                    at,
                    at,
                    "{}",
                    0.5,
                    "{}",
                    None,
                    "ok",
                    False,
                )
                for i in range(25)
            ],
        )
        uow.commit()
    assert steward.rollups.run().rows == 25
    with UnitOfWork(steward.ctx, write=False) as uow:
        rows = {(r.span_seconds, r.channel): r for r in uow.session.scalars(select(RequestRollupRow))}
        assert set(rows) == {(MINUTE, ONLINE), (HOUR, ONLINE), (MINUTE, BATCH), (HOUR, BATCH)}
        for span in (MINUTE, HOUR):
            row = rows[(span, ONLINE)]
            stored = Histogram.from_json(row.histogram_json, row.latency_max_ms)
            assert stored.counts == expected.histogram.counts, f"span {span}: buckets differ"
            assert stored.max_ms == expected.histogram.max_ms
            assert (row.requests, row.errors, row.fallbacks) == (
                expected.requests,
                expected.errors,
                expected.fallbacks,
            )
            assert row.latency_count == expected.latency_count == 824
            assert abs(row.latency_sum_ms - expected.latency_sum_ms) < 1e-6 * expected.latency_sum_ms
            batch = rows[(span, BATCH)]
            assert (batch.requests, batch.latency_count, batch.histogram_json) == (25, 0, "{}")


def test_the_log_summary_counts_rolled_up_and_unread_rows_once(steward, clock):
    """``predictions.summary`` reads the rollups plus the rows above the mark: exact before and after a run."""
    world = build_world(steward, versions=1)
    steward.promotions.request(world["dana"], "toy", 1, "Dev", "try")
    [serving] = steward.deployments.serving("Dev")
    start = clock.now() - timedelta(minutes=90)

    def log(prefix: str, count: int) -> None:
        append_online_requests(
            steward.ctx,
            "toy",
            "Dev",
            [
                OnlineRequest(f"{prefix}{i}", serving.version_id, 10.0, start + timedelta(seconds=i))
                for i in range(count)
            ],
        )

    log("a", 120)
    assert steward.predictions.summary("toy", "Dev").predictions == 120, "nothing rolled up yet"
    steward.rollups.run()
    log("b", 30)
    summary = steward.predictions.summary("toy", "Dev")
    assert summary.predictions == 150 and summary.by_version == ((1, 150),)
    assert summary.first_event == start and summary.last_scored_at == start + timedelta(seconds=119)
    steward.rollups.run()
    assert steward.predictions.summary("toy", "Dev").predictions == 150, "a rolled-up row is counted once"
