"""The hash chain, checked without a database: every kind of tampering names the first bad event."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from steward.core.domain.audit import GENESIS_HASH, StoredEvent, compute_hash, verify_chain

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def build_chain(count: int) -> list[StoredEvent]:
    events, prev = [], GENESIS_HASH
    for seq in range(1, count + 1):
        fields = dict(
            seq=seq,
            event_id=f"e{seq:04d}",
            occurred_at=T0 + timedelta(seconds=seq),
            actor="alice",
            action="user.create",
            object_type="user",
            object_id=f"u{seq}",
            outcome="ok",
            before_json=None,
            after_json='{"roles":["viewer"]}',
            detail="",
            source="10.0.0.1",
            prev_hash=prev,
        )
        digest = compute_hash(**fields)
        events.append(StoredEvent(**fields, hash=digest))
        prev = digest
    return events


def test_intact_chain_verifies():
    report = verify_chain(build_chain(5))
    assert report.ok and report.events_checked == 5 and report.head_seq == 5
    assert "intact" in report.summary()


def test_empty_chain_is_intact():
    assert verify_chain([]).ok


def test_edited_event_is_named():
    chain = build_chain(5)
    chain[2] = replace(chain[2], after_json='{"roles":["admin"]}')
    report = verify_chain(chain)
    assert not report.ok and report.first_bad_seq == 3
    assert "altered" in report.problem


def test_deleted_event_is_named():
    chain = build_chain(5)
    del chain[1]
    report = verify_chain(chain)
    assert report.first_bad_seq == 2 and "missing" in report.problem


def test_deleted_and_renumbered_event_breaks_the_link():
    chain = build_chain(5)
    del chain[1]
    chain = [replace(event, seq=index) for index, event in enumerate(chain, start=1)]
    report = verify_chain(chain)
    assert report.first_bad_seq == 2 and "does not follow" in report.problem


def test_inserted_event_is_named():
    chain = build_chain(4)
    forged = replace(chain[1], event_id="forged", detail="made up")
    forged = replace(forged, hash=forged.recomputed_hash())
    chain = [*chain[:2], forged, *chain[2:]]
    chain = [replace(event, seq=index) for index, event in enumerate(chain, start=1)]
    report = verify_chain(chain)
    assert not report.ok and report.first_bad_seq == 3


def test_reordered_events_are_named():
    chain = build_chain(5)
    chain[1], chain[2] = replace(chain[2], seq=2), replace(chain[1], seq=3)
    report = verify_chain(chain)
    assert not report.ok and report.first_bad_seq == 2


def test_any_field_change_changes_the_hash():
    event = build_chain(1)[0]
    for field, value in [("actor", "mallory"), ("outcome", "denied"), ("source", "1.2.3.4"), ("detail", "x")]:
        assert replace(event, **{field: value}).recomputed_hash() != event.hash
