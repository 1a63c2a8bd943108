"""`steward audit verify` on the seeded demo: intact, then one row edited by hand is named by its number."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit import DEMO_SECRET_KEY, REPO_ROOT, TEST_SCRYPT_N, seeded_demo_copy, session_root


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The demo seeded the quick way the AppTests seed theirs (no permutation importances)."""
    data_dir = tmp_path_factory.mktemp("audit-demo") / "data"
    seeded_demo_copy(data_dir, session_root(tmp_path_factory.getbasetemp()))
    env = {
        "STEWARD_DATA_DIR": str(data_dir),
        "STEWARD_SCRYPT_N": str(TEST_SCRYPT_N),
        "STEWARD_SECRET_KEY": DEMO_SECRET_KEY,
    }
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith("STEWARD_")]:
            patch.delenv(key)
        for key, value in env.items():
            patch.setenv(key, value)
        yield env


def steward_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The real `steward` command in its own process, as an auditor would run it."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("STEWARD_")}
    return subprocess.run(
        [sys.executable, "-m", "steward.app.cli", *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )


def test_verify_passes_on_the_demo_then_names_the_first_event_edited_by_hand(demo_env):
    database = Path(demo_env["STEWARD_DATA_DIR"]) / "steward.db"
    with sqlite3.connect(database) as connection:
        (head,) = connection.execute("SELECT seq FROM audit_head").fetchone()
        # A sign-off in the middle of the demo's promotion history: the kind of row someone would want changed.
        (seq, action) = connection.execute(
            "SELECT seq, action FROM audit_events WHERE action = 'promotion.approve' ORDER BY seq LIMIT 1"
        ).fetchone()
    assert 1 < seq < head

    intact = steward_cli(demo_env, "audit", "verify")
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert f"audit chain intact: {head} events" in intact.stdout

    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE audit_events SET detail = 'approved without reading' WHERE seq = ?", (seq,)
        )
        connection.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = ?", (seq + 2,))

    broken = steward_cli(demo_env, "audit", "verify")
    assert broken.returncode != 0
    assert f"audit chain BROKEN at event #{seq}:" in broken.stdout, broken.stdout
    assert action in broken.stdout
    assert f"#{seq + 2}" not in broken.stdout  # the first bad event is named, not a later one
    assert "Traceback" not in broken.stderr
