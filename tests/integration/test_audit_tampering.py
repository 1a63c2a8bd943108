"""Raw-SQL tampering with the audit log is caught, naming the first bad event."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from steward.core.domain.audit import compute_hash
from testkit import add_user, sign_in

HASHED = (
    "seq",
    "event_id",
    "occurred_at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "before_json",
    "after_json",
    "detail",
    "source",
    "prev_hash",
)


def as_datetime(value):
    """Raw SQL on SQLite returns timestamps as text; the chain hashes the UTC instant."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def forge_hash(fields, keyring=None):
    """The seal a forger computes: unkeyed (all a database writer can do) or, with a stolen key, keyed."""
    values = {key: as_datetime(fields[key]) if key == "occurred_at" else fields[key] for key in HASHED}
    if keyring is None:
        return compute_hash(**values)
    return compute_hash(**values, key=keyring.keys[fields["key_id"]], key_id=fields["key_id"])


def seed_events(steward, count=6):
    """At least ``count`` events beyond whatever bootstrap wrote; tampering targets seq 4..7."""
    before = steward.audit.verify().chain.head_seq
    for index in range(count):
        add_user(steward, f"user{index}", "viewer")
    result = steward.audit.verify()
    assert result.chain.ok and result.chain.head_seq == before + count and result.chain.head_seq >= 8
    return result.chain.head_seq


def run_sql(steward, statement, **params):
    with steward.engines.write.begin() as connection:
        connection.execute(text(statement), params)


def test_edited_row_is_named(steward):
    seed_events(steward)
    run_sql(steward, "UPDATE audit_events SET after_json = :v WHERE seq = 5", v='{"roles":["admin"]}')
    result = steward.audit.verify()
    assert not result.ok and result.chain.first_bad_seq == 5 and "altered" in result.chain.problem


def test_deleted_row_is_named(steward):
    seed_events(steward)
    run_sql(steward, "DELETE FROM audit_events WHERE seq = 4")
    result = steward.audit.verify()
    assert result.chain.first_bad_seq == 4 and "missing" in result.chain.problem


def test_inserted_row_is_named(steward):
    seed_events(steward)
    # Make room at 6 by shifting later rows up (highest first), then forge a plausible event there.
    with steward.engines.write.begin() as connection:
        rows = connection.execute(
            text("SELECT seq FROM audit_events WHERE seq >= 6 ORDER BY seq DESC")
        ).scalars()
        for seq in list(rows):
            connection.execute(text("UPDATE audit_events SET seq = seq + 1 WHERE seq = :s"), {"s": seq})
        prev = connection.execute(text("SELECT hash FROM audit_events WHERE seq = 5")).scalar_one()
        template = connection.execute(text("SELECT * FROM audit_events WHERE seq = 5")).mappings().one()
        forged = dict(template, seq=6, event_id="f" * 32, detail="granted admin", prev_hash=prev)
        forged["hash"] = forge_hash(forged)
        columns = ", ".join(forged)
        connection.execute(
            text(f"INSERT INTO audit_events ({columns}) VALUES ({', '.join(':' + c for c in forged)})"),
            forged,
        )
    result = steward.audit.verify()
    # The forgery links up, but its seal is not one the audit key made (the forger lacks the key).
    assert not result.ok and result.chain.first_bad_seq == 6 and "forged" in result.chain.problem


def test_reordered_rows_are_named(steward):
    seed_events(steward)
    with steward.engines.write.begin() as connection:
        connection.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = 5"))
        connection.execute(text("UPDATE audit_events SET seq = 5 WHERE seq = 6"))
        connection.execute(text("UPDATE audit_events SET seq = 6 WHERE seq = -1"))
    result = steward.audit.verify()
    assert not result.ok and result.chain.first_bad_seq == 5


def test_truncation_is_caught_by_the_head_row_and_by_the_checkpoint(steward, system):
    head = seed_events(steward)
    point, path = steward.audit.checkpoint(system)
    assert point.seq == head and path.is_file()
    run_sql(steward, "DELETE FROM audit_events WHERE seq > :s", s=head - 3)
    result = steward.audit.verify()
    assert result.chain.ok  # what is left still links up...
    assert "events removed from the end" in result.head_problem
    assert (
        f"recorded event #{point.seq}" in result.checkpoint_problem
        and "truncated" in result.checkpoint_problem
    )
    # ...and fixing the head row too does not help against the checkpoint
    run_sql(
        steward,
        "UPDATE audit_head SET seq = :s, hash = (SELECT hash FROM audit_events WHERE seq = :s)",
        s=head - 3,
    )
    result = steward.audit.verify()
    assert not result.head_problem and "truncated" in result.checkpoint_problem and not result.ok


def test_a_recomputed_chain_is_caught_by_the_checkpoint(steward, system):
    """Even with the audit key stolen, re-chaining history does not match what was signed before."""
    from steward.core.adapters.audit_keys import keyring_for

    keyring = keyring_for(steward.settings)
    seed_events(steward)
    steward.audit.checkpoint(system)
    with steward.engines.write.begin() as connection:
        rows = connection.execute(text("SELECT * FROM audit_events ORDER BY seq")).mappings().all()
        prev = "0" * 64
        for row in rows:
            fields = dict(row)
            if fields["seq"] == 4:
                fields["detail"] = "history rewritten"
            fields["prev_hash"] = prev
            prev = forge_hash(fields, keyring)
            connection.execute(
                text("UPDATE audit_events SET detail = :d, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"d": fields["detail"], "p": fields["prev_hash"], "h": prev, "s": fields["seq"]},
            )
        connection.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    result = steward.audit.verify()
    assert result.chain.ok and not result.head_problem  # internally consistent...
    assert "rewritten" in result.checkpoint_problem and not result.ok  # ...but not what was signed


def test_a_forged_checkpoint_is_rejected(steward, system, tmp_path):
    from steward.core.domain.checkpoint import Checkpoint

    seed_events(steward)
    _, path = steward.audit.checkpoint(system)
    data = json.loads(path.read_text())
    forged = Checkpoint(data["seq"], "0" * 64, Checkpoint.from_json(path.read_text()).created_at).signed(
        b"wrong"
    )
    result = steward.audit.verify(forged)
    assert "signature is not valid" in result.checkpoint_problem


def test_export_is_audited_filtered_and_safe(steward):
    add_user(steward, "rick", "risk_officer")
    rick = sign_in(steward, "rick")
    from steward.core.services.audit import AuditFilter

    with pytest.raises(Exception, match="incorrect"):
        steward.auth.login("=cmd|' /C calc'!A0", "wrong-password-here")
    data = steward.audit.export(rick, AuditFilter(action="auth."), fmt="csv").decode("utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in data and "user.create" not in data
    records = json.loads(steward.audit.export(rick, AuditFilter(actor="rick"), fmt="json"))
    assert [r["action"] for r in records] == ["auth.login", "audit.export"]  # the CSV export was audited
    assert steward.audit.recent(1)[0].action == "audit.export"
