"""`steward failover`, `failback`, `rollback`, `sla` and `loadtest`: what an operator types, and what they see.

The load test runs as a real `steward` process (Locust patches the process it runs
in) against a real HTTP server on loopback that answers the predict endpoint.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from integration.test_promotions_support import build_world
from scoringstub import Behaviour, scoring_stub

from steward.app.cli import main
from steward.core.steward import Steward
from testkit import TEST_SCRYPT_N

KEY = "cli-load-test-key"


@pytest.fixture
def env(tmp_path, monkeypatch) -> dict[str, str]:
    values = {
        "STEWARD_DATA_DIR": str(tmp_path / "data"),
        "STEWARD_SCRYPT_N": str(TEST_SCRYPT_N),
        "STEWARD_SECRET_KEY": "cli-test-secret-key-long-enough-0123456789",
        "STEWARD_LOADTEST_API_KEY": KEY,
    }
    for key in [k for k in os.environ if k.startswith("STEWARD_")]:
        monkeypatch.delenv(key)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def deployed(env) -> Steward:
    """toy v2 serves in Dev with v1 armed as its fallback; people for every role."""
    steward = Steward()
    steward.upgrade_database()
    world = build_world(steward, versions=2)
    for number in (1, 2):
        steward.promotions.request(world["dana"], "toy", number, "Dev", f"v{number} to Dev")
    yield steward
    steward.close()


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def serving(steward: Steward, environment: str = "Dev") -> tuple[int, int | None]:
    [deployment] = steward.deployments.serving(environment)
    return deployment.version_number, deployment.fallback_number


def test_fail_over_and_back_then_roll_back_each_one_audited_ledger_entry(deployed):
    s = deployed
    assert serving(s) == (2, 1)
    result = run("failover", "Dev", "toy", "--reason", "v2 answers 500s", "--as", "otto")
    assert result.exit_code == 0, result.output
    assert "failed over: toy v1 now serves in Dev (replacing v2)" in result.output
    assert serving(s) == (1, 2)
    assert next(e for e in s.audit.recent(5) if e.action != "alert.open").action == "deployment.failover"

    result = run("failback", "Dev", "toy", "--reason", "v2 fixed", "--as", "otto")
    assert result.exit_code == 0, result.output
    assert "failed back: toy v2 now serves in Dev" in result.output and serving(s) == (2, 1)
    event = s.audit.recent(1)[0]
    assert event.action == "deployment.failback" and event.actor == "otto" and event.detail == "v2 fixed"

    again = run("failback", "Dev", "toy", "--reason", "twice", "--as", "otto")
    assert again.exit_code == 2 and "no primary to fail back to" in again.output

    result = run("rollback", "Dev", "toy", "--reason", "back to the baseline", "--as", "otto")
    assert result.exit_code == 0, result.output
    assert "rolled back: toy v1 now serves in Dev" in result.output and serving(s)[0] == 1
    assert [e.kind.value for e in s.deployments.ledger("Dev")][:3] == ["rollback", "failback", "failover"]

    missing = run("rollback", "Dev", "toy", "--to", "9", "--reason", "x", "--as", "otto")
    assert missing.exit_code == 2 and "toy v9 never served in Dev" in missing.output
    no_reason = run("failover", "Dev", "toy", "--reason", " ", "--as", "otto")
    assert no_reason.exit_code == 2 and "a fail-over needs a reason" in no_reason.output


def test_prod_controls_refuse_a_data_scientist_in_one_line(deployed, env):
    result = run("failover", "Prod", "toy", "--reason", "try", "--as", "dana")
    assert result.exit_code == 2
    assert result.output.strip() == "error: dana may not fail over to the fallback for toy in prod"
    assert deployed.audit.recent(1)[0].action == "permission.denied"
    result = steward_process(env, "loadtest", "Prod", "toy", "--rps", "1", "--duration", "1", "--as", "dana")
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "error: dana may not run a load test against the scoring service on toy in prod"
    )
    assert deployed.audit.recent(1)[0].action == "permission.denied"


def test_sla_set_and_show_with_clear_errors(deployed):
    result = run("sla", "set", "Dev", "toy", "--p95-ms", "50", "--p99-ms", "120", "--max-error-pct", "1")
    assert result.exit_code == 0, result.output
    assert "p95 ≤ 50 ms; p99 ≤ 120 ms; errors ≤ 1 %" in result.output
    event = deployed.audit.recent(1)[0]
    assert event.action == "sla.set" and event.before is None and event.after["p95_ms"] == 50
    shown = run("sla", "show")
    assert "Dev" in shown.output and "p95 ≤ 50 ms" in shown.output
    bad = run("sla", "set", "Dev", "toy", "--p50-ms", "100", "--p95-ms", "50")
    assert bad.exit_code == 2
    assert "the p50 target (100 ms) cannot be above the p95 target (50 ms)" in bad.output
    denied = run("sla", "set", "Dev", "toy", "--p95-ms", "10", "--as", "dana")
    assert denied.exit_code == 2 and "dana may not set service-level targets" in denied.output
    assert run("sla", "show", "Prod").output.strip() == "no SLA targets set for Prod"


def steward_process(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("STEWARD_")}
    return subprocess.run(
        [sys.executable, "-m", "steward.app.cli", *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=120,
        check=False,
    )


def test_loadtest_shows_progress_stores_the_result_and_exits_by_the_sla(deployed, env):
    run("sla", "set", "Dev", "toy", "--p95-ms", "500", "--max-error-pct", "5")
    with scoring_stub(Behaviour(version=2, api_key=KEY)) as server:
        result = steward_process(
            env, "loadtest", "Dev", "toy", "--rps", "10", "--duration", "2", "--url", server.url
        )
        assert result.returncode == 0, result.stderr
        assert "within Dev's SLA" in result.stdout and "toy v2 in Dev completed" in result.stdout
        assert "sending" in result.stderr  # the progress bar
        assert "Traceback" not in result.stderr and "Warning" not in result.stderr
        run("sla", "set", "Dev", "toy", "--p95-ms", "0.001")
        breach = steward_process(
            env, "loadtest", "Dev", "toy", "--rps", "5", "--duration", "1", "--url", server.url
        )
    assert breach.returncode == 1, breach.stderr
    assert "breaches Dev's SLA: p95 latency" in breach.stdout
    listed = run("loadtests")
    assert listed.output.count("toy v2 in Dev completed") == 2
    [latest, first] = deployed.loadtests.list()
    assert first.requests == server.seen.requests - latest.requests > 0
    assert latest.requested_by.startswith("system:cli:")


def test_loadtest_refuses_bad_input_before_sending_anything(deployed, env):
    result = steward_process(env, "loadtest", "Dev", "toy", "--rps", "0", "--duration", "1")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: the request rate must be between 1 and 2000, got 0"
    logged = steward_process(
        env, "loadtest", "Dev", "toy", "--rps", "1", "--duration", "1", "--rows", "logged"
    )
    assert logged.returncode == 2 and "no logged rows to replay" in logged.stderr
    assert deployed.loadtests.list() == []
