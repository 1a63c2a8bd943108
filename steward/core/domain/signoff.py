"""Sign-off policies: which roles must approve a promotion, and whether the approvals given suffice.

A policy is data an admin edits per environment (e.g. Prod: one data scientist,
one business stakeholder and one risk officer). :func:`evaluate_policy` is the
one place that decides whether a set of approvals satisfies it, as a pure
function so it can be checked against an independent oracle:

- the requester never counts, whatever roles they hold;
- an approval counts only while it is fresh (``signed_at <= now < signed_at + ttl``)
  and only for the exact artifact digest, version and environment it was given for;
- one person fills at most one required seat, even holding several roles:
  seats are assigned by a maximum bipartite matching, so a person with two
  roles is put where they are needed;
- per person, only their latest valid approval is considered, and a person
  is who signed, not which account: two accounts of one person fill one seat
  at most, and the requester's other accounts never count;
- a signature voided (its approver deactivated or a role removed, or its audit
  event missing or not matching) stays void: the reason travels with it;
- a production environment needs at least ``min_people`` distinct people
  besides the requester, whatever its stored policy says (the floor).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from steward.core.domain.permissions import APPROVERS
from steward.core.domain.roles import Role
from steward.core.errors import InvalidInput

# The order seats are listed and filled in: a stable, readable order.
APPROVER_ORDER: tuple[Role, ...] = (Role.DATA_SCIENTIST, Role.BUSINESS_STAKEHOLDER, Role.RISK_OFFICER)
MAX_PER_ROLE = 5
MAX_TTL = timedelta(days=90)
MIN_TTL = timedelta(hours=1)


def role_phrase(role: Role, count: int) -> str:
    """'1 risk officer', '2 data scientists'."""
    noun = role.label.lower()
    return f"{count} {noun}{'' if count == 1 else 's'}"


def join_phrases(parts: Sequence[str]) -> str:
    if not parts:
        return "nothing"
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


@dataclass(frozen=True)
class SignoffPolicy:
    """Who must sign before a version may serve in one environment."""

    required: tuple[tuple[Role, int], ...] = ()
    approval_ttl: timedelta = timedelta(hours=72)
    auto_execute: bool = False

    def __post_init__(self) -> None:
        seen: set[Role] = set()
        for role, count in self.required:
            if role not in APPROVERS:
                raise InvalidInput(f"{role.label} is not a role that signs off (admins and operators do not)")
            if role in seen:
                raise InvalidInput(f"{role.label} is listed twice in the policy")
            if not 1 <= count <= MAX_PER_ROLE:
                raise InvalidInput(f"{role.label}: between 1 and {MAX_PER_ROLE} sign-offs, not {count}")
            seen.add(role)
        if not MIN_TTL <= self.approval_ttl <= MAX_TTL:
            raise InvalidInput("approvals must stay valid between 1 hour and 90 days")

    @classmethod
    def build(
        cls, required: Mapping[Role, int], *, approval_ttl: timedelta, auto_execute: bool = False
    ) -> SignoffPolicy:
        """Normalise a role -> count mapping (zero counts dropped, stable order)."""
        pairs = tuple(
            (role, int(required[role])) for role in APPROVER_ORDER if int(required.get(role, 0) or 0) > 0
        )
        unknown = [role for role in required if role not in APPROVER_ORDER and required[role]]
        if unknown:
            raise InvalidInput(
                f"{unknown[0].label} is not a role that signs off (admins and operators do not)"
            )
        return cls(pairs, approval_ttl, auto_execute)

    @property
    def counts(self) -> dict[Role, int]:
        return dict(self.required)

    @property
    def seats(self) -> tuple[Role, ...]:
        """One entry per required signature, e.g. (DS, BS, RO)."""
        return tuple(role for role, count in self.required for _ in range(count))

    @property
    def needs_approval(self) -> bool:
        return bool(self.required)

    def describe(self) -> str:
        """'1 data scientist, 1 business stakeholder and 1 risk officer' or 'no sign-off'."""
        if not self.required:
            return "no sign-off"
        return join_phrases([role_phrase(role, count) for role, count in self.required])


@dataclass(frozen=True)
class Binding:
    """What an approval was given for: this artifact, of this version, in this environment."""

    version_id: str
    artifact_sha256: str
    environment_id: int


@dataclass(frozen=True)
class Signature:
    """An approval as the policy sees it. ``roles``: approver roles held when signing and still held now.

    ``person``: who signed (accounts linked to one person share it; defaults to
    the account); ``void``: why this signature no longer counts, if it does not.
    """

    approver: str
    roles: frozenset[Role]
    signed_at: datetime
    binding: Binding
    person: str = ""
    void: str = ""

    @property
    def who(self) -> str:
        return self.person or self.approver


@dataclass(frozen=True)
class PolicyResult:
    satisfied: bool
    counted: tuple[tuple[str, Role], ...]
    missing: tuple[tuple[Role, int], ...]
    ignored: tuple[tuple[str, str], ...] = ()
    holds_until: datetime | None = None
    seats: tuple[Role, ...] = field(default=(), repr=False)
    short_of_floor: int = 0  # more distinct people the production floor asks for, beyond the seats

    @property
    def missing_count(self) -> int:
        return sum(count for _, count in self.missing) + self.short_of_floor

    def describe_missing(self) -> str:
        """'1 business stakeholder and 1 risk officer' (empty when satisfied)."""
        parts = [role_phrase(role, count) for role, count in self.missing]
        if self.short_of_floor:
            more = "1 more person" if self.short_of_floor == 1 else f"{self.short_of_floor} more people"
            parts.append(f"{more} with any approver role (production needs two people besides the requester)")
        return join_phrases(parts) if parts else ""

    def missing_roles(self) -> frozenset[Role]:
        roles = frozenset(role for role, _ in self.missing)
        return roles | APPROVERS if self.short_of_floor else roles


def _why_void(
    signature: Signature, requesters: frozenset[str], subject: Binding, ttl: timedelta, now: datetime
) -> str:
    if signature.void:
        return signature.void
    if signature.approver in requesters or signature.who in requesters:
        if signature.approver in requesters:
            return "the requester cannot approve their own request"
        return "signed from another account of the requester"
    if signature.binding != subject:
        if signature.binding.artifact_sha256 != subject.artifact_sha256:
            return "given for a different artifact digest"
        return "given for a different version or environment"
    if signature.signed_at > now:
        return "dated after the time of evaluation"
    if now >= signature.signed_at + ttl:
        return "expired"
    if not signature.roles:
        return "holds none of the approver roles now"
    return ""


def _match(candidates: Sequence[tuple[str, frozenset[Role]]], seats: Sequence[Role]) -> dict[int, int]:
    """Maximum bipartite matching person -> seat (Kuhn's augmenting paths); returns seat -> person index."""
    owner: dict[int, int] = {}

    def place(person: int, visited: set[int]) -> bool:
        for seat, role in enumerate(seats):
            if role in candidates[person][1] and seat not in visited:
                visited.add(seat)
                if seat not in owner or place(owner[seat], visited):
                    owner[seat] = person
                    return True
        return False

    for person in range(len(candidates)):
        place(person, set())
    return owner


def evaluate_policy(
    policy: SignoffPolicy,
    requester: str,
    approvals: Iterable[Signature],
    now: datetime,
    *,
    subject: Binding,
    requester_person: str = "",
    min_people: int = 0,
) -> PolicyResult:
    """Does ``approvals`` satisfy ``policy`` for ``subject`` at ``now``? Names what is still missing.

    ``requester_person``: the person behind the requesting account (so their
    other accounts never count); ``min_people``: the floor of distinct people
    besides the requester (2 for production, whatever the stored policy says).
    """
    requesters = frozenset(name for name in (requester, requester_person) if name)
    ignored: list[tuple[str, str]] = []
    latest: dict[str, Signature] = {}  # person -> their latest valid signature
    for signature in sorted(approvals, key=lambda s: (s.signed_at, s.approver)):
        reason = _why_void(signature, requesters, subject, policy.approval_ttl, now)
        if reason:
            ignored.append((signature.approver, reason))
            continue
        earlier = latest.get(signature.who)
        if earlier is not None and earlier.approver != signature.approver:
            ignored.append((earlier.approver, f"the same person as {signature.approver}: one seat a person"))
        latest[signature.who] = signature  # later valid signatures replace earlier ones
    wanted = set(policy.counts)
    candidates: list[tuple[str, frozenset[Role]]] = []
    for _person, signature in sorted(latest.items(), key=lambda item: (item[1].signed_at, item[0])):
        useful = signature.roles & wanted
        if useful:
            candidates.append((signature.approver, frozenset(useful)))
        else:
            ignored.append((signature.approver, "holds no role this policy asks for"))
    seats = policy.seats
    owner = _match(candidates, seats)
    counted = tuple((candidates[owner[seat]][0], seats[seat]) for seat in sorted(owner))
    seated = {name for name, _ in counted}
    ignored.extend(
        (name, "not needed: the seats of their roles are filled")
        for name, _ in candidates
        if name not in seated
    )
    missing_by_role: dict[Role, int] = {}
    for seat, role in enumerate(seats):
        if seat not in owner:
            missing_by_role[role] = missing_by_role.get(role, 0) + 1
    missing = tuple((role, missing_by_role[role]) for role, _ in policy.required if role in missing_by_role)
    counted, short = _apply_floor(counted, missing, latest, min_people)
    seated = {name for name, _ in counted}
    floor_seated = seated - {name for name, _ in counted[: len(counted) - len(seated)]}
    ignored = [(name, why) for name, why in ignored if not (name in floor_seated and why in _UNSEATED)]
    satisfied = not missing and not short
    holds_until = None
    if satisfied and counted:
        by_account = {s.approver: s for s in latest.values()}
        holds_until = min(by_account[name].signed_at for name, _ in counted) + policy.approval_ttl
    return PolicyResult(satisfied, counted, missing, tuple(ignored), holds_until, seats, short)


_UNSEATED = frozenset(
    {"not needed: the seats of their roles are filled", "holds no role this policy asks for"}
)


def _apply_floor(
    counted: tuple[tuple[str, Role], ...],
    missing: tuple[tuple[Role, int], ...],
    latest: Mapping[str, Signature],
    min_people: int,
) -> tuple[tuple[tuple[str, Role], ...], int]:
    """Seat further valid signers until ``min_people`` distinct people count; how many are still short.

    Only matters when the stored policy asks for fewer people than the floor
    (a production policy lowered below it, e.g. by a forged row): the floor
    still holds, and anyone holding an approver role fills it.
    """
    if len(counted) >= min_people:
        return counted, 0
    seated = {name for name, _ in counted}
    extra = [
        (s.approver, min(s.roles & APPROVERS, key=APPROVER_ORDER.index))
        for s in sorted(latest.values(), key=lambda s: (s.signed_at, s.approver))
        if s.approver not in seated and s.roles & APPROVERS
    ]
    needed = min_people - len(counted)
    if missing:  # the policy's own seats come first; the floor is reported beyond them
        return counted, max(0, needed - sum(count for _, count in missing))
    counted = (*counted, *extra[:needed])
    return counted, max(0, min_people - len(counted))
