"""Zero-downtime swaps over real HTTP: promotions and rollbacks under load, and candidates that must never serve."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest
from servingkit import serving
from sklearn.dummy import DummyRegressor
from sklearn.pipeline import Pipeline
from sqlalchemy import text
from test_promotions_support import artifact_path, build_world

from steward.core.domain.alert_rules import SWAP_FAILED_KIND
from steward.core.services.api_keys import ApiKeyService

RECORD = {"amount": 120.0, "colour": "red"}


@dataclass
class Answer:
    sent: float
    received: float
    status: int
    version: int | None


class Load:
    """A client sending requests back to back on one keep-alive connection until stopped."""

    def __init__(self, service, key: str) -> None:
        self.service, self.key = service, key
        self.answers: list[Answer] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        with self.service.client(self.key) as client:
            while not self._stop.is_set():
                sent = time.time()
                try:
                    response = client.post("/v1/Dev/toy/predict", json=RECORD)
                except Exception as problem:  # counted as a failed request
                    self.errors.append(repr(problem))
                    continue
                version = response.json().get("version") if response.status_code == 200 else None
                self.answers.append(Answer(sent, time.time(), response.status_code, version))

    def latest(self) -> int | None:
        return self.answers[-1].version if self.answers else None


def wait_for(load: Load, version: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while load.latest() != version:
        assert time.monotonic() < deadline, f"v{version} never answered (latest v{load.latest()})"
        time.sleep(0.05)


@pytest.fixture
def world(live_steward):
    w = build_world(live_steward, versions=3)
    live_steward.promotions.request(w["dana"], "toy", 1, "Dev", "first")
    w.key = ApiKeyService(live_steward.ctx).create(w["ada"], "tests", ["Dev"]).secret  # type: ignore[attr-defined]
    return w


def test_ten_promotions_and_rollbacks_under_load_fail_no_request(world, tmp_path):
    s = world.steward
    serving_since: list[tuple[float, int]] = [(0.0, 1)]  # (when the ledger moved, version now serving)
    # How long the service may keep answering the replaced version: a poll (0.3 s) plus loading beside.
    lag = 3.0
    with serving(s, tmp_path) as service, Load(service, world.key) as load:
        wait_for(load, 1)
        plan = [2, 3, "rollback", 1, 3, "rollback", 2, "rollback", 3, 1]
        for step in plan:
            if step == "rollback":
                before = s.deployments.serving("Dev")[0]
                target = s.deployments.rollback_target("Dev", "toy")
                s.deployments.rollback(
                    world["otto"], target.id, "under load", expected_version=before.version
                )
                number = target.version_number
            else:
                number = int(step)
                s.promotions.request(world["dana"], "toy", number, "Dev", "under load")
            serving_since.append((time.time(), number))
            wait_for(load, number)
            time.sleep(0.3)
    assert load.errors == [] and len(load.answers) > 100
    assert {a.status for a in load.answers} == {200}

    def allowed(answer: Answer) -> set[int]:
        """Versions the ledger said served at some moment between (sent - lag) and received."""
        versions = set()
        for i, (since, number) in enumerate(serving_since):
            until = serving_since[i + 1][0] if i + 1 < len(serving_since) else float("inf")
            if since <= answer.received and until >= answer.sent - lag:
                versions.add(number)
        return versions

    wrong = [a for a in load.answers if a.version not in allowed(a)]
    assert wrong == []
    assert {a.version for a in load.answers} == {1, 2, 3}


def _corrupt_digest(world, number: int) -> None:
    path = artifact_path(world.steward, world.versions[number - 1])
    path.write_bytes(path.read_bytes() + b"tampered")


def _load_error(world, number: int) -> None:
    artifact_path(world.steward, world.versions[number - 1]).unlink()


def _schema_mismatch(world, number: int) -> None:
    version = world.versions[number - 1]
    schema = json.loads(json.dumps(version.schema))
    schema["columns"][0]["name"] = "renamed"
    with world.steward.engines.write.begin() as connection:
        connection.execute(
            text("UPDATE pipeline_versions SET schema_json = :s WHERE id = :i"),
            {"s": json.dumps(schema), "i": version.id},
        )


def _nan_output(world, number: int) -> None:
    """Swap in a correctly registered artifact whose model answers NaN (digest matches, outputs do not)."""
    version = world.versions[number - 1]
    model = Pipeline([("m", DummyRegressor(strategy="constant", constant=0.0))])
    model.fit(np.zeros((2, 2)), np.zeros(2))
    model.steps[0][1].constant_ = np.array([[np.nan]])
    stored = world.steward.ctx.artifacts.put("toy", f"{version.label}-nan", model)
    with world.steward.engines.write.begin() as connection:
        connection.execute(
            text("UPDATE pipeline_versions SET artifact_uri = :u, artifact_sha256 = :h WHERE id = :i"),
            {"u": stored.uri, "h": stored.sha256, "i": version.id},
        )


@pytest.mark.parametrize(
    "spoil", [_corrupt_digest, _load_error, _schema_mismatch, _nan_output], ids=lambda f: f.__name__[1:]
)
def test_a_bad_candidate_never_takes_traffic_and_the_failure_is_recorded_and_alerted(world, tmp_path, spoil):
    s = world.steward
    with serving(s, tmp_path) as service, Load(service, world.key) as load:
        wait_for(load, 1)
        os.kill(service.process.pid, signal.SIGSTOP)  # promote and spoil before the service can look
        try:
            s.promotions.request(world["dana"], "toy", 2, "Dev", "bad candidate")
            spoil(world, 2)
        finally:
            os.kill(service.process.pid, signal.SIGCONT)
        deadline = time.monotonic() + 20
        while not any(e.action == "serving.swap_failed" for e in s.audit.recent(10)):
            assert time.monotonic() < deadline, f"no swap failure recorded:\n{service.output()}"
            time.sleep(0.1)
        seen = len(load.answers)
        time.sleep(1.0)  # the old version keeps answering meanwhile
        with service.client(world.key) as client:
            ready = client.get("/readyz")
        assert ready.status_code == 503 and "Dev/toy" in ready.json()["problems"][0]
    assert load.errors == [] and len(load.answers) > seen
    assert {(a.status, a.version) for a in load.answers} == {(200, 1)}
    failure = next(e for e in s.audit.recent(10) if e.action == "serving.swap_failed")
    assert failure.object_id == "Dev/toy" and failure.outcome.value == "failed"
    assert any(a.kind == SWAP_FAILED_KIND for a in s.alerts.list())
