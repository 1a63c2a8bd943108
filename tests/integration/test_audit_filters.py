"""Filtering the audit log by object and by time range, on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from steward.core.domain.accounts import Actor
from steward.core.errors import InvalidInput
from steward.core.services.audit import AuditFilter
from testkit import add_user

SYSTEM = Actor.system_actor("test")
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def history(steward, clock):
    """Users made an hour apart, then a change to one of them a day later: events at known times."""
    clock.set(T0)
    start = steward.audit.verify().chain.head_seq
    for name in ("alice", "bob", "carol"):
        add_user(steward, name, "viewer")
        clock.advance(hours=1)
    clock.set(T0 + timedelta(days=1))
    steward.users.set_roles(SYSTEM, "bob", ["viewer", "risk_officer"])
    return start


def listed(steward, **filters):
    page = steward.audit.list(SYSTEM, AuditFilter(**filters), limit=1000)
    assert page.total == len(page.events)
    return [(e.action, e.object_id) for e in reversed(page.events)]


def test_by_object_type_and_id(steward, history):
    assert listed(steward, object_type="user", object_id="bob") == [
        ("user.create", "bob"),
        ("user.roles", "bob"),
    ]
    assert listed(steward, object_id="alice") == [("user.create", "alice")]
    assert [o for _, o in listed(steward, object_type="user")] == ["alice", "bob", "carol", "bob"]
    assert listed(steward, object_type="pipeline", object_id="bob") == []


def test_object_id_is_matched_exactly_not_as_a_pattern(steward, history):
    add_user(steward, "b_b", "viewer")
    assert listed(steward, object_id="b_b") == [("user.create", "b_b")]
    assert listed(steward, object_id="b%") == []
    assert listed(steward, object_id="bo") == []


def test_time_range_includes_its_start_and_excludes_its_end(steward, history):
    hour = timedelta(hours=1)
    assert listed(steward, object_type="user", since=T0 + hour, until=T0 + 2 * hour) == [
        ("user.create", "bob")
    ]
    assert listed(steward, object_type="user", since=T0 + hour) == [
        ("user.create", "bob"),
        ("user.create", "carol"),
        ("user.roles", "bob"),
    ]
    assert listed(steward, object_type="user", until=T0 + hour) == [("user.create", "alice")]
    just_after = T0 + timedelta(microseconds=1)
    assert listed(steward, object_type="user", since=just_after, until=T0 + hour) == []


def test_a_range_given_in_another_time_zone_means_the_same_instants(steward, history):
    plus_two = timezone(timedelta(hours=2))
    since = (T0 + timedelta(hours=1)).astimezone(plus_two)
    until = (T0 + timedelta(hours=3)).astimezone(plus_two)
    assert listed(steward, object_type="user", since=since, until=until) == [
        ("user.create", "bob"),
        ("user.create", "carol"),
    ]


def test_a_whole_day_and_an_object_together(steward, history):
    day = datetime(2026, 11, 27, tzinfo=UTC)
    assert listed(steward, object_id="bob", since=day, until=day + timedelta(days=1)) == [
        ("user.roles", "bob")
    ]


def test_export_follows_the_same_range(steward, history):
    data = steward.audit.export(
        SYSTEM, AuditFilter(object_type="user", since=T0, until=T0 + timedelta(hours=2)), fmt="csv"
    ).decode("utf-8-sig")
    rows = [line for line in data.splitlines()[1:] if line]
    assert len(rows) == 2 and "alice" in rows[0] and "bob" in rows[1]


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"since": datetime(2026, 11, 26, 9, 0)}, "since"),
        ({"until": datetime(2026, 11, 26, 9, 0)}, "until"),
        ({"since": T0 + timedelta(hours=1), "until": T0}, "until"),
    ],
)
def test_a_range_that_cannot_mean_anything_is_refused_naming_the_field(steward, history, filters, field):
    with pytest.raises(InvalidInput, match=field):
        steward.audit.list(SYSTEM, AuditFilter(**filters))


def test_text_search_is_literal_and_ignores_case_on_both_databases(steward, history):
    assert listed(steward, text="ALIC") == [("user.create", "alice")]
    assert listed(steward, text="%") == []
    assert listed(steward, text="_") == []
