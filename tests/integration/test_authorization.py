"""Every cell of the permission matrix, called on the services directly, for each role.

An action whose service has not been built yet is listed in PENDING; the
coverage test fails when an action is neither called here nor pending.
"""

from collections.abc import Callable

import pytest
from sqlalchemy import text
from test_promotions_support import authz_targets

from steward.core.domain.accounts import Actor
from steward.core.domain.loadtest import LoadPlan
from steward.core.domain.permissions import Action, Tier, is_allowed
from steward.core.domain.roles import Role
from steward.core.domain.sla import SlaTargets
from steward.core.errors import PermissionDenied, StewardError
from steward.core.services.audit import AuditFilter
from steward.core.steward import Steward
from testkit import add_user, sign_in

Call = Callable[[Steward, Actor, Tier | None], object]

CALLS: dict[Action, Call] = {
    Action.MANAGE_USERS: lambda s, a, t: s.users.list(a),
    Action.MANAGE_API_KEYS: lambda s, a, t: s.api_keys.create(a, f"key-{a.username}", ["Dev"]),
    Action.MANAGE_NOTIFICATIONS: lambda s, a, t: s.notifications.add_channel(
        a, f"hook-{a.username}", "webhook", "https://hooks.example.com/steward", secret="s" * 32
    ),
    Action.MANAGE_SSO: lambda s, a, t: s.group_mappings.list(a),
    Action.VIEW_AUDIT: lambda s, a, t: s.audit.list(a),
    Action.EXPORT_AUDIT: lambda s, a, t: s.audit.export(a, AuditFilter(action="none."), fmt="json"),
    Action.CHECKPOINT_AUDIT: lambda s, a, t: s.audit.checkpoint(a),
    Action.MANAGE_POLICIES: lambda s, a, t: s.environments.add(
        a, f"Stage-{a.username}", "test", after="Test"
    ),
    Action.TRAIN_PIPELINE: lambda s, a, t: s.pipelines.train(a, "no-such-pipeline"),
    Action.REGISTER_PIPELINE: lambda s, a, t: s.datasets.register(
        a, f"d-{a.username}", "missing.csv", role="training"
    ),
    Action.REQUEST_PROMOTION: lambda s, a, t: s.promotions.request(
        a, "toy-authz", 2, authz_targets(s)[t].environment, "matrix check"
    ),
    Action.APPROVE_PROMOTION: lambda s, a, t: s.promotions.approve(
        a, authz_targets(s)[t].pending_request, "matrix check"
    ),
    Action.EXECUTE_PROMOTION: lambda s, a, t: s.promotions.execute(a, authz_targets(s)[t].pending_request),
    Action.ROLLBACK: lambda s, a, t: s.deployments.rollback(
        a, authz_targets(s)[t].past_entry, "matrix check"
    ),
    Action.FAILOVER: lambda s, a, t: s.deployments.failover(
        a, authz_targets(s)[t].environment, "toy-authz", "matrix check"
    ),
    Action.LOAD_TEST: lambda s, a, t: s.loadtests.request(
        a, authz_targets(s)[t].environment, "toy-authz", LoadPlan(1, 1), target_url="http://127.0.0.1:9"
    ),
    Action.MANAGE_SLA: lambda s, a, t: (
        authz_targets(s) and s.sla.set(a, "Dev", "toy-authz", SlaTargets(p95_ms=100))
    ),
    Action.MANAGE_MONITORS: lambda s, a, t: s.monitoring.add_monitor(
        a, pipeline="no-such-pipeline", environment="Dev", dataset="authz/data", window="rows:10"
    ),
    Action.RUN_BATCH: lambda s, a, t: s.monitoring.run(a, batch_monitor(s, t)),
    Action.MANAGE_ALERTS: lambda s, a, t: s.alerts.resolve(a, 10**9, "matrix check"),
    Action.RETRAIN: lambda s, a, t: s.pipelines.retrain(
        a, "toy-authz", environment=authz_targets(s)[t].environment, dataset="no-such-dataset"
    ),
}


def batch_monitor(steward: Steward, tier: Tier | None) -> int:
    """A monitor in the tier's environment (built once per Steward); the run may fail, the check comes first."""
    assert tier is not None
    monitors = steward.__dict__.setdefault("_authz_monitors", {})
    if tier not in monitors:
        system = Actor.system_actor("authz-setup")
        environment = authz_targets(steward)[tier].environment
        if "authz/data" not in {d.name for d in steward.datasets.list()}:
            path = steward.datasets.resolve("authz/data.csv")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x\n" + "\n".join(str(i) for i in range(20)) + "\n")
            steward.datasets.register(system, "authz/data", "authz/data.csv", role="production")
        monitors[tier] = steward.monitoring.add_monitor(
            system, pipeline="toy-authz", environment=environment, dataset="authz/data", window="rows:10"
        ).id
    return int(monitors[tier])


# Page visibility is enforced by the navigation and page guards (tests/app).
PENDING = {
    action for action in Action if action.value.startswith("view.") and action is not Action.VIEW_AUDIT
}

CELLS = [
    (action, tier, role)
    for action in CALLS
    for tier in ([*Tier] if action.scoped else [None])
    for role in Role
]


def test_every_action_is_covered_or_pending():
    assert set(CALLS) | PENDING == set(Action)
    assert not set(CALLS) & PENDING


def test_every_matrix_cell_on_the_services(steward):
    """One actor per role calls each service; the outcome must be exactly what the table says."""
    people = {}
    for role in Role:
        add_user(steward, role.value.replace("_", "-"), role.value)
        people[role] = sign_in(steward, role.value.replace("_", "-"))
    mismatches = []
    for action, tier, role in CELLS:
        actor = people[role]
        expected = "allowed" if is_allowed({role}, action, tier) else "denied"
        try:
            CALLS[action](steward, actor, tier)
            outcome = "allowed"
        except PermissionDenied:
            outcome = "denied"
            event = steward.audit.recent(1)[0]
            assert event.action == "permission.denied" and event.actor == actor.username
        except StewardError:
            outcome = "allowed"  # got past the permission check to a later, input-related refusal
        if outcome != expected:
            mismatches.append(
                f"{action.value} in {tier or 'any'} for {role.value}: {outcome}, table says {expected}"
            )
    assert mismatches == []
    assert len(CELLS) >= len(CALLS) * len(Role)


def test_a_check_that_errors_denies(steward):
    add_user(steward, "admin", "admin")
    admin = sign_in(steward, "admin")
    with steward.engines.write.begin() as connection:
        connection.execute(text("ALTER TABLE user_roles RENAME TO user_roles_gone"))
    try:
        with pytest.raises(PermissionDenied):
            steward.users.list(admin)
    finally:
        with steward.engines.write.begin() as connection:
            connection.execute(text("ALTER TABLE user_roles_gone RENAME TO user_roles"))
    assert steward.audit.recent(1)[0].action == "permission.denied"


def test_a_signed_out_actor_object_can_no_longer_act(steward):
    add_user(steward, "admin", "admin")
    grant = steward.auth.login("admin", "a-long-test-password")
    steward.auth.logout(grant.token)
    with pytest.raises(PermissionDenied):
        steward.users.list(grant.actor)


def test_system_actors_cannot_sign_off(steward):
    from steward.core.services import authz

    with pytest.raises(PermissionDenied):
        authz.check(steward.ctx, Actor.system_actor("worker"), Action.APPROVE_PROMOTION, tier=Tier.PROD)
