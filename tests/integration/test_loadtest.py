"""Load tests end to end: the service queues, the Locust runner (a real child process) sends real HTTP
to a real server on loopback, and the measurement lands in the database, the audit log and the gate.

The server is ``scoringstub`` (the predict endpoint's shape) until ``steward serve`` lands.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta

import pytest
from scoringstub import Behaviour, scoring_stub
from test_promotions_support import build_world

from steward.app.loadtest import launch, target_url
from steward.core.domain.gates import GateStatus
from steward.core.domain.loadtest import LoadPlan, LoadTestStatus, RowSource
from steward.core.domain.sla import SlaTargets
from steward.core.errors import InvalidInput, PermissionDenied, StaleState
from steward.core.steward import Steward

KEY = "load-test-key"


@pytest.fixture
def world(steward):
    return build_world(steward, versions=2)


@pytest.fixture
def child_settings(steward: Steward, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner child reads STEWARD_* from its environment: point them at this test's database."""
    for key in [k for k in os.environ if k.startswith("STEWARD_")]:
        monkeypatch.delenv(key)
    settings = steward.settings
    monkeypatch.setenv("STEWARD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("STEWARD_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("STEWARD_SECRET_KEY", settings.secret_key.get_secret_value())
    monkeypatch.setenv("STEWARD_SCRYPT_N", str(settings.scrypt_n))
    monkeypatch.setenv("STEWARD_LOADTEST_API_KEY", KEY)


def run_child(steward: Steward, run_id: int) -> int:
    """The same launch the Deployments page uses; waits for the child to finish."""
    return launch(steward.settings, run_id).wait(timeout=180)


def deployed(world, environment: str = "Dev", number: int = 1) -> None:
    s = world.steward
    request = s.promotions.request(world["dana"], "toy", number, "Dev", "try")
    if environment == "Test":
        test = s.promotions.request(world["dana"], "toy", number, "Test", "checks")
        s.promotions.approve(world["sam"], test.id, "fine")
        s.promotions.execute(world["otto"], test.id)
    assert request.id


def test_a_load_test_replays_sample_rows_and_stores_what_it_measured(world, child_settings):
    s = world.steward
    deployed(world)
    with scoring_stub(Behaviour(version=1, api_key=KEY)) as server:
        run = s.loadtests.request(world["dana"], "Dev", "toy", LoadPlan(20, 2), target_url=server.url)
        assert run.status is LoadTestStatus.QUEUED and run.version_number == 1
        assert run_child(s, run.id) == 0
        seen = server.seen
    done = s.loadtests.get(run.id)
    assert done.status is LoadTestStatus.COMPLETED, done.detail
    assert done.requests == seen.requests > 0 and seen.unauthorised == 0
    # Paced by Locust: about 20 req/s for 2 s, never a flood.
    assert done.requests <= 20 * 2 * 1.5 + done.plan.users
    assert done.errors == 0 and done.other_answers == 0 and done.answers == {"v1": done.requests}
    assert done.p50_ms is not None and done.p50_ms <= done.p95_ms <= done.p99_ms  # type: ignore[operator]
    assert done.throughput_rps and done.throughput_rps > 0
    assert seen.paths == {"Dev/toy"}
    # Sample rows are the training data's input columns only (the target is not sent).
    assert set(seen.records[0]) == {"amount", "colour"}
    assert done.rows_used == 300 and done.requested_by == "dana"
    actions = [e.action for e in s.audit.recent(5)]
    assert actions[0] == "loadtest.complete" and "loadtest.request" in actions
    complete = s.audit.recent(1)[0]
    assert complete.actor == "dana" and complete.after and complete.after["requests"] == done.requests


def test_the_load_test_gate_reads_the_candidates_result_against_the_target_sla(world, child_settings):
    s = world.steward
    ada, otto = world["ada"], world["otto"]
    prod = s.promotions.policy("Prod")
    s.promotions.set_policy(
        ada, "Prod", prod.signoff, replace(prod.gates, require_load_test=True)
    )  # stricter
    deployed(world, "Test")
    request = s.promotions.request(world["dana"], "toy", 1, "Prod", "to customers")

    def gate():
        return next(g for g in s.promotions.evidence(request.id).gates if g.gate == "load_test")

    assert gate().status is GateStatus.PENDING and "no SLA targets" in gate().detail
    s.sla.set(otto, "Prod", "toy", SlaTargets(p95_ms=25, min_throughput_rps=5, max_error_rate=0.01))
    assert gate().status is GateStatus.PENDING and "no load test" in gate().detail

    with scoring_stub(Behaviour(version=1, api_key=KEY, delay_seconds=0.06)) as slow:
        run = s.loadtests.request(otto, "Test", "toy", LoadPlan(10, 2), target_url=slow.url)
        assert run_child(s, run.id) == 0
    assert gate().status is GateStatus.FAILED
    assert "p95 latency" in gate().detail and "above the 25 ms target" in gate().detail
    assert f"#{run.id} in Test" in gate().detail

    with scoring_stub(Behaviour(version=1, api_key=KEY)) as fast:
        run = s.loadtests.request(otto, "Test", "toy", LoadPlan(10, 2), target_url=fast.url)
        assert run_child(s, run.id) == 0
    assert gate().status is GateStatus.PASSED, gate().detail
    assert "within every target" in gate().detail


def test_answers_from_another_version_or_errors_fail_the_gate_naming_why(world, child_settings):
    s = world.steward
    otto = world["otto"]
    deployed(world)
    s.sla.set(otto, "Dev", "toy", SlaTargets(max_error_rate=0.05))
    with scoring_stub(Behaviour(version=7, fallback=True, api_key=KEY, fail_every=4)) as server:
        run = s.loadtests.request(otto, "Dev", "toy", LoadPlan(10, 2), target_url=server.url)
        assert run_child(s, run.id) == 0
    done = s.loadtests.get(run.id)
    assert done.other_answers > 0 and set(done.answers) == {"v7 (fallback)"}
    assert done.errors > 0 and any("HTTP 500" in e for e in done.error_examples)
    assert "error rate" in done.detail and "above the 5 % target" in done.detail
    from steward.core.domain.gates import load_test_gate

    verdict = load_test_gate(done, SlaTargets(max_error_rate=1.0))
    assert verdict.status is GateStatus.FAILED and "another version or the fallback" in verdict.detail


def test_a_wrong_key_or_no_service_is_measured_as_errors_not_hidden(world, child_settings, monkeypatch):
    s = world.steward
    deployed(world)
    monkeypatch.setenv("STEWARD_LOADTEST_API_KEY", "wrong")
    with scoring_stub(Behaviour(api_key=KEY)) as server:
        run = s.loadtests.request(world["otto"], "Dev", "toy", LoadPlan(5, 1), target_url=server.url)
        assert run_child(s, run.id) == 0
        assert server.seen.requests == 0 and server.seen.unauthorised > 0
    done = s.loadtests.get(run.id)
    assert done.status is LoadTestStatus.COMPLETED and done.errors == done.requests > 0
    assert any("HTTP 401" in e for e in done.error_examples)


def test_prod_needs_the_permission_and_the_refusal_is_audited(world):
    s = world.steward
    deployed(world, "Test")
    with pytest.raises(PermissionDenied):
        s.loadtests.request(world["dana"], "Prod", "toy", LoadPlan(5, 1), target_url="http://127.0.0.1:9")
    event = s.audit.recent(1)[0]
    assert event.action == "permission.denied" and "deployment.load_test" in event.detail
    assert s.loadtests.list() == []


def test_bad_requests_are_refused_with_a_clear_reason(world):
    s = world.steward
    otto = world["otto"]
    with pytest.raises(InvalidInput, match="nothing serves toy in Dev"):
        s.loadtests.request(otto, "Dev", "toy", LoadPlan(5, 1), target_url="http://127.0.0.1:9")
    deployed(world)
    with pytest.raises(InvalidInput, match="no request in Dev yet"):
        s.loadtests.request(otto, "Dev", "toy", LoadPlan(5, 1, RowSource.LOGGED), target_url="http://x")
    with pytest.raises(InvalidInput, match="http"):
        s.loadtests.request(otto, "Dev", "toy", LoadPlan(5, 1), target_url="file:///etc/passwd")
    for rps, seconds in ((0, 1), (5, 0), (100_000, 1), (5, 3600)):
        with pytest.raises(InvalidInput):
            LoadPlan(rps, seconds)


def test_one_runner_per_run_and_a_dead_runner_frees_the_deployment(world, clock):
    s = world.steward
    otto = world["otto"]
    deployed(world)
    run = s.loadtests.request(otto, "Dev", "toy", LoadPlan(5, 1), target_url="http://127.0.0.1:9")
    with pytest.raises(InvalidInput, match="still running"):
        s.loadtests.request(otto, "Dev", "toy", LoadPlan(5, 1), target_url="http://127.0.0.1:9")
    s.loadtests.claim(run.id, "runner-a")
    with pytest.raises(StaleState, match="not queued"):
        s.loadtests.claim(run.id, "runner-b")
    clock.advance(timedelta(seconds=31))  # the runner never reported back
    assert s.loadtests.get(run.id).stale(clock.now())
    again = s.loadtests.request(otto, "Dev", "toy", LoadPlan(5, 1), target_url="http://127.0.0.1:9")
    dead = s.loadtests.get(run.id)
    assert dead.status is LoadTestStatus.FAILED and "runner stopped" in dead.detail
    assert again.status is LoadTestStatus.QUEUED
    assert "loadtest.fail" in [e.action for e in s.audit.recent(3)]


def test_target_url_follows_the_scoring_settings(steward):
    assert target_url(steward.settings) == "http://127.0.0.1:8600"
