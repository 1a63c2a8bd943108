"""`steward audit rekey` and `verify` with the keyed chain, as a user runs them."""

import json
import sqlite3
from pathlib import Path

from test_cli import env, run, run_process  # noqa: F401 - the fixture is used by name

from steward.core.domain.audit import compute_hash


def test_rekey_rotates_the_key_and_verify_names_an_unkeyed_append_with_the_key_it_expected(env):  # noqa: F811
    run("db", "upgrade")
    run("users", "add", "alice", "--role", "admin", "--password-stdin", input="a-long-enough-password\n")
    key_file = Path(env["STEWARD_DATA_DIR"]) / "audit-keys.json"
    first = json.loads(key_file.read_text())["active"]
    result = run_process(env, "audit", "rekey")
    assert result.returncode == 0, result.stderr
    keyring = json.loads(key_file.read_text())
    assert keyring["active"] != first and set(keyring["keys"]) == {first, keyring["active"]}
    assert f"sealed with key {keyring['active']!r}" in result.stdout
    assert run_process(env, "audit", "verify").returncode == 0

    database = Path(env["STEWARD_DATA_DIR"]) / "steward.db"
    with sqlite3.connect(database) as connection:
        connection.row_factory = sqlite3.Row
        last = dict(connection.execute("SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone())
        forged = dict(last, seq=last["seq"] + 1, event_id="f" * 32, detail="granted", prev_hash=last["hash"])
        from datetime import UTC, datetime

        fields = {k: forged[k] for k in forged if k not in ("hash", "key_id")}
        fields["occurred_at"] = datetime.fromisoformat(fields["occurred_at"]).replace(tzinfo=UTC)
        forged["hash"] = compute_hash(**fields)
        columns = ", ".join(forged)
        connection.execute(
            f"INSERT INTO audit_events ({columns}) VALUES ({', '.join('?' * len(forged))})",
            list(forged.values()),
        )
        connection.execute("UPDATE audit_head SET seq = ?, hash = ?", (forged["seq"], forged["hash"]))
    broken = run_process(env, "audit", "verify")
    assert broken.returncode == 1
    assert f"BROKEN at event #{forged['seq']}" in broken.stdout
    assert f"expected a seal under audit key {keyring['active']!r}" in broken.stdout
