"""The Infrastructure page on a seeded demo with a worker fleet's evidence: status in words, history charts.

The evidence is written through the same services the processes use (a lease,
heartbeats of two workers, one of them silent past its timeout, a recorded
probe round, job runs), so the page shows what an operator would see after a
worker died. The app itself beats too (its heartbeat thread), which the page
lists among the processes.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from steward.core.adapters.db.models import HeartbeatRow
from steward.core.domain.accounts import Actor
from steward.core.services.heartbeats import ProcessReading
from steward.core.services.uow import UnitOfWork
from steward.core.steward import Steward
from testkit import REPO_ROOT, demo_tokens

ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")
WORKER = Actor.system_actor("worker")
SCHEDULE = {"jobs": [{"name": "audit.checkpoint", "every_seconds": 3600, "why": "sign the chain"}]}


@pytest.fixture(scope="module")
def fleet_evidence(demo_steward: Steward) -> Steward:
    steward = demo_steward
    fence = steward.leases.acquire("worker", "demo-host:101", timedelta(seconds=30)).fence()
    for pid in (101, 102):
        started = steward.ctx.clock.now() - timedelta(hours=1)
        reading = ProcessReading(pid, "demo-host", started, 2.0, 120_000_000, 5, 3, 20.0, 0.4, 45.0, 2)
        details = SCHEDULE | {"leader": pid == 101}
        steward.heartbeats.beat("worker", "worker", details, instance=f"demo-host:{pid}", reading=reading)
    steward.jobs.run_once(
        "audit.checkpoint", timedelta(hours=1), "demo-host:101", lambda: "signed", fence=fence
    )
    steward.infrastructure.record_probes()
    with UnitOfWork(steward.ctx) as uow:  # demo-host:102 went silent two minutes ago
        uow.session.execute(
            update(HeartbeatRow)
            .where(HeartbeatRow.instance == "demo-host:102")
            .values(beat_at=steward.ctx.clock.now() - timedelta(minutes=2))
        )
        uow.commit()
    assert [b.instance for b in steward.heartbeats.detect_lost(WORKER)] == ["demo-host:102"]
    return steward


def open_infrastructure(token: str) -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = token
    at.run()
    at.switch_page("../pages/infrastructure.py").run()
    assert not at.exception, at.exception
    return at


def test_the_page_says_what_is_wrong_in_words_and_shows_every_process(fleet_evidence: Steward) -> None:
    at = open_infrastructure(demo_tokens(fleet_evidence)["otto"])
    assert [t.value for t in at.title] == ["Infrastructure"]
    assert at.markdown[0].value.startswith("### 🟠 Infrastructure is degraded")
    components = at.dataframe[0].value
    worker = components[components["Component"] == "Worker"].iloc[0]
    assert worker["Status"] == "🟠 degraded" and "1 of 2 lost (demo-host:102" in worker["Why"]
    database = components[components["Component"] == "Database"].iloc[0]
    assert database["Status"] == "🟢 up" and "round trip" in database["Why"]
    scheduler = components[components["Component"] == "Scheduler"].iloc[0]
    assert "demo-host:101 leads (token 1)" in scheduler["Why"]
    processes = at.dataframe[1].value
    states = dict(zip(processes["Process"], processes["State"], strict=True))
    assert states["demo-host:102"].startswith("🔴 lost: no heartbeat for 2 min (timeout 30 s)")
    assert states["demo-host:101"].startswith("🟢 live")
    assert any(c == "App" for c in processes["Component"])  # the app under test beats too
    jobs = at.dataframe[2].value
    checkpoint = jobs[jobs["Job"] == "audit.checkpoint"].iloc[0]
    assert checkpoint["Last result"] == "ok" and checkpoint["Every"] == "60 min" and checkpoint["Next run"]


def test_the_last_day_is_charted_from_per_minute_samples(fleet_evidence: Steward) -> None:
    at = open_infrastructure(demo_tokens(fleet_evidence)["otto"])
    charts = at.get("plotly_chart")
    assert len(charts) == 2
    processes = json.loads(charts[0].proto.spec)
    names = {trace.get("name") for trace in processes["data"]}
    assert any("demo-host:101" in str(name) for name in names)
    probes = json.loads(charts[1].proto.spec)
    assert {trace.get("name") for trace in probes["data"]} >= {"round trip", "size", "artifact store"}


def test_the_lost_worker_opened_one_alert_linking_to_this_page(fleet_evidence: Steward) -> None:
    (alert,) = [a for a in fleet_evidence.alerts.unresolved() if a.kind == "heartbeat.lost"]
    assert alert.page == "Infrastructure" and alert.count == 1 and "demo-host:102" in alert.detail
