"""Environments on SQLite and PostgreSQL: adding and renaming, refusals, and what follows a rename."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_promotions_support import train_versions

from steward.core.domain.accounts import Actor
from steward.core.domain.gates import GatePolicy
from steward.core.domain.permissions import Action, is_allowed
from steward.core.domain.roles import Role
from steward.core.domain.signoff import SignoffPolicy
from steward.core.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from steward.core.steward import Steward
from testkit import add_user, sign_in

SYSTEM = Actor.system_actor("env-tests")


def names(steward: Steward) -> list[str]:
    return [environment.name for environment in steward.environments.list()]


def rename_events(steward: Steward) -> list[object]:
    return [event for event in steward.audit.recent(50) if event.action == "environment.rename"]


@pytest.fixture
def ada(steward: Steward) -> Actor:
    add_user(steward, "ada", "admin")
    return sign_in(steward, "ada")


def test_rename_keeps_id_tier_and_order_and_the_audit_event_names_it_by_id_and_both_names(steward, ada):
    test = steward.environments.get("Test")
    renamed = steward.environments.rename(ada, "Test", "  QA  ")
    assert (renamed.id, renamed.name, renamed.tier, renamed.position) == (
        test.id,
        "QA",
        test.tier,
        test.position,
    )
    assert names(steward) == ["Dev", "QA", "Prod"]
    with pytest.raises(NotFound, match="no environment named 'Test'"):
        steward.environments.get("Test")
    event = steward.audit.recent(1)[0]
    assert (event.action, event.actor, event.object_type, event.object_id) == (
        "environment.rename",
        "ada",
        "environment",
        "Test",
    )
    assert event.before == {"id": test.id, "name": "Test"}
    assert event.after == {"id": test.id, "name": "QA"}
    assert f"#{test.id}" in event.detail and "Test" in event.detail and "QA" in event.detail
    assert steward.audit.verify().ok


@pytest.mark.parametrize(
    ("new_name", "error", "message"),
    [
        ("Prod", AlreadyExists, "environment 'Prod' already exists"),
        (
            "prod",
            AlreadyExists,
            "environment 'Prod' already exists",
        ),  # differs only in case: same to a reader
        ("Test", InvalidInput, "already has that name"),
        ("<b>QA</b>", InvalidInput, "environment name must not contain markup characters"),
        ('QA"onmouseover', InvalidInput, "markup characters"),
        ("../QA", InvalidInput, "environment name must not contain path separators"),
        ("QA/1", InvalidInput, "path separators"),
        ("QA\\1", InvalidInput, "path separators"),
        ("\u202eAQ", InvalidInput, "control or invisible characters"),
        ("Q\x00A", InvalidInput, "control or invisible characters"),
        ("..", InvalidInput, "must not be '..'"),
        ("   ", InvalidInput, "must not be empty"),
        ("Q" * 65, InvalidInput, "the limit is 64"),
    ],
)
def test_a_clash_or_a_bad_name_is_refused_and_nothing_changes(steward, ada, new_name, error, message):
    before = names(steward)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        steward.environments.rename(ada, "Test", new_name)
    assert names(steward) == before and rename_events(steward) == []


def test_renaming_an_unknown_environment_is_not_found(steward, ada):
    with pytest.raises(NotFound, match="no environment named 'Staging'"):
        steward.environments.rename(ada, "Staging", "Pre-prod")


def test_a_bad_name_is_refused_when_adding_too(steward, ada):
    with pytest.raises(InvalidInput, match="markup characters"):
        steward.environments.add(ada, "<i>Staging</i>", "test", after="Test")
    with pytest.raises(AlreadyExists, match="'Test' already exists"):
        steward.environments.add(ada, "TEST", "test", after="Test")
    added = steward.environments.add(ada, "Staging", "test", after="Test")
    assert names(steward) == ["Dev", "Test", "Staging", "Prod"]
    assert steward.audit.recent(1)[0].after == {
        "id": added.id,
        "name": "Staging",
        "tier": "test",
        "position": added.position,
    }


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_only_the_roles_the_matrix_allows_may_rename(steward, role):
    add_user(steward, "someone", role.value)
    someone = sign_in(steward, "someone")
    allowed = is_allowed({role}, Action.MANAGE_POLICIES)
    if allowed:
        assert steward.environments.rename(someone, "Test", "QA").name == "QA"
        assert rename_events(steward)[0].actor == "someone"
        return
    with pytest.raises(PermissionDenied, match="may not change environments"):
        steward.environments.rename(someone, "Test", "QA")
    event = steward.audit.recent(1)[0]
    assert (event.action, event.actor, event.object_id) == ("permission.denied", "someone", "Test")
    assert names(steward) == ["Dev", "Test", "Prod"] and rename_events(steward) == []


def test_a_signed_out_admin_can_no_longer_rename(steward):
    add_user(steward, "ada", "admin")
    grant = steward.auth.login("ada", "a-long-test-password")
    steward.auth.logout(grant.token)
    with pytest.raises(PermissionDenied):
        steward.environments.rename(grant.actor, "Test", "QA")
    assert names(steward) == ["Dev", "Test", "Prod"]


def test_what_serves_the_policy_and_the_ledger_follow_the_renamed_environment(steward, ada):
    """Pointers, policies, requests and ledger entries refer to the environment by id, not by name."""
    versions = train_versions(steward, SYSTEM, 2, name="toy-env")
    steward.promotions.set_policy(
        SYSTEM,
        "Test",
        SignoffPolicy.build({Role.DATA_SCIENTIST: 1}, approval_ttl=timedelta(hours=12)),
        GatePolicy(require_no_critical_alert=False),
    )
    steward.promotions.request(SYSTEM, "toy-env", 1, "Dev", "before the rename")  # Dev deploys itself
    request = steward.promotions.request(SYSTEM, "toy-env", 1, "Test", "before the rename")
    add_user(steward, "sam", "data_scientist")
    steward.promotions.approve(sign_in(steward, "sam"), request.id, "fine")
    steward.promotions.execute(SYSTEM, request.id)
    policy_before = steward.promotions.policy("Test")

    steward.environments.rename(ada, "Test", "QA")

    serving = steward.deployments.serving("QA")
    assert [(d.pipeline_name, d.version_number, d.environment_name) for d in serving] == [
        ("toy-env", 1, "QA")
    ]
    assert steward.deployments.serving("Test") == []
    policy = steward.promotions.policy("QA")
    assert (policy.environment_id, policy.signoff, policy.version) == (
        policy_before.environment_id,
        policy_before.signoff,
        policy_before.version,
    )
    assert [p.environment for p in steward.promotions.policies()] == ["Dev", "QA", "Prod"]
    assert {entry.environment_name for entry in steward.deployments.ledger(pipeline="toy-env")} == {
        "Dev",
        "QA",
    }
    assert steward.pipelines.list()[0].deployed == {"Dev": 1, "QA": 1}
    # The path rule still holds under the new name: Prod takes what served in QA.
    assert (
        steward.promotions.request(SYSTEM, "toy-env", 1, "Prod", "after the rename").environment_name
        == "Prod"
    )
    with pytest.raises(InvalidInput, match="never served in QA"):
        steward.promotions.request(SYSTEM, "toy-env", versions[1].number, "Prod", "never served in QA")
    with pytest.raises(NotFound):
        steward.promotions.request(SYSTEM, "toy-env", 2, "Test", "the old name is gone")
