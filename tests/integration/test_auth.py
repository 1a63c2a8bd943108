"""Sign-in, throttling, and sessions Steward controls (idle, absolute, logout, revocation)."""

from datetime import timedelta

import pytest

from steward.core.domain.roles import Role
from steward.core.errors import AuthenticationFailed
from steward.core.services.auth import WRONG_CREDENTIALS, SessionEnded, sso_token
from steward.core.steward import Steward
from testkit import PASSWORD, add_user, make_settings


def test_unknown_user_and_wrong_password_get_the_same_answer(steward):
    add_user(steward, "alice", "viewer")
    with pytest.raises(AuthenticationFailed) as unknown:
        steward.auth.login("nobody", PASSWORD)
    with pytest.raises(AuthenticationFailed) as wrong:
        steward.auth.login("alice", "wrong-password-here")
    assert str(unknown.value) == str(wrong.value) == WRONG_CREDENTIALS
    failed = [e for e in steward.audit.recent(5) if e.action == "auth.login_failed"]
    assert {e.actor for e in failed} == {"nobody", "alice"}


def test_failed_sign_ins_slow_down_per_account(steward, clock):
    add_user(steward, "alice", "viewer")
    for _ in range(3):
        with pytest.raises(AuthenticationFailed, match="incorrect"):
            steward.auth.login("alice", "wrong-password-here", source="10.0.0.1")
    with pytest.raises(AuthenticationFailed, match="Try again in 2 seconds"):
        steward.auth.login("alice", PASSWORD, source="10.0.0.2")  # even the right password waits
    clock.advance(seconds=3)
    steward.auth.login("alice", PASSWORD, source="10.0.0.2")


def test_unknown_names_are_throttled_exactly_like_known_ones(steward):
    for name in ("alice", "ghost"):
        if name == "alice":
            add_user(steward, "alice", "viewer")
        for _ in range(3):
            with pytest.raises(AuthenticationFailed):
                steward.auth.login(name, "wrong-password-here")
    answers = []
    for name in ("alice", "ghost"):
        with pytest.raises(AuthenticationFailed) as raised:
            steward.auth.login(name, "wrong-password-here")
        answers.append(str(raised.value))
    assert answers[0] == answers[1] and "Try again" in answers[0]


def test_throttle_counters_are_shared_between_processes(steward, tmp_path, database_url, clock):
    """A second Steward on the same database (as a second app process would be) sees the same counters."""
    add_user(steward, "alice", "viewer")
    other = Steward(make_settings(tmp_path, database_url), clock=clock)
    for instance in (steward, other, steward):
        with pytest.raises(AuthenticationFailed):
            instance.auth.login("alice", "wrong-password-here", source="10.9.9.9")
    with pytest.raises(AuthenticationFailed, match="Try again"):
        other.auth.login("alice", PASSWORD)
    other.close()


def test_failures_from_one_source_slow_every_account_from_it(steward):
    """One wrong password on each of many accounts (spraying) is slowed by the source's own budget."""
    budget = steward.settings.login_source_free_attempts
    assert budget > steward.settings.login_free_attempts  # a shared address gets more room than an account
    for name in (f"a{i}" for i in range(1, budget + 1)):
        add_user(steward, name, "viewer")
        with pytest.raises(AuthenticationFailed):
            steward.auth.login(name, "wrong-password-here", source="203.0.113.7")
    with pytest.raises(AuthenticationFailed, match="Try again"):
        steward.auth.login("a1", PASSWORD, source="203.0.113.7")
    steward.auth.login("a1", PASSWORD, source="198.51.100.1")


def test_idle_sessions_end(steward, clock):
    add_user(steward, "alice", "viewer")
    grant = steward.auth.login("alice", PASSWORD)
    clock.advance(minutes=29)
    steward.auth.resume(grant.token)
    clock.advance(minutes=29)
    steward.auth.resume(grant.token)  # activity keeps it alive
    clock.advance(minutes=31)
    with pytest.raises(SessionEnded) as ended:
        steward.auth.resume(grant.token)
    assert ended.value.reason == "idle"
    assert steward.audit.recent(1)[0].action == "auth.session_ended"


def test_sessions_have_an_absolute_lifetime(steward, clock):
    add_user(steward, "alice", "viewer")
    grant = steward.auth.login("alice", PASSWORD)
    for _ in range(12 * 4):
        clock.advance(minutes=15)
        try:
            steward.auth.resume(grant.token)
        except SessionEnded as ended:
            assert ended.reason == "expired"
            break
    else:
        pytest.fail("session outlived its absolute lifetime")
    assert clock.now() - steward.audit.recent(2)[-1].occurred_at <= timedelta(hours=12)


def test_logout_revokes_and_a_copied_token_is_refused(steward):
    add_user(steward, "alice", "viewer")
    grant = steward.auth.login("alice", PASSWORD)
    copy = str(grant.token)
    steward.auth.logout(grant.token)
    with pytest.raises(SessionEnded) as ended:
        steward.auth.resume(copy)
    assert ended.value.reason == "signed_out"


def test_unknown_token_is_refused(steward):
    with pytest.raises(SessionEnded) as ended:
        steward.auth.resume("forged-token")
    assert ended.value.reason == "unknown"


def test_password_change_ends_sessions_and_weak_hashes_are_upgraded(steward, tmp_path, database_url, clock):
    add_user(steward, "alice", "viewer")
    grant = steward.auth.login("alice", PASSWORD)
    steward.users.set_password(grant.actor, "alice", "a-brand-new-password")
    with pytest.raises(SessionEnded):
        steward.auth.resume(grant.token)
    stronger = Steward(make_settings(tmp_path, database_url, scrypt_n=2**13), clock=clock)
    stronger.auth.login("alice", "a-brand-new-password")
    from sqlalchemy import select

    from steward.core.adapters.db.models import UserRow
    from steward.core.services.uow import UnitOfWork

    with UnitOfWork(stronger.ctx, write=False) as uow:
        assert uow.session.scalar(select(UserRow.password_hash)).startswith("scrypt$8192$")
    stronger.close()


CLAIMS = {
    "iss": "https://idp.test",
    "sub": "u-123",
    "iat": 1_790_000_000,
    "nonce": "n1",
    "preferred_username": "Rita.Risk",
    "name": "Rita Risk",
    "email": "rita@bank.test",
    "groups": ["risk-team", "everyone"],
}


def test_sso_groups_map_to_roles_and_users_are_provisioned(steward, system):
    steward.group_mappings.add(system, "risk-team", "risk_officer")
    actor = steward.auth.sso_sign_in(CLAIMS, source="10.0.0.5")
    assert (
        actor.username == "rita.risk" and actor.roles == {Role.RISK_OFFICER} and actor.auth_source == "oidc"
    )
    assert steward.auth.sso_sign_in(CLAIMS).session_id == actor.session_id  # same ID token, same session
    steward.group_mappings.add(system, "everyone", "viewer")
    assert steward.auth.resume(sso_token(CLAIMS)).roles == {Role.RISK_OFFICER, Role.VIEWER}


def test_sso_user_with_no_mapped_group_gets_no_role(steward):
    actor = steward.auth.sso_sign_in({**CLAIMS, "groups": ["interns"]})
    assert actor.roles == frozenset()
    assert steward.audit.recent(1)[0].action == "auth.sso_no_access"


def test_sso_cookie_replayed_after_logout_is_refused(steward, system):
    steward.group_mappings.add(system, "risk-team", "risk_officer")
    steward.auth.sso_sign_in(CLAIMS)
    steward.auth.logout(sso_token(CLAIMS))
    with pytest.raises(SessionEnded) as ended:
        steward.auth.sso_sign_in(CLAIMS)
    assert ended.value.reason == "signed_out"
    fresh = steward.auth.sso_sign_in({**CLAIMS, "iat": CLAIMS["iat"] + 60, "nonce": "n2"})
    assert fresh.roles == {Role.RISK_OFFICER}


def test_sso_subject_is_required_and_names_are_sanitised(steward):
    with pytest.raises(AuthenticationFailed, match="no subject"):
        steward.auth.sso_sign_in({"iss": "x", "iat": 1})
    actor = steward.auth.sso_sign_in({"iss": "x", "sub": "s", "iat": 1, "preferred_username": "<img src=x>"})
    assert actor.username == "imgsrcx"
