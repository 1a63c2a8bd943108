"""The `steward` command: every command listed, bad input answered in one line, the audit chain checkable."""

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from steward.app.cli import main
from testkit import TEST_SCRYPT_N

STEWARD = [sys.executable, "-m", "steward.app.cli"]


@pytest.fixture
def env(tmp_path, monkeypatch):
    values = {
        "STEWARD_DATA_DIR": str(tmp_path / "data"),
        "STEWARD_SCRYPT_N": str(TEST_SCRYPT_N),
        "STEWARD_SECRET_KEY": "cli-test-secret-key-long-enough-0123456789",
    }
    for key in list(os.environ):
        if key.startswith("STEWARD_"):
            monkeypatch.delenv(key)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def run(*args, input=None):
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result


def run_process(env, *args, input=None):
    """A real process, to see exactly what a user sees (no traceback on stderr)."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("STEWARD_")}
    return subprocess.run(
        [*STEWARD, *args],
        input=input,
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=60,
        check=False,
    )


def test_help_lists_the_commands():
    result = run("--help")
    for command in ("db", "users", "audit", "sso", "demo", "seed-demo", "permissions", "drift"):
        assert f"  {command} " in result.output


def test_users_add_then_duplicate_unknown_role_and_markup(env):
    assert run("db", "upgrade").exit_code == 0
    created = run(
        "users",
        "add",
        "Alice",
        "--role",
        "admin",
        "--role",
        "risk_officer",
        "--password-stdin",
        input="a-long-enough-password\n",
    )
    assert created.exit_code == 0, created.output
    assert "created alice with roles admin, risk_officer" in created.output
    for args, message in [
        (["users", "add", "alice", "--role", "viewer"], "user name 'alice' is already taken"),
        (["users", "add", "bob", "--role", "wizard"], "unknown role 'wizard'"),
        (["users", "add", "<script>", "--role", "viewer"], "markup character '<'"),
        (["users", "add", "bob\x1b[31m", "--role", "viewer"], "control or invisible character"),
    ]:
        result = run(*args, "--password-stdin", input="a-long-enough-password\n")
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: ") and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    listed = run("users", "list").output
    assert "alice" in listed and "bob" not in listed


def test_bad_database_url_is_one_line(env, monkeypatch):
    for url, message in [
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot be opened"),
        ("not a url", "not a valid SQLAlchemy URL"),
        ("oracle+nodriver://x", "driver not available"),
    ]:
        monkeypatch.setenv("STEWARD_DATABASE_URL", url)
        result = run("db", "upgrade")
        assert result.exit_code == 2 and message in result.stderr, result.output
        assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_a_real_process_answers_bad_input_with_one_line_and_no_traceback(env):
    """What a person at a terminal sees, from a real process rather than the test runner."""
    result = run_process({**env, "STEWARD_DATABASE_URL": "not a url"}, "db", "upgrade")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "error: database URL 'not a url' is not a valid SQLAlchemy URL\n"


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root can write anywhere; checked through a path under a file instead"
)
def test_unwritable_data_folder_is_one_line(env, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    result = run_process({**env, "STEWARD_DATA_DIR": str(locked / "data")}, "db", "upgrade")
    assert result.returncode == 2 and "cannot be created" in result.stderr


def test_data_folder_that_cannot_exist_is_one_line(env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_process({**env, "STEWARD_DATA_DIR": str(blocker / "data")}, "db", "upgrade")
    assert result.returncode == 2 and "data folder" in result.stderr and "cannot be created" in result.stderr
    assert "Traceback" not in result.stderr


def test_unmigrated_database_says_what_to_run(env):
    result = run_process(env, "users", "list")
    assert result.returncode == 2 and "steward db upgrade" in result.stderr


def test_audit_verify_passes_then_names_the_event_edited_by_hand(env):
    run("db", "upgrade")
    run("users", "add", "alice", "--role", "admin", "--password-stdin", input="a-long-enough-password\n")
    database = Path(env["STEWARD_DATA_DIR"]) / "steward.db"
    with sqlite3.connect(database) as connection:
        (seq,) = connection.execute("SELECT seq FROM audit_events WHERE action = 'user.create'").fetchone()
    ok = run_process(env, "audit", "verify")
    assert ok.returncode == 0 and f"audit chain intact: {seq} events" in ok.stdout
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = ?", (seq,))
    broken = run_process(env, "audit", "verify")
    assert broken.returncode == 1
    assert f"BROKEN at event #{seq}" in broken.stdout and "user.create by mallory" in broken.stdout


def test_checkpoint_then_truncation_is_detected(env):
    run("db", "upgrade")
    for name in ("a1", "a2"):
        run("users", "add", name, "--role", "viewer", "--password-stdin", input="a-long-enough-password\n")
    checkpoint = run("audit", "checkpoint")
    database = Path(env["STEWARD_DATA_DIR"]) / "steward.db"
    with sqlite3.connect(database) as connection:
        (head,) = connection.execute("SELECT seq FROM audit_head").fetchone()
    signed = head - 1  # the checkpoint signs the head, then audits itself
    assert checkpoint.exit_code == 0 and f"checkpoint #{signed} " in checkpoint.output
    with sqlite3.connect(database) as connection:
        connection.execute("DELETE FROM audit_events WHERE seq >= ?", (signed,))
        connection.execute(
            "UPDATE audit_head SET seq = ?, hash = (SELECT hash FROM audit_events WHERE seq = ?)",
            (signed - 1, signed - 1),
        )
    result = run_process(env, "audit", "verify")
    assert result.returncode == 1 and "truncated" in result.stdout


def test_audit_export_and_sso_mapping(env, tmp_path):
    run("db", "upgrade")
    assert "group 'risk-team' -> risk_officer" in run("sso", "map", "risk-team", "risk_officer").output
    assert "risk-team" in run("sso", "list").output
    out = tmp_path / "audit.csv"
    assert run("audit", "export", "--format", "csv", "-o", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8-sig")
    assert "sso.mapping.add" in text and "environment.create" in text


def test_permissions_prints_the_matrix():
    output = run("permissions").output
    assert "| Deploy (execute a promotion) (`promotion.execute`) | prod |" in output


def test_production_mode_refuses_default_secret_and_demo_passwords(env):
    run("db", "upgrade")
    for name in ("admin", "bea"):  # demo accounts still on the published demo password
        run("users", "add", name, "--role", "admin", "--password-stdin", input="steward-demo\n")
    prod = {**env, "STEWARD_PRODUCTION": "true"}
    default_secret = {k: v for k, v in prod.items() if k != "STEWARD_SECRET_KEY"}
    result = run_process(default_secret, "app")
    assert result.returncode == 2 and "STEWARD_SECRET_KEY is the default" in result.stderr
    result = run_process({**prod, "STEWARD_SCRYPT_N": str(2**17)}, "app")
    assert result.returncode == 2 and "still use the demo password" in result.stderr
    assert "admin" in result.stderr
