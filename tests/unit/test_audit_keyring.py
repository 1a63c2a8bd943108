"""The keyed chain without a database: only the key's holder can seal, rotation, the legacy cut-over."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from steward.core.adapters.audit_keys import keyring_for, parse_keyring, render_keyring
from steward.core.domain.audit import GENESIS_HASH, Keyring, StoredEvent, compute_hash, verify_chain
from steward.core.errors import ConfigurationError
from testkit import make_settings

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
K1, K2 = b"1" * 32, b"2" * 32


def chain(seals: list[tuple[str, bytes | None]]) -> list[StoredEvent]:
    """One event per (key id, key); a None key is a legacy unkeyed event."""
    events, prev = [], GENESIS_HASH
    for seq, (key_id, key) in enumerate(seals, start=1):
        fields = dict(
            seq=seq,
            event_id=f"e{seq}",
            occurred_at=T0 + timedelta(seconds=seq),
            actor="alice",
            action="user.create",
            object_type="user",
            object_id=f"u{seq}",
            outcome="ok",
            before_json=None,
            after_json=None,
            detail="",
            source="",
            prev_hash=prev,
        )
        digest = compute_hash(**fields, key=key, key_id=key_id if key else "")
        events.append(StoredEvent(**fields, hash=digest, key_id=key_id if key else ""))
        prev = digest
    return events


def test_a_keyed_chain_verifies_across_a_rotation():
    keyring = Keyring({"k1": K1, "k2": K2}, "k2")
    assert verify_chain(chain([("k1", K1), ("k1", K1), ("k2", K2)]), keyring).ok


def test_an_event_sealed_without_the_key_is_named_with_the_key_it_needed():
    events = chain([("k1", K1), ("k1", K1)])
    forged = replace(events[1], detail="granted admin")
    forged = replace(forged, hash=forged.recomputed_hash())  # the unkeyed hash anyone can compute
    report = verify_chain([events[0], forged], Keyring({"k1": K1}, "k1"))
    assert report.first_bad_seq == 2 and report.expected_key == "k1" and "under key 'k1'" in report.problem
    guessed = replace(forged, hash=forged.recomputed_hash(b"0" * 32))
    assert verify_chain([events[0], guessed], Keyring({"k1": K1}, "k1")).first_bad_seq == 2


def test_unkeyed_events_count_only_up_to_the_cut_over():
    events = chain([("", None), ("", None), ("k1", K1), ("", None)])
    assert verify_chain(events[:3], Keyring({"k1": K1}, "k1", legacy_until=2)).ok
    report = verify_chain(events, Keyring({"k1": K1}, "k1", legacy_until=2))
    assert report.first_bad_seq == 4 and "cut-over at #2" in report.problem
    assert verify_chain(events, Keyring({"k1": K1}, "k1")).first_bad_seq == 1


def test_an_unknown_key_id_is_named():
    report = verify_chain(chain([("k9", b"9" * 32)]), Keyring({"k1": K1}, "k1"))
    assert "'k9', which is not in the keyring (k1)" in report.problem


def test_a_keyring_round_trips_and_bad_ones_name_the_problem():
    keyring = Keyring({"k1": K1, "k2": K2}, "k2", 7)
    assert parse_keyring(render_keyring(keyring), "x") == keyring
    with pytest.raises(ConfigurationError, match="at least 16 bytes"):
        parse_keyring(json.dumps({"active": "a", "keys": {"a": "00"}}), "STEWARD_AUDIT_KEYS")
    with pytest.raises(ConfigurationError, match="in STEWARD_AUDIT_KEYS is not usable"):
        parse_keyring(json.dumps({"active": "b", "keys": {"a": "00" * 32}}), "STEWARD_AUDIT_KEYS")
    with pytest.raises(ValueError, match="not in the keyring"):
        Keyring({"k1": K1}, "k2")


def test_the_key_file_is_created_once_and_private_when_many_threads_ask_at_once(tmp_path):
    settings = make_settings(tmp_path)
    found: list[Keyring] = []
    threads = [threading.Thread(target=lambda: found.append(keyring_for(settings))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    path = settings.resolved_audit_key_file
    assert len({k.active for k in found}) == 1 and oct(path.stat().st_mode & 0o777) == "0o600"
    assert found[0].active.startswith("k-") and len(found[0].active_key) == 32


def test_keys_from_the_environment_win_over_the_file(tmp_path):
    document = render_keyring(Keyring({"env": K1}, "env"))
    settings = make_settings(tmp_path, audit_keys=document)
    assert keyring_for(settings).active == "env" and not settings.resolved_audit_key_file.exists()


def test_an_event_whose_key_id_a_downgrade_dropped_still_verifies_by_its_key():
    events = [replace(event, key_id="") for event in chain([("k1", K1), ("k2", K2)])]
    assert verify_chain(events, Keyring({"k1": K1, "k2": K2}, "k2")).ok
    assert not verify_chain(events, Keyring({"k3": b"3" * 32}, "k3")).ok
