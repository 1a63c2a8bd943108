"""The permission matrix as data: complete, and production limited to operators and admins."""

import pytest

from steward.core.domain.permissions import Action, Tier, is_allowed, matrix, render_markdown, roles_allowed
from steward.core.domain.roles import Role

PRODUCTION_CHANGES = [
    Action.EXECUTE_PROMOTION,
    Action.ROLLBACK,
    Action.FAILOVER,
    Action.RETRAIN,
    Action.RUN_BATCH,
]


def test_every_action_has_a_row_per_scope():
    rows = matrix()
    for action in Action:
        scopes = {row.tier for row in rows if row.action is action}
        assert scopes == (set(Tier) if action.scoped else {None}), action


@pytest.mark.parametrize("action", PRODUCTION_CHANGES)
def test_production_changes_are_for_operators_and_admins_only(action):
    assert roles_allowed(action, Tier.PROD) == {Role.OPERATOR, Role.ADMIN}


def test_admins_do_not_sign_off_and_viewers_change_nothing():
    for tier in Tier:
        assert Role.ADMIN not in roles_allowed(Action.APPROVE_PROMOTION, tier)
    changing = [row for row in matrix() if not row.action.value.startswith("view.")]
    assert all(Role.VIEWER not in row.roles for row in changing)


def test_scoped_action_without_environment_is_a_programming_error():
    with pytest.raises(ValueError, match="needs an environment"):
        roles_allowed(Action.EXECUTE_PROMOTION)


def test_is_allowed_uses_any_role_held():
    assert not is_allowed({Role.DATA_SCIENTIST}, Action.EXECUTE_PROMOTION, Tier.PROD)
    assert is_allowed({Role.DATA_SCIENTIST, Role.OPERATOR}, Action.EXECUTE_PROMOTION, Tier.PROD)
    assert not is_allowed(set(), Action.VIEW_OVERVIEW)


def test_markdown_rendering_names_every_action_and_role():
    text = render_markdown()
    for action in Action:
        assert f"`{action.value}`" in text
    for role in Role:
        assert role.label in text
    assert text.count("\n") == len(matrix()) + 2


def test_the_permissions_document_is_generated_from_the_matrix():
    from pathlib import Path

    from steward.core.domain.permissions import render_document

    document = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
    assert document.read_text(encoding="utf-8") == render_document(), (
        "run: steward permissions > docs/permissions.md"
    )
