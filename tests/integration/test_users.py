"""Accounts through the service: validated, permission-checked, audited in the same transaction."""

import pytest
from sqlalchemy import func, select

from steward.core.adapters.db.models import AuditEventRow, UserRow
from steward.core.domain.accounts import Actor
from steward.core.domain.roles import Role
from steward.core.errors import AlreadyExists, InvalidInput, PermissionDenied, StaleState
from steward.core.services.auth import SessionEnded
from steward.core.services.uow import UnitOfWork
from testkit import add_user, sign_in


def counts(steward):
    with UnitOfWork(steward.ctx, write=False) as uow:
        users = uow.session.scalar(select(func.count()).select_from(UserRow))
        events = uow.session.scalar(select(func.count()).select_from(AuditEventRow))
    return users, events


def test_create_records_who_what_when_before_and_after(steward, system, clock):
    user = add_user(steward, "Alice", "admin", "risk_officer")
    assert user.username == "alice" and user.roles == {Role.ADMIN, Role.RISK_OFFICER}
    event = steward.audit.recent(1)[0]
    assert (event.actor, event.action, event.object_id) == ("system:test", "user.create", "alice")
    assert event.occurred_at == clock.now() and event.occurred_at.tzinfo is not None
    assert event.before is None and event.after["roles"] == ["admin", "risk_officer"]
    assert "password" not in str(event.after)


@pytest.mark.parametrize(
    ("name", "roles", "password", "error", "message"),
    [
        ("alice", ["admin"], "long-enough-password", AlreadyExists, "already taken"),
        ("ALICE", ["viewer"], "long-enough-password", AlreadyExists, "already taken"),
        ("bob", ["wizard"], "long-enough-password", InvalidInput, "unknown role 'wizard'"),
        ("bob", [], "long-enough-password", InvalidInput, "at least one role"),
        ("<b>bob</b>", ["viewer"], "long-enough-password", InvalidInput, "markup"),
        ("bob\x07", ["viewer"], "long-enough-password", InvalidInput, "control"),
        ("bob", ["viewer"], "short", InvalidInput, "at least 12"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(steward, name, roles, password, error, message):
    add_user(steward, "alice", "admin")
    before = counts(steward)
    with pytest.raises(error, match=message):
        steward.users.create(Actor.system_actor("test"), name, roles=roles, password=password)
    assert counts(steward) == before


def test_only_admins_manage_users_and_the_refusal_is_audited(steward):
    add_user(steward, "dana", "data_scientist")
    dana = sign_in(steward, "dana")
    _, events_before = counts(steward)
    with pytest.raises(PermissionDenied, match="dana may not manage users"):
        steward.users.create(dana, "eve", roles=["admin"], password="long-enough-password")
    users, events = counts(steward)
    assert users == 1 and events == events_before + 1
    denied = steward.audit.recent(1)[0]
    assert (
        denied.action == "permission.denied" and denied.outcome.value == "denied" and denied.actor == "dana"
    )


def test_deactivation_ends_open_sessions_in_the_same_transaction(steward):
    add_user(steward, "admin", "admin")
    add_user(steward, "otto", "operator")
    admin = sign_in(steward, "admin")
    grant = steward.auth.login("otto", "a-long-test-password")
    steward.users.set_active(admin, "otto", False)
    with pytest.raises(SessionEnded) as ended:
        steward.auth.resume(grant.token)
    assert ended.value.reason == "user_deactivated"
    event = steward.audit.recent(1)[0]
    assert event.action == "user.deactivate" and "1 open session(s) ended" in event.detail
    assert event.before["active"] is True and event.after["active"] is False


def test_role_removal_takes_effect_at_the_next_check(steward):
    add_user(steward, "admin", "admin")
    add_user(steward, "ops", "admin", "operator")
    admin = sign_in(steward, "admin")
    ops = sign_in(steward, "ops")
    steward.users.list(ops)
    steward.users.set_roles(admin, "ops", ["operator"])
    with pytest.raises(PermissionDenied):
        steward.users.list(ops)  # the stale Actor still claims admin; the service re-reads


def test_stale_edit_is_refused(steward):
    add_user(steward, "admin", "admin")
    target = add_user(steward, "vic", "viewer")
    admin = sign_in(steward, "admin")
    steward.users.set_roles(admin, "vic", ["operator"], expected_version=target.version)
    with pytest.raises(StaleState, match="changed since you loaded it"):
        steward.users.set_roles(admin, "vic", ["admin"], expected_version=target.version)
    assert steward.users.get(admin, "vic").roles == {Role.OPERATOR}


def test_last_admin_cannot_demote_themselves_or_deactivate_themselves(steward):
    add_user(steward, "admin", "admin")
    admin = sign_in(steward, "admin")
    with pytest.raises(InvalidInput, match="last active admin"):
        steward.users.set_roles(admin, "admin", ["viewer"])
    with pytest.raises(InvalidInput, match="your own account"):
        steward.users.set_active(admin, "admin", False)
