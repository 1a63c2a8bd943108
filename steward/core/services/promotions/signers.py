"""Whose signature counts now, and the policy's verdict.

A signature counts only when all of these hold, checked here for every caller
(the board, the evidence, an approval, the execution):

- its own audit event exists, verifies and names the same request, approver,
  roles and artifact digest (:mod:`steward.core.domain.signature_binding`):
  an approval row written with raw SQL counts for nothing;
- it was not voided: roles removed from the approver (or the approver
  deactivated) are written onto the signature when that happens
  (:mod:`~steward.core.services.promotions.voiding`), so a role given back
  later does not revive it;
- the approver still holds the role now (roles are re-read at every check);
- it is not the requester's, nor that of another account of the same person,
  and one person fills one seat at most;
- in a production environment at least two people besides the requester
  sign, whatever the stored policy says.

Everything is read together: a request with five signatures costs the same
few statements as one with none.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from steward.core.adapters.db import queries
from steward.core.adapters.db.mappers.approvals import known_roles
from steward.core.adapters.db.mappers.audit import stored_events
from steward.core.domain.audit import Keyring, StoredEvent
from steward.core.domain.permissions import APPROVERS, Tier
from steward.core.domain.policy_rules import PRODUCTION_FLOOR
from steward.core.domain.promotions import Approval, Decision, EnvironmentPolicy, PromotionRequest
from steward.core.domain.roles import Role
from steward.core.domain.signature_binding import binding_problem
from steward.core.domain.signoff import Binding, PolicyResult, Signature, evaluate_policy
from steward.core.services.roles_lookup import session_groups

EventCheck = Callable[[StoredEvent], bool]


def seal_check(db: Session) -> EventCheck:
    """Whether an audit event's seal verifies under the audit keys (the chain's own check).

    The keys come with the unit of work's session; a plain SHA-256 is not
    enough, since anyone who can write the database can compute one.
    """
    keyring: Keyring = db.info["audit_keyring"]

    def authentic(event: StoredEvent) -> bool:
        return not event.seal_problem(keyring)

    return authentic


def approver_roles_now(db: Session, usernames: Collection[str]) -> dict[str, frozenset[Role]]:
    """username -> approver roles today: none once deactivated; SSO roles as their last sign-in mapped them.

    People missing from the answer hold none.
    """
    users = [u for u in queries.users_by_name(db, usernames).values() if u.active]
    sessions = queries.latest_sessions(db, [u.id for u in users])
    groups = {u.id: session_groups(sessions.get(u.id)) for u in users}
    mapped = queries.roles_by_group(db, {g for names in groups.values() for g in names})
    result = {}
    for user in users:
        local = known_roles(r.role for r in user.roles)
        via_groups = known_roles(role for g in groups[user.id] for role in mapped.get(g, ()))
        result[user.username] = (local | via_groups) & APPROVERS
    return result


def signers_of(requests: Collection[PromotionRequest]) -> set[str]:
    """Everyone whose approval of these requests the policy will weigh."""
    return {a.approver for r in requests for a in r.approvals if a.decision is Decision.APPROVE}


@dataclass(frozen=True)
class SignerFacts:
    """What judging signatures needs beyond the requests: roles now, who is who, the audit events."""

    roles_now: Mapping[str, frozenset[Role]]
    events: Mapping[int, StoredEvent]
    authentic: EventCheck
    persons: Mapping[str, str] = field(default_factory=dict)  # account -> person (linked accounts share)

    def person(self, username: str) -> str:
        return self.persons.get(username, username)


def signer_facts(
    db: Session, requests: Collection[PromotionRequest], authentic: EventCheck | None = None
) -> SignerFacts:
    """Load everything :func:`signoff_now` needs for these requests, in a fixed number of statements."""
    signers = signers_of(requests)
    seqs = [a.audit_seq for r in requests for a in r.approvals if a.decision is Decision.APPROVE]
    people = signers | {r.requested_by for r in requests}
    return SignerFacts(
        roles_now=approver_roles_now(db, signers),
        events=stored_events(db, seqs),
        persons=queries.persons_of(db, people),
        authentic=authentic or seal_check(db),
    )


def approval_problems(request: PromotionRequest, facts: SignerFacts) -> dict[int, str]:
    """approval id -> why it does not stand on its audit event (approvals that do are absent)."""
    owner: dict[int, int] = {}
    problems = {}
    for approval in request.approvals:
        if approval.decision is not Decision.APPROVE:
            continue
        seq = approval.audit_seq
        event = facts.events.get(seq) if seq is not None else None
        shared = owner.get(seq) if seq is not None else None
        if seq is not None:
            owner.setdefault(seq, approval.id)
        problem = binding_problem(
            approval, event, authentic=event is not None and facts.authentic(event), shared_with=shared
        )
        if problem:
            problems[approval.id] = problem
    return problems


def _signature(approval: Approval, facts: SignerFacts, problem: str) -> Signature:
    held_now = facts.roles_now.get(approval.approver, frozenset())
    void = approval.void_reason or (f"not counted: {problem}" if problem else "")
    return Signature(
        approval.approver,
        approval.standing_roles & held_now,
        approval.decided_at,
        Binding(approval.version_id, approval.artifact_sha256, approval.environment_id),
        person=facts.person(approval.approver),
        void=void,
    )


def signoff_now(
    request: PromotionRequest, policy: EnvironmentPolicy, facts: SignerFacts, now: datetime
) -> PolicyResult:
    """Does the request have the sign-offs its environment's policy asks for, at ``now``?"""
    problems = approval_problems(request, facts)
    signatures = [
        _signature(a, facts, problems.get(a.id, ""))
        for a in request.approvals
        if a.decision is Decision.APPROVE
    ]
    return evaluate_policy(
        policy.signoff,
        request.requested_by,
        signatures,
        now,
        subject=Binding(request.version_id, request.artifact_sha256, request.environment_id),
        requester_person=facts.person(request.requested_by),
        min_people=PRODUCTION_FLOOR if request.tier is Tier.PROD else 0,
    )
