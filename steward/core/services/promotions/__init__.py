"""Promotions: request a version for an environment, gather the evidence, sign off, execute.

The rules, each enforced in this package and nowhere else:

- a version enters the first environment from the registry, and every later
  one only if it has served in the environment right before it (the ledger);
- the environment's sign-off policy decides (see :mod:`steward.core.domain.signoff`);
  approvals bind to the artifact digest, version and environment, and whether
  they suffice is decided afresh at execution with everyone's current roles;
- before executing (and approving) the artifact's bytes are hashed again: a
  file changed after approval blocks execution and raises the integrity alarm;
- execution is one transaction: pointer, fallback, ledger, request status and
  audit event; a race or a stale page changes nothing and says so.

One module per concept: :mod:`.policies` (who signs where), :mod:`.reading`
and :mod:`.evidence` (what reviewers see, loaded for many requests at once),
:mod:`.signers` (whose signature counts now), :mod:`.requesting`,
:mod:`.decisions` and :mod:`.execution` (the flow), :mod:`.board` (the
Approvals page in one read), :mod:`.certificates`, :mod:`.notices`.
:class:`PromotionService` is the front door callers use
(``steward.promotions``).
"""

from __future__ import annotations

import builtins

from steward.core.domain.accounts import Actor
from steward.core.domain.gates import GatePolicy
from steward.core.domain.policy_rules import PolicyChange
from steward.core.domain.promotions import (
    Approval,
    ApprovalsBoard,
    Certificate,
    Decision,
    EnvironmentPolicy,
    Evidence,
    LedgerEntry,
    PromotionRequest,
    RequestStatus,
)
from steward.core.domain.signoff import SignoffPolicy
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import DeploymentService
from steward.core.services.promotions import (
    board,
    certificates,
    decisions,
    execution,
    integrity,
    policies,
    reads,
    requesting,
)
from steward.core.services.promotions.execution import AUTO_EXECUTOR

__all__ = ["AUTO_EXECUTOR", "PromotionService"]


class PromotionService:
    """The front door: every method is one user action or one page's read."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.deployments = DeploymentService(ctx)

    # ---- policies ----------------------------------------------------------------------
    def policies(self) -> builtins.list[EnvironmentPolicy]:
        return policies.policies(self.ctx)

    def policy(self, environment: str) -> EnvironmentPolicy:
        return policies.policy(self.ctx, environment)

    def ensure_default_policies(self, actor: Actor) -> builtins.list[EnvironmentPolicy]:
        """Give every environment without a policy its tier's default (idempotent, audited)."""
        return policies.ensure_default_policies(self.ctx, actor)

    def set_policy(
        self,
        actor: Actor,
        environment: str,
        signoff: SignoffPolicy,
        gates: GatePolicy,
        *,
        expected_version: int | None = None,
        reason: str = "",
    ) -> EnvironmentPolicy | PolicyChange:
        """Change an environment's sign-off policy and gates (admins; audited with before and after).

        Pending requests are judged by the policy in force when they execute. Lowering a
        production policy returns a pending :class:`PolicyChange` that a second admin decides.
        """
        return policies.set_policy(
            self.ctx, actor, environment, signoff, gates, expected_version=expected_version, reason=reason
        )

    def policy_changes(self, *, pending_only: bool = False) -> builtins.list[PolicyChange]:
        """Proposed lowerings of production policies, newest first."""
        return policies.policy_changes(self.ctx, pending_only=pending_only)

    def approve_policy_change(self, actor: Actor, change_id: int, comment: str = "") -> PolicyChange:
        """A second admin applies a proposed lowering (never the admin who proposed it)."""
        return policies.decide_change(self.ctx, actor, change_id, approve=True, comment=comment)

    def reject_policy_change(self, actor: Actor, change_id: int, comment: str = "") -> PolicyChange:
        """Another admin rejects a proposal; its proposer withdraws it the same way."""
        return policies.decide_change(self.ctx, actor, change_id, approve=False, comment=comment)

    def signature_problems(self) -> builtins.list[str]:
        """Approvals that do not stand on their own audit event (what `steward audit verify` reports)."""
        return integrity.signature_problems(self.ctx)

    # ---- reads -------------------------------------------------------------------------
    def get(self, request_id: int) -> PromotionRequest:
        return reads.get(self.ctx, request_id)

    def list(
        self,
        *,
        status: RequestStatus | None = None,
        environment: str | None = None,
        pipeline: str | None = None,
        limit: int = 200,
    ) -> builtins.list[PromotionRequest]:
        """Newest first."""
        return reads.list_requests(
            self.ctx, status=status, environment=environment, pipeline=pipeline, limit=limit
        )

    def evidence(self, request_id: int) -> Evidence:
        """What a reviewer needs, gathered now: champion vs challenger, lineage, gates, sign-offs so far."""
        return reads.evidence(self.ctx, request_id)

    def awaiting(self, actor: Actor) -> builtins.list[Evidence]:
        """Pending requests that still need a role the actor holds and that the actor may sign."""
        return reads.awaiting(self.ctx, actor)

    def decisions_by(self, username: str) -> builtins.list[tuple[PromotionRequest, Approval]]:
        """What someone approved or rejected, newest first, with the request as it stands now."""
        return reads.decisions_by(self.ctx, username)

    def targets(self, pipeline: str, number: int) -> builtins.list[tuple[str, str]]:
        """Each environment and why this version may not be requested there ('' when it may)."""
        return reads.targets(self.ctx, pipeline, number)

    def executed_for(self, request_id: int) -> LedgerEntry | None:
        return reads.executed_for(self.ctx, request_id)

    def board(self, actor: Actor) -> ApprovalsBoard:
        """The Approvals page for ``actor`` in one read transaction (see :mod:`.board`)."""
        return board.approvals_board(self.ctx, actor)

    # ---- changes -----------------------------------------------------------------------
    def request(
        self, actor: Actor, pipeline: str, version: int, environment: str, reason: str
    ) -> PromotionRequest:
        """Ask for ``pipeline`` v``version`` to serve in ``environment``. Where the policy says so
        (Dev by default) it executes itself at once when the gates pass."""
        return requesting.request(self.ctx, actor, pipeline, version, environment, reason)

    def approve(
        self, actor: Actor, request_id: int, comment: str = "", *, expected_version: int | None = None
    ) -> PromotionRequest:
        """Sign off, bound to the request's artifact digest, version and environment."""
        return decisions.decide(self.ctx, actor, request_id, Decision.APPROVE, comment, expected_version)

    def reject(
        self, actor: Actor, request_id: int, comment: str, *, expected_version: int | None = None
    ) -> PromotionRequest:
        """Refuse, saying why: the request ends."""
        return decisions.decide(self.ctx, actor, request_id, Decision.REJECT, comment, expected_version)

    def withdraw(
        self, actor: Actor, request_id: int, comment: str = "", *, expected_version: int | None = None
    ) -> PromotionRequest:
        """The requester takes their request back."""
        return requesting.withdraw(self.ctx, actor, request_id, comment, expected_version)

    def execute(self, actor: Actor, request_id: int, *, expected_version: int | None = None) -> LedgerEntry:
        """Deploy: when the policy is satisfied and the gates pass, move the pointer (one transaction).

        ``expected_version`` is the request's version the page showed; a request
        that changed since (or that another execution got to first) raises
        StaleState and nothing changes.
        """
        return execution.execute(self.ctx, actor, request_id, expected_version)

    # ---- certificates ------------------------------------------------------------------
    def certificate(self, entry_id: int) -> Certificate:
        """Everything an executed promotion bound, with the audit events that record it."""
        return certificates.certificate(self.ctx, entry_id)

    def certificate_html(self, entry_id: int) -> str:
        return certificates.certificate_html(self.ctx, entry_id)

    def certificate_pdf(self, entry_id: int) -> bytes:
        return certificates.certificate_pdf(self.ctx, entry_id)
