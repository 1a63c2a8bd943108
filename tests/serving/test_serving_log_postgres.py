"""PostgreSQL stopped during traffic: answers continue, the log spools, and afterwards every request is logged once.

The database is a private cluster made for this test (see ``privatepg``); the
machine's shared PostgreSQL is never touched.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import privatepg
import pytest
from servingkit import serving
from sqlalchemy import text
from test_promotions_support import build_world

from steward.core.services.api_keys import ApiKeyService
from steward.core.steward import Steward
from testkit import make_settings

pytestmark = pytest.mark.postgres


@pytest.fixture
def cluster() -> Iterator[privatepg.PrivatePostgres]:
    why = privatepg.problem()
    if why:
        pytest.skip(f"no private PostgreSQL: {why}")
    try:
        made = privatepg.create()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as failure:
        detail = getattr(failure, "stderr", b"") or b""
        pytest.skip(f"initdb/pg_ctl not usable here: {failure} {detail.decode(errors='replace')[:300]}")
    try:
        yield made
    finally:
        made.remove()


def _logged(steward: Steward) -> list[str]:
    with steward.engines.read.connect() as connection:
        return list(connection.execute(text("SELECT request_id FROM predictions")).scalars())


def test_a_stopped_postgresql_never_stops_the_answers_and_every_request_is_logged_once(cluster, tmp_path):
    s = Steward(make_settings(tmp_path, cluster.url))
    try:
        s.upgrade_database()
        world = build_world(s, versions=1)
        s.promotions.request(world["dana"], "toy", 1, "Dev", "first")
        key = ApiKeyService(s.ctx).create(world["ada"], "tests", ["Dev"]).secret
        ids: list[str] = []
        slowest = 0.0
        with serving(s, tmp_path) as service, service.client(key) as client:

            def send(count: int) -> None:
                nonlocal slowest
                for _ in range(count):
                    started = time.monotonic()
                    response = client.post("/v1/Dev/toy/predict", json={"amount": 120.0, "colour": "red"})
                    slowest = max(slowest, time.monotonic() - started)
                    assert response.status_code == 200, response.text
                    ids.append(response.json()["request_id"])

            send(20)
            cluster.stop()
            try:
                down_until = time.monotonic() + 6
                while time.monotonic() < down_until:
                    send(10)
                    time.sleep(0.05)
                metrics = client.get("/metrics").text
                spooled = float(
                    next(
                        line
                        for line in metrics.splitlines()
                        if line.startswith("steward_scoring_log_spooled ")
                    ).split()[1]
                )
                assert service.client().get("/healthz").status_code == 200
            finally:
                cluster.start()
            send(20)
            deadline = time.monotonic() + 30
            while set(ids) - set(_logged(s)):
                assert time.monotonic() < deadline, f"{len(set(ids) - set(_logged(s)))} requests missing"
                time.sleep(0.2)
        assert spooled > 0, "the stopped database should have sent rows to the spool"
        assert slowest < 1.0, f"a request waited {slowest:.2f} s (on the database?)"
        logged = _logged(s)
        assert len(logged) == len(ids) == len(set(logged))  # nothing lost, nothing twice
        assert list((s.settings.data_dir / "serving").glob("*.jsonl")) == []
    finally:
        s.close()
