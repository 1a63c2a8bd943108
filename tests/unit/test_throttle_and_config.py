"""Login slow-down policy and settings."""

from datetime import UTC, datetime, timedelta

import pytest

from steward.core.config import DEFAULT_SECRET_KEY, Settings, load_settings
from steward.core.domain.throttle import FORGET_AFTER, ThrottlePolicy, throttle_keys
from steward.core.errors import ConfigurationError

T0 = datetime(2026, 11, 26, tzinfo=UTC)


def test_free_attempts_then_doubling_delays_up_to_a_cap():
    policy = ThrottlePolicy(free_attempts=3, max_delay=timedelta(seconds=60))
    delays = [policy.delay_after(n).total_seconds() for n in range(8)]
    assert delays == [0, 0, 0, 2, 4, 8, 16, 32]
    assert policy.delay_after(20) == timedelta(seconds=60)


def test_old_failures_are_forgiven():
    policy = ThrottlePolicy()
    assert policy.effective_failures(5, T0, T0 + timedelta(minutes=5)) == 5
    assert policy.effective_failures(5, T0, T0 + FORGET_AFTER + timedelta(seconds=1)) == 0


def test_keys_cover_account_and_source():
    assert throttle_keys(" Alice ", "10.0.0.1") == ["account:alice", "source:10.0.0.1"]
    assert throttle_keys("bob", None) == ["account:bob"]


def test_settings_come_from_steward_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STEWARD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STEWARD_APP_PORT", "9999")
    monkeypatch.setenv("STEWARD_PRODUCTION", "true")
    settings = load_settings()
    assert settings.data_dir == tmp_path and settings.app_port == 9999 and settings.production
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'steward.db').resolve()}"
    assert settings.resolved_artifact_root == tmp_path / "artifacts"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("STEWARD_APP_PORT", "70000", "STEWARD_APP_PORT"),
        ("STEWARD_APP_PORT", "eighty", "STEWARD_APP_PORT"),
        ("STEWARD_SCRYPT_N", "100000", "STEWARD_SCRYPT_N"),
    ],
)
def test_bad_settings_are_one_line_errors(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=message) as raised:
        load_settings()
    assert "\n" not in str(raised.value)


def test_production_problems():
    assert any("default" in p for p in Settings(production=True).problems_for_production())
    assert any("shorter" in p for p in Settings(secret_key="short").problems_for_production())
    assert any("OWASP" in p for p in Settings(secret_key="s" * 40, scrypt_n=2**12).problems_for_production())
    assert Settings(secret_key="s" * 40).problems_for_production() == []
    assert DEFAULT_SECRET_KEY not in str(Settings())
