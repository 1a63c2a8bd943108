"""Queries several services share, written once: environments, pointers, the ledger, requests, people.

Each takes the caller's session, so it runs inside the caller's transaction.
The plural forms (``*_many``, ``*_by_*``) load what a whole page needs in one
statement, so the number of statements a read issues does not grow with the
number of requests it shows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, ScalarSelect, func, select
from sqlalchemy.orm import Session, aliased

from steward.core.adapters.db.models import (
    DeploymentRow,
    EnvironmentRow,
    GroupRoleMappingRow,
    LedgerEntryRow,
    PipelineRow,
    PipelineVersionRow,
    PromotionApprovalRow,
    PromotionRequestRow,
    SessionRow,
    SignoffPolicyRow,
    UserRow,
)
from steward.core.domain.promotions import Decision, LedgerKind, RequestStatus
from steward.core.errors import NotFound


# ---- environments ------------------------------------------------------------------------
def environment_by_name(db: Session, name: str) -> EnvironmentRow:
    row = db.scalar(select(EnvironmentRow).where(EnvironmentRow.name == str(name)))
    if row is None:
        raise NotFound(f"no environment named {str(name)[:64]!r}")
    return row


def ordered_environments(db: Session) -> list[EnvironmentRow]:
    return list(db.scalars(select(EnvironmentRow).order_by(EnvironmentRow.position)))


def lock_environment(db: Session, environment_id: int) -> EnvironmentRow:
    """Queue writers of one environment behind each other (a no-op wait on SQLite, already serialised)."""
    row = db.get(EnvironmentRow, environment_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound(f"environment #{environment_id} no longer exists")
    return row


def policy_rows(db: Session) -> dict[int, SignoffPolicyRow]:
    """environment id -> its stored sign-off policy (environments without one are missing)."""
    return {row.environment_id: row for row in db.scalars(select(SignoffPolicyRow))}


# ---- people --------------------------------------------------------------------------------
def display_name(db: Session, username: str) -> str:
    """A person's display name for records people read; system actors keep their name."""
    name = db.scalar(select(UserRow.display_name).where(UserRow.username == username))
    return name or username


def users_by_name(db: Session, usernames: Collection[str]) -> dict[str, UserRow]:
    """Users with their local roles (two statements however many)."""
    if not usernames:
        return {}
    return {u.username: u for u in db.scalars(select(UserRow).where(UserRow.username.in_(usernames)))}


def person_key(user_id: int, person_id: int | None) -> str:
    return f"person:{person_id or user_id}"


def persons_of(db: Session, usernames: Collection[str]) -> dict[str, str]:
    """account -> the person behind it (one statement); accounts linked to one person give the same key.

    An SSO sign-in that matched an existing person by e-mail links its account
    to that person (``users.person_id``). Names that are no account (system
    actors) are their own person.
    """
    names = set(usernames)
    result = {name: name for name in names}
    if names:
        rows = db.execute(
            select(UserRow.username, UserRow.id, UserRow.person_id).where(UserRow.username.in_(names))
        )
        for username, user_id, person_id in rows:
            result[username] = person_key(user_id, person_id)
    return result


def latest_sessions(db: Session, user_ids: Collection[int]) -> dict[int, SessionRow]:
    """user id -> their most recent session (whose SSO groups say what their mapped roles are now)."""
    if not user_ids:
        return {}
    ranked = (
        select(
            SessionRow.id,
            func.row_number()
            .over(partition_by=SessionRow.user_id, order_by=(SessionRow.created_at.desc(), SessionRow.id))
            .label("rank"),
        )
        .where(SessionRow.user_id.in_(user_ids))
        .subquery()
    )
    rows = db.scalars(select(SessionRow).join(ranked, ranked.c.id == SessionRow.id).where(ranked.c.rank == 1))
    return {row.user_id: row for row in rows}


def roles_by_group(db: Session, groups: Collection[str]) -> dict[str, set[str]]:
    """SSO group -> the role names admins mapped it to."""
    if not groups:
        return {}
    result: dict[str, set[str]] = {}
    for group, role in db.execute(
        select(GroupRoleMappingRow.group_name, GroupRoleMappingRow.role).where(
            GroupRoleMappingRow.group_name.in_(groups)
        )
    ):
        result.setdefault(group, set()).add(role)
    return result


# ---- pipelines and versions ----------------------------------------------------------------
def version_numbers(db: Session, ids: Iterable[str | None]) -> dict[str, int]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = db.execute(
        select(PipelineVersionRow.id, PipelineVersionRow.number).where(PipelineVersionRow.id.in_(wanted))
    )
    return {vid: number for vid, number in rows}


def versions_by_id(db: Session, ids: Iterable[str | None]) -> dict[str, PipelineVersionRow]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {v.id: v for v in db.scalars(select(PipelineVersionRow).where(PipelineVersionRow.id.in_(wanted)))}


def pipelines_by_id(db: Session, ids: Iterable[int]) -> dict[int, PipelineRow]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {p.id: p for p in db.scalars(select(PipelineRow).where(PipelineRow.id.in_(wanted)))}


def version_rows(db: Session, pipeline: str, number: int) -> tuple[PipelineRow, PipelineVersionRow]:
    """A pipeline by name and one of its versions by number, or NotFound naming which is missing."""
    pipeline_row = db.scalar(select(PipelineRow).where(PipelineRow.name == str(pipeline)))
    if pipeline_row is None:
        raise NotFound(f"no pipeline named {str(pipeline)[:100]!r}")
    version = db.scalar(
        select(PipelineVersionRow).where(
            PipelineVersionRow.pipeline_id == pipeline_row.id, PipelineVersionRow.number == number
        )
    )
    if version is None:
        raise NotFound(f"pipeline {pipeline_row.name} has no version {number}")
    return pipeline_row, version


# ---- what serves where ---------------------------------------------------------------------
def pointer(
    db: Session, environment_id: int, pipeline_id: int, *, lock: bool = False
) -> DeploymentRow | None:
    query = select(DeploymentRow).where(
        DeploymentRow.environment_id == environment_id, DeploymentRow.pipeline_id == pipeline_id
    )
    return db.scalar(query.with_for_update() if lock else query)


def pointers_for(db: Session, pipeline_ids: Collection[int]) -> dict[tuple[int, int], DeploymentRow]:
    """(environment id, pipeline id) -> pointer, for every environment of these pipelines."""
    if not pipeline_ids:
        return {}
    rows = db.scalars(select(DeploymentRow).where(DeploymentRow.pipeline_id.in_(pipeline_ids)))
    return {(row.environment_id, row.pipeline_id): row for row in rows}


def served_in(db: Session, version_id: str) -> dict[int, datetime]:
    """environment id -> when the version first served there (from the ledger)."""
    return served_in_many(db, [version_id]).get(version_id, {})


def served_in_many(db: Session, version_ids: Collection[str]) -> dict[str, dict[int, datetime]]:
    """version id -> {environment id -> when it first served there}."""
    if not version_ids:
        return {}
    result: dict[str, dict[int, datetime]] = {}
    for version_id, env_id, at in db.execute(
        select(LedgerEntryRow.version_id, LedgerEntryRow.environment_id, LedgerEntryRow.occurred_at)
        .where(LedgerEntryRow.version_id.in_(version_ids))
        .order_by(LedgerEntryRow.id)
    ):
        result.setdefault(version_id, {}).setdefault(env_id, at)
    return result


def deployed_map(db: Session) -> dict[int, dict[str, int]]:
    """pipeline id -> {environment name: version number serving}, in environment order."""
    rows = db.execute(
        select(DeploymentRow.pipeline_id, EnvironmentRow.name, PipelineVersionRow.number)
        .join(EnvironmentRow, EnvironmentRow.id == DeploymentRow.environment_id)
        .join(PipelineVersionRow, PipelineVersionRow.id == DeploymentRow.version_id)
        .order_by(EnvironmentRow.position)
    ).all()
    result: dict[int, dict[str, int]] = {}
    for pipeline_id, env_name, number in rows:
        result.setdefault(pipeline_id, {})[env_name] = number
    return result


# ---- the ledger ------------------------------------------------------------------------------
def _ended_at() -> ScalarSelect[datetime]:
    """When the next entry for the same environment and pipeline began (a correlated subquery)."""
    later = aliased(LedgerEntryRow)
    return (
        select(later.occurred_at)
        .where(
            later.environment_id == LedgerEntryRow.environment_id,
            later.pipeline_id == LedgerEntryRow.pipeline_id,
            later.id > LedgerEntryRow.id,
        )
        .order_by(later.id)
        .limit(1)
        .correlate(LedgerEntryRow)
        .scalar_subquery()
    )


LedgerRow = tuple[LedgerEntryRow, EnvironmentRow, str, datetime | None]


def ledger_rows(db: Session, *conditions: ColumnElement[bool], limit: int | None = None) -> list[LedgerRow]:
    """Ledger entries with their environment, pipeline name and end, in one statement; newest first."""
    query = (
        select(LedgerEntryRow, EnvironmentRow, PipelineRow.name, _ended_at())
        .join(EnvironmentRow, EnvironmentRow.id == LedgerEntryRow.environment_id)
        .join(PipelineRow, PipelineRow.id == LedgerEntryRow.pipeline_id)
        .where(*conditions)
        .order_by(LedgerEntryRow.id.desc())
        .limit(limit)
    )
    return [(row, env, name, ended) for row, env, name, ended in db.execute(query)]


def ledger_row(db: Session, entry_id: int) -> LedgerRow:
    found = ledger_rows(db, LedgerEntryRow.id == entry_id)
    if not found:
        raise NotFound(f"no ledger entry #{str(entry_id)[:20]}")
    return found[0]


def promotion_entries(db: Session, request_ids: Collection[int]) -> list[LedgerRow]:
    """The ledger entries that executed these requests."""
    if not request_ids:
        return []
    return ledger_rows(
        db,
        LedgerEntryRow.request_id.in_(request_ids),
        LedgerEntryRow.kind == LedgerKind.PROMOTION.value,
    )


def promotion_origin(db: Session, entry_id: int) -> LedgerEntryRow | None:
    """The promotion entry whose approvals put this entry's version there first (following rollbacks)."""
    seen: set[int] = set()
    row = db.get(LedgerEntryRow, entry_id)
    while row is not None and row.kind != LedgerKind.PROMOTION.value and row.id not in seen:
        seen.add(row.id)
        row = db.get(LedgerEntryRow, row.rollback_to_entry_id) if row.rollback_to_entry_id else None
    return row if row is not None and row.kind == LedgerKind.PROMOTION.value else None


# ---- promotion requests --------------------------------------------------------------------
def request_row(db: Session, request_id: int) -> PromotionRequestRow:
    row = db.get(PromotionRequestRow, request_id) if isinstance(request_id, int) else None
    if row is None:
        raise NotFound(f"no promotion request #{str(request_id)[:20]}")
    return row


def locked_request(db: Session, request_id: int) -> PromotionRequestRow:
    """The request row, locked for this transaction and read afresh (not from the session's cache)."""
    row = db.get(PromotionRequestRow, request_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound(f"no promotion request #{request_id}")
    return row


def requests_by_id(db: Session, ids: Collection[int]) -> dict[int, PromotionRequestRow]:
    if not ids:
        return {}
    return {r.id: r for r in db.scalars(select(PromotionRequestRow).where(PromotionRequestRow.id.in_(ids)))}


def pending_requests(db: Session) -> list[PromotionRequestRow]:
    """Every pending request, oldest first."""
    return list(
        db.scalars(
            select(PromotionRequestRow)
            .where(PromotionRequestRow.status == RequestStatus.PENDING.value)
            .order_by(PromotionRequestRow.id)
        )
    )


def pending_duplicate(db: Session, version_id: str, environment_id: int) -> int | None:
    return db.scalar(
        select(PromotionRequestRow.id).where(
            PromotionRequestRow.version_id == version_id,
            PromotionRequestRow.environment_id == environment_id,
            PromotionRequestRow.status == RequestStatus.PENDING.value,
        )
    )


def pending_targets(db: Session, version_id: str) -> set[int]:
    """Environment ids where a request for this version is pending."""
    return set(
        db.scalars(
            select(PromotionRequestRow.environment_id).where(
                PromotionRequestRow.version_id == version_id,
                PromotionRequestRow.status == RequestStatus.PENDING.value,
            )
        )
    )


def approvals_of(db: Session, request_ids: Collection[int]) -> dict[int, list[PromotionApprovalRow]]:
    """request id -> its approvals and rejections, in the order they were given."""
    if not request_ids:
        return {}
    result: dict[int, list[PromotionApprovalRow]] = {i: [] for i in request_ids}
    for row in db.scalars(
        select(PromotionApprovalRow)
        .where(PromotionApprovalRow.request_id.in_(request_ids))
        .order_by(PromotionApprovalRow.id)
    ):
        result[row.request_id].append(row)
    return result


def decisions_by(db: Session, username: str, limit: int = 200) -> list[PromotionApprovalRow]:
    """What someone approved or rejected, newest first."""
    return list(
        db.scalars(
            select(PromotionApprovalRow)
            .where(PromotionApprovalRow.approver == username)
            .order_by(PromotionApprovalRow.id.desc())
            .limit(limit)
        )
    )


def last_approval(db: Session, request_id: int, username: str) -> PromotionApprovalRow | None:
    """Someone's most recent approval of a request (a rejection ends the request, so it is not asked)."""
    return db.scalar(
        select(PromotionApprovalRow)
        .where(
            PromotionApprovalRow.request_id == request_id,
            PromotionApprovalRow.approver == username,
            PromotionApprovalRow.decision == Decision.APPROVE.value,
        )
        .order_by(PromotionApprovalRow.id.desc())
        .limit(1)
    )
