"""Finding 1 of issue 14: a database writer cannot forge audit events after the last checkpoint.

The chain's seal is an HMAC under a key kept outside the database (the key
file in the data folder here), so an event appended, or a tail rewritten and
re-chained, with the unkeyed SHA-256 everyone can compute is named by
``verify``, with the key it should have verified under. Key rotation, the
legacy cut-over (``steward audit rekey``) and the append-only checkpoint sink
are covered on both databases too.
"""

from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import text
from test_audit_tampering import forge_hash, run_sql, seed_events
from test_governance_insider import prod_request
from test_promotions_support import build_world

from steward.core.adapters.audit_keys import keyring_for
from steward.core.domain.audit import GENESIS_HASH
from steward.core.errors import InvalidInput


def rows_from(steward, first_seq: int) -> list[dict]:
    with steward.engines.read.connect() as connection:
        query = text("SELECT * FROM audit_events WHERE seq >= :s ORDER BY seq")
        return [dict(row) for row in connection.execute(query, {"s": first_seq}).mappings()]


def rechain(steward, first_seq: int, *, key_id: str | None = None, edit=None) -> None:
    """Rewrite every event from ``first_seq`` on and re-chain it with the unkeyed hash (no key needed)."""
    with steward.engines.write.begin() as connection:
        prev = connection.execute(
            text("SELECT hash FROM audit_events WHERE seq = :s"), {"s": first_seq - 1}
        ).scalar_one_or_none()
        prev = prev or GENESIS_HASH
        for fields in rows_from(steward, first_seq):
            if edit is not None:
                edit(fields)
            if key_id is not None:
                fields["key_id"] = key_id
            fields["prev_hash"] = prev
            prev = forge_hash(fields)
            connection.execute(
                text(
                    "UPDATE audit_events SET detail = :d, prev_hash = :p, hash = :h, key_id = :k WHERE seq = :s"
                ),
                {
                    "d": fields["detail"],
                    "p": fields["prev_hash"],
                    "h": prev,
                    "k": fields["key_id"],
                    "s": fields["seq"],
                },
            )
        connection.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})


def test_events_are_sealed_with_the_key_from_the_key_file(steward):
    seed_events(steward)
    keyring = keyring_for(steward.settings)
    key_file = steward.settings.resolved_audit_key_file
    assert key_file.is_file() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert keyring.active in json.loads(key_file.read_text())["keys"]
    assert {row["key_id"] for row in rows_from(steward, 1)} == {keyring.active}
    assert steward.audit.verify().ok


def test_an_event_appended_with_the_unkeyed_hash_is_named_with_the_key_it_needed(steward, system):
    head = seed_events(steward)
    steward.audit.checkpoint(system)
    head += 1
    with steward.engines.write.begin() as connection:
        template = (
            connection.execute(text("SELECT * FROM audit_events WHERE seq = :s"), {"s": head})
            .mappings()
            .one()
        )
        forged = dict(
            template, seq=head + 1, event_id="f" * 32, detail="granted admin", prev_hash=template["hash"]
        )
        forged["hash"] = forge_hash(forged)  # correctly chained, as before issue 14
        columns = ", ".join(forged)
        connection.execute(
            text(f"INSERT INTO audit_events ({columns}) VALUES ({', '.join(':' + c for c in forged)})"),
            forged,
        )
        connection.execute(
            text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": head + 1, "h": forged["hash"]}
        )
    result = steward.audit.verify()
    assert not result.ok and result.chain.first_bad_seq == head + 1
    key = keyring_for(steward.settings).active
    assert result.chain.expected_key == key and f"under key {key!r}" in result.chain.problem
    assert f"BROKEN at event #{head + 1}" in result.summary()
    assert not result.checkpoint_problem  # the checkpoint alone could not have caught this


def test_a_tail_rewritten_and_rechained_after_the_checkpoint_is_named_at_its_first_event(steward, system):
    seed_events(steward)
    point, _ = steward.audit.checkpoint(system)
    for index in range(3):
        steward.users.create(system, f"late{index}", roles=["viewer"], password="a-long-test-password")
    first = point.seq + 2

    def soften(fields: dict) -> None:
        if fields["seq"] == first:
            fields["detail"] = "nothing happened"

    rechain(steward, first, edit=soften)
    result = steward.audit.verify()
    key = keyring_for(steward.settings).active
    assert not result.ok and result.chain.first_bad_seq == first
    assert result.chain.expected_key == key and "forged" in result.chain.problem

    # Claiming the events were written before keyed sealing (no key id) does not help either.
    rechain(steward, first, key_id="", edit=soften)
    result = steward.audit.verify()
    assert result.chain.first_bad_seq == first and "no key id" in result.chain.problem
    assert result.chain.expected_key == key


def test_a_rotated_key_keeps_old_events_verifying_and_seals_new_ones(steward, system):
    seed_events(steward)
    old = keyring_for(steward.settings)
    keyring = steward.audit.rekey(system)
    assert keyring.active != old.active and set(old.keys) < set(keyring.keys)
    steward.users.create(system, "after", roles=["viewer"], password="a-long-test-password")
    ids = {row["key_id"] for row in rows_from(steward, 1)}
    assert ids == {old.active, keyring.active}
    result = steward.audit.verify()
    assert result.ok, result.summary()
    # An event claiming the old key is still checked under the old key.
    with steward.engines.write.begin() as connection:
        connection.execute(text("UPDATE audit_events SET detail = 'edited' WHERE seq = 2"))
    result = steward.audit.verify()
    assert result.chain.first_bad_seq == 2 and result.chain.expected_key == old.active


def test_a_chain_from_before_keyed_sealing_is_adopted_once_and_then_only_keyed_events_follow(steward, system):
    head = seed_events(steward)
    rechain(steward, 1, key_id="")  # what a database written before migration 0060 holds
    result = steward.audit.verify()
    assert result.chain.first_bad_seq == 1 and "no key id" in result.chain.problem

    keyring = steward.audit.rekey(system, rotate=False)
    assert keyring.legacy_until == head
    result = steward.audit.verify()
    assert result.ok, result.summary()
    assert json.loads(steward.settings.resolved_audit_key_file.read_text())["legacy_until"] == head

    # After the cut-over an unkeyed event is refused, even correctly chained.
    rechain(steward, head + 1, key_id="")
    result = steward.audit.verify()
    assert result.chain.first_bad_seq == head + 1 and f"cut-over at #{head}" in result.chain.problem


def test_rekey_refuses_a_chain_that_does_not_verify(steward, system):
    seed_events(steward)
    rechain(steward, 1, key_id="")
    run_sql(steward, "UPDATE audit_events SET detail = 'edited' WHERE seq = 3")
    with pytest.raises(InvalidInput, match="does not verify"):
        steward.audit.rekey(system)
    assert keyring_for(steward.settings).legacy_until == 0


@pytest.fixture
def sinked(tmp_path, database_url, clock):
    from steward.core.steward import Steward
    from testkit import make_settings

    instance = Steward(
        make_settings(tmp_path, database_url, audit_sink=tmp_path / "sink" / "checkpoints.jsonl"), clock=clock
    )
    instance.upgrade_database()
    yield instance
    instance.close()


def test_checkpoints_are_appended_to_the_sink_and_verify_compares_every_one(sinked, system):
    steward = sinked
    seed_events(steward)
    first, _ = steward.audit.checkpoint(system)
    steward.users.create(system, "more", roles=["viewer"], password="a-long-test-password")
    steward.audit.checkpoint(system)
    sink = steward.settings.audit_sink
    lines = sink.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["seq"] == first.seq
    result = steward.audit.verify()
    assert result.ok and "all 2 checkpoints in the append-only sink" in result.summary()

    # Someone with the key and the checkpoint folder (but not the sink) rewrites history.
    keyring = keyring_for(steward.settings)
    shutil.rmtree(steward.settings.resolved_checkpoint_dir)
    with steward.engines.write.begin() as connection:
        prev = GENESIS_HASH
        for fields in rows_from(steward, 1):
            if fields["seq"] == 3:
                fields["detail"] = "rewritten"
            fields["prev_hash"] = prev
            prev = forge_hash(fields, keyring)
            connection.execute(
                text("UPDATE audit_events SET detail = :d, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"d": fields["detail"], "p": fields["prev_hash"], "h": prev, "s": fields["seq"]},
            )
        connection.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    result = steward.audit.verify()
    assert result.chain.ok and result.checkpoint is None and not result.ok
    assert len(result.sink_problems) == 2
    assert result.sink_problems[0].startswith("line 1:") and "rewritten" in result.sink_problems[0]


def test_an_approval_event_resealed_without_the_key_does_not_count(steward):
    world = build_world(steward)
    request = prod_request(world)
    steward.promotions.approve(world["sam"], request.id)
    seq = steward.promotions.get(request.id).approvals[0].audit_seq
    with steward.engines.write.begin() as connection:  # re-seal sam's event the way anyone can
        fields = dict(
            connection.execute(text("SELECT * FROM audit_events WHERE seq = :s"), {"s": seq}).mappings().one()
        )
        connection.execute(
            text("UPDATE audit_events SET hash = :h WHERE seq = :s"), {"h": forge_hash(fields), "s": seq}
        )
    ignored = dict(steward.promotions.evidence(request.id).signoff.ignored)
    assert "sam" in ignored and "verif" in ignored["sam"]
