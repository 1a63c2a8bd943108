"""The permission matrix: the one table that says who may do what, where.

Services enforce it, the Admin page shows it and ``docs/permissions.md`` is
rendered from it, so the three can never disagree. Environment-scoped actions
are keyed by the environment's *tier*: renaming or adding environments (a
Staging in the test tier) does not reopen the question of who may act there.
Production actions are limited to operators and admins. An action joins the
table with the service that enforces it, so no row promises a check nobody
makes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from steward.core.domain.roles import Role


class Tier(StrEnum):
    """How close to real customers an environment is."""

    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class Action(StrEnum):
    # Pages
    VIEW_OVERVIEW = "view.overview"
    VIEW_PIPELINES = "view.pipelines"
    VIEW_DEPLOYMENTS = "view.deployments"
    VIEW_APPROVALS = "view.approvals"
    VIEW_DRIFT = "view.drift"
    VIEW_SERVICE_HEALTH = "view.service_health"
    VIEW_INFRASTRUCTURE = "view.infrastructure"
    VIEW_ALERTS = "view.alerts"
    VIEW_AUDIT = "view.audit"
    VIEW_ADMIN = "view.admin"
    # Registry
    REGISTER_PIPELINE = "pipeline.register"
    TRAIN_PIPELINE = "pipeline.train"
    # Promotions and deployments (environment-scoped)
    REQUEST_PROMOTION = "promotion.request"
    APPROVE_PROMOTION = "promotion.approve"
    EXECUTE_PROMOTION = "promotion.execute"
    ROLLBACK = "deployment.rollback"
    FAILOVER = "deployment.failover"
    LOAD_TEST = "deployment.load_test"
    RETRAIN = "pipeline.retrain"
    RUN_BATCH = "batch.run"
    # Operations and governance
    MANAGE_ALERTS = "alert.manage"
    MANAGE_NOTIFICATIONS = "notifications.manage"
    MANAGE_MONITORS = "monitor.manage"
    MANAGE_SLA = "sla.manage"
    EXPORT_AUDIT = "audit.export"
    CHECKPOINT_AUDIT = "audit.checkpoint"
    MANAGE_USERS = "users.manage"
    MANAGE_SSO = "sso.manage"
    MANAGE_POLICIES = "policy.manage"
    MANAGE_API_KEYS = "api_keys.manage"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def scoped(self) -> bool:
        """True when the answer depends on the environment."""
        return self in _SCOPED


_LABELS: dict[Action, str] = {
    Action.VIEW_OVERVIEW: "See the overview",
    Action.VIEW_PIPELINES: "See pipelines and model cards",
    Action.VIEW_DEPLOYMENTS: "See deployments and the ledger",
    Action.VIEW_APPROVALS: "See promotion requests",
    Action.VIEW_DRIFT: "See drift and data quality",
    Action.VIEW_SERVICE_HEALTH: "See service health",
    Action.VIEW_INFRASTRUCTURE: "See infrastructure",
    Action.VIEW_ALERTS: "See alerts",
    Action.VIEW_AUDIT: "Read the audit log",
    Action.VIEW_ADMIN: "Open the admin page",
    Action.REGISTER_PIPELINE: "Register a pipeline",
    Action.TRAIN_PIPELINE: "Train a pipeline version",
    Action.REQUEST_PROMOTION: "Request a promotion",
    Action.APPROVE_PROMOTION: "Approve or reject a promotion",
    Action.EXECUTE_PROMOTION: "Deploy (execute a promotion)",
    Action.ROLLBACK: "Roll back",
    Action.FAILOVER: "Fail over to the fallback",
    Action.LOAD_TEST: "Run a load test against the scoring service",
    Action.RETRAIN: "Retrain on production data",
    Action.RUN_BATCH: "Run a batch pipeline on production data",
    Action.MANAGE_ALERTS: "Acknowledge and resolve alerts",
    Action.MANAGE_NOTIFICATIONS: "Configure notification channels (webhooks, e-mail)",
    Action.MANAGE_MONITORS: "Set up drift and data-quality monitors",
    Action.MANAGE_SLA: "Set service-level targets",
    Action.EXPORT_AUDIT: "Export the audit log",
    Action.CHECKPOINT_AUDIT: "Checkpoint the audit chain",
    Action.MANAGE_USERS: "Manage users and roles",
    Action.MANAGE_SSO: "Map identity-provider groups to roles",
    Action.MANAGE_POLICIES: "Change environments and sign-off policies",
    Action.MANAGE_API_KEYS: "Create and revoke scoring API keys",
}

V, DS, BS, RO, OP, AD = (
    Role.VIEWER,
    Role.DATA_SCIENTIST,
    Role.BUSINESS_STAKEHOLDER,
    Role.RISK_OFFICER,
    Role.OPERATOR,
    Role.ADMIN,
)
EVERYONE = frozenset(Role)
APPROVERS = frozenset({DS, BS, RO})

# Actions that do not depend on an environment: one set of roles.
_GLOBAL: dict[Action, frozenset[Role]] = {
    Action.VIEW_OVERVIEW: EVERYONE,
    Action.VIEW_PIPELINES: EVERYONE,
    Action.VIEW_DEPLOYMENTS: EVERYONE,
    Action.VIEW_APPROVALS: frozenset({DS, BS, RO, OP, AD}),
    Action.VIEW_DRIFT: EVERYONE,
    Action.VIEW_SERVICE_HEALTH: EVERYONE,
    Action.VIEW_INFRASTRUCTURE: frozenset({DS, OP, AD}),
    Action.VIEW_ALERTS: frozenset({DS, RO, OP, AD}),
    Action.VIEW_AUDIT: frozenset({RO, OP, AD}),
    Action.VIEW_ADMIN: frozenset({AD}),
    Action.REGISTER_PIPELINE: frozenset({DS, AD}),
    Action.TRAIN_PIPELINE: frozenset({DS, AD}),
    Action.MANAGE_ALERTS: frozenset({OP, AD}),
    Action.MANAGE_NOTIFICATIONS: frozenset({AD}),
    Action.MANAGE_MONITORS: frozenset({DS, OP, AD}),
    Action.MANAGE_SLA: frozenset({OP, AD}),
    Action.EXPORT_AUDIT: frozenset({RO, AD}),
    Action.CHECKPOINT_AUDIT: frozenset({AD}),
    Action.MANAGE_USERS: frozenset({AD}),
    Action.MANAGE_SSO: frozenset({AD}),
    Action.MANAGE_POLICIES: frozenset({AD}),
    Action.MANAGE_API_KEYS: frozenset({AD}),
}

# Environment-scoped actions: roles per tier. Approval by role is the *right*
# to sign; how many signatures of which roles are needed is the sign-off
# policy's business, and admins are deliberately not approvers.
_SCOPED: dict[Action, Mapping[Tier, frozenset[Role]]] = {
    Action.REQUEST_PROMOTION: {
        Tier.DEV: frozenset({DS, OP, AD}),
        Tier.TEST: frozenset({DS, OP, AD}),
        Tier.PROD: frozenset({DS, OP, AD}),
    },
    Action.APPROVE_PROMOTION: {Tier.DEV: APPROVERS, Tier.TEST: APPROVERS, Tier.PROD: APPROVERS},
    Action.EXECUTE_PROMOTION: {
        Tier.DEV: frozenset({DS, OP, AD}),
        Tier.TEST: frozenset({DS, OP, AD}),
        Tier.PROD: frozenset({OP, AD}),
    },
    Action.ROLLBACK: {
        Tier.DEV: frozenset({DS, OP, AD}),
        Tier.TEST: frozenset({DS, OP, AD}),
        Tier.PROD: frozenset({OP, AD}),
    },
    Action.FAILOVER: {
        Tier.DEV: frozenset({DS, OP, AD}),
        Tier.TEST: frozenset({DS, OP, AD}),
        Tier.PROD: frozenset({OP, AD}),
    },
    Action.LOAD_TEST: {
        Tier.DEV: frozenset({DS, OP, AD}),
        Tier.TEST: frozenset({DS, OP, AD}),
        Tier.PROD: frozenset({OP, AD}),
    },
    Action.RETRAIN: {
        Tier.DEV: frozenset({DS, OP, AD}),
        Tier.TEST: frozenset({DS, OP, AD}),
        Tier.PROD: frozenset({OP, AD}),
    },
    Action.RUN_BATCH: {
        Tier.DEV: frozenset({DS, OP, AD}),
        Tier.TEST: frozenset({DS, OP, AD}),
        Tier.PROD: frozenset({OP, AD}),
    },
}

if not set(_GLOBAL).isdisjoint(_SCOPED) or set(_GLOBAL) | set(_SCOPED) != set(Action):
    raise RuntimeError("the permission matrix must name every action exactly once")


def roles_allowed(action: Action, tier: Tier | None = None) -> frozenset[Role]:
    """The roles the matrix allows for ``action`` (in ``tier`` when the action is scoped)."""
    if action in _SCOPED:
        if tier is None:
            raise ValueError(f"{action.value} needs an environment")
        return _SCOPED[action][tier]
    return _GLOBAL[action]


def is_allowed(roles: Iterable[Role], action: Action, tier: Tier | None = None) -> bool:
    return not roles_allowed(action, tier).isdisjoint(set(roles))


@dataclass(frozen=True)
class MatrixRow:
    action: Action
    tier: Tier | None
    roles: frozenset[Role]


def matrix() -> list[MatrixRow]:
    """Every cell of the matrix, in a stable order, for pages and docs."""
    rows = [MatrixRow(action, None, roles) for action, roles in _GLOBAL.items()]
    for action, by_tier in _SCOPED.items():
        rows.extend(MatrixRow(action, tier, by_tier[tier]) for tier in Tier)
    return rows


DOCUMENT_INTRO = """\
# Permissions

Who may do what, where. This page is generated from the one table in code
(`steward/core/domain/permissions.py`) that the services enforce and the Admin page
shows: `steward permissions > docs/permissions.md`
rewrites it, and a test fails if it falls out of date.

Environment-scoped actions are decided by the environment's tier (`dev`,
`test`, `prod`), so an added Staging environment in the test tier follows the
test column. Production changes are for operators and admins only. Approval
is the *right* to sign off; how many sign-offs of which roles a promotion
needs is the environment's sign-off policy. Admins are not approvers, and
processes acting on their own (CLI, worker) may never sign off.

A refused action writes nothing but a `permission.denied` audit event.

"""


def render_document() -> str:
    """docs/permissions.md, exactly."""
    return DOCUMENT_INTRO + render_markdown()


def render_markdown() -> str:
    """The matrix as a Markdown table."""
    roles = list(Role)
    header = "| Action | Environment | " + " | ".join(role.label for role in roles) + " |"
    lines = [header, "| --- | --- | " + " | ".join(":-:" for _ in roles) + " |"]
    for row in matrix():
        cells = " | ".join("yes" if role in row.roles else "" for role in roles)
        lines.append(f"| {row.action.label} (`{row.action.value}`) | {row.tier or 'any'} | {cells} |")
    return "\n".join(lines) + "\n"
