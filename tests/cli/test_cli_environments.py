"""`steward environments`: list, add and rename in process, refusals in one line, acting as a user."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from steward.app.cli import main
from steward.core.steward import Steward
from testkit import TEST_SCRYPT_N

PASSWORD = "a-long-enough-password\n"


@pytest.fixture
def env(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("STEWARD_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("STEWARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STEWARD_SCRYPT_N", str(TEST_SCRYPT_N))
    assert run("db", "upgrade").exit_code == 0


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def one_line_error(result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def listed_names() -> list[str]:
    return [line.split()[1] for line in run("environments", "list").stdout.splitlines()]


def test_help_lists_environments():
    assert "  environments " in run("--help").output
    sub = run("environments", "--help").output
    assert all(f"  {command} " in sub for command in ("list", "add", "rename"))


def test_list_add_and_rename(env):
    listing = run("environments", "list")
    assert listing.exit_code == 0 and listed_names() == ["Dev", "Test", "Prod"]
    assert "prod " in listing.stdout.splitlines()[2]

    added = run("environments", "add", "Staging", "--tier", "test", "--after", "Test")
    assert added.exit_code == 0 and added.stdout == "added Staging (test tier) after Test\n"
    renamed = run("environments", "rename", "Staging", "Pre-prod")
    assert renamed.exit_code == 0 and renamed.stdout == "renamed Staging to Pre-prod (test tier)\n"
    assert listed_names() == ["Dev", "Test", "Pre-prod", "Prod"]

    steward = Steward.open()
    try:
        event = steward.audit.recent(1)[0]
        assert event.action == "environment.rename" and event.actor.startswith("system:cli:")
        assert (event.before["name"], event.after["name"]) == ("Staging", "Pre-prod")
    finally:
        steward.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rename", "Test", "Prod"], "environment 'Prod' already exists"),
        (["rename", "Test", "<b>QA</b>"], "environment name must not contain markup characters"),
        (["rename", "Test", "../QA"], "environment name must not contain path separators"),
        (["rename", "Nowhere", "QA"], "no environment named 'Nowhere'"),
        (["add", "Staging", "--tier", "gold", "--after", "Test"], "unknown tier 'gold'"),
        (["add", "Staging", "--tier", "test", "--after", "Nowhere"], "no environment named 'Nowhere'"),
        (["add", "Stage/1", "--tier", "test", "--after", "Test"], "path separators"),
    ],
)
def test_refusals_are_one_line_and_change_nothing(env, args, message):
    one_line_error(run("environments", *args), message)
    assert listed_names() == ["Dev", "Test", "Prod"]


def test_acting_as_a_user_applies_their_roles(env):
    for name, role in (("vera", "viewer"), ("ada", "admin")):
        created = run("users", "add", name, "--role", role, "--password-stdin", input=PASSWORD)
        assert created.exit_code == 0, created.output
    one_line_error(
        run("environments", "rename", "Test", "QA", "--as", "vera"),
        "vera may not change environments and sign-off policies",
    )
    assert listed_names() == ["Dev", "Test", "Prod"]
    assert run("environments", "rename", "Test", "QA", "--as", "ada").exit_code == 0
    assert listed_names() == ["Dev", "QA", "Prod"]
    steward = Steward.open()
    try:
        assert steward.audit.recent(1)[0].actor == "ada"
    finally:
        steward.close()
