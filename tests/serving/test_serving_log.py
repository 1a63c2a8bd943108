"""The online prediction log: written off the request path; a locked database spools, then every request lands."""

from __future__ import annotations

import sqlite3
import time

import pytest
from servingkit import serving
from sqlalchemy import text
from test_promotions_support import build_world

from steward.core.services.api_keys import ApiKeyService

RECORD = {"amount": 120.0, "colour": "red"}


@pytest.fixture
def world(live_steward):
    w = build_world(live_steward, versions=1)
    live_steward.promotions.request(w["dana"], "toy", 1, "Dev", "first")
    w.key = ApiKeyService(live_steward.ctx).create(w["ada"], "tests", ["Dev"]).secret  # type: ignore[attr-defined]
    return w


def logged(steward) -> dict[str, tuple[str, float | None, str, bool]]:
    with steward.engines.read.connect() as connection:
        rows = connection.execute(
            text("SELECT request_id, source, latency_ms, status, fallback FROM predictions")
        ).all()
    return {r[0]: (r[1], r[2], r[3], bool(r[4])) for r in rows}


def test_a_locked_database_never_delays_an_answer_and_every_request_is_logged_afterwards(world, tmp_path):
    s = world.steward
    ids: list[str] = []
    slowest = 0.0
    with serving(s, tmp_path) as service, service.client(world.key) as client:

        def send(count: int) -> None:
            nonlocal slowest
            for _ in range(count):
                started = time.monotonic()
                response = client.post("/v1/Dev/toy/predict", json=RECORD)
                slowest = max(slowest, time.monotonic() - started)
                assert response.status_code == 200, response.text
                ids.append(response.json()["request_id"])

        send(20)
        database = s.settings.resolved_database_url.removeprefix("sqlite:///")
        locker = sqlite3.connect(database, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # every other writer now waits its busy timeout, then fails
        try:
            locked_until = time.monotonic() + 8
            while time.monotonic() < locked_until:
                send(10)
                time.sleep(0.05)
            spooled = _metric(client.get("/metrics").text, "steward_scoring_log_spooled")
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        send(20)
        deadline = time.monotonic() + 20
        while set(ids) - set(logged(s)):
            assert time.monotonic() < deadline, (
                f"{len(set(ids) - set(logged(s)))} requests missing from the log"
            )
            time.sleep(0.2)
    assert spooled > 0, "the lock should have sent rows to the spool"
    assert slowest < 1.0, f"a request waited {slowest:.2f} s (on the database?)"
    rows = logged(s)
    assert len(rows) == len(ids)  # nothing lost, nothing twice
    assert all(
        source == "http" and latency is not None and status == "ok" and not fallback
        for source, latency, status, fallback in rows.values()
    )
    spools = list((s.settings.data_dir / "serving").glob("*.jsonl"))
    assert spools == [], "the spool is removed once replayed"


def _metric(text_: str, name: str) -> float:
    line = next(line for line in text_.splitlines() if line.startswith(name + " "))
    return float(line.split()[1])
