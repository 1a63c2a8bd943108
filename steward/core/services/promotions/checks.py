"""What every change to a request re-checks: still open, as the page saw it, the artifact's bytes intact."""

from __future__ import annotations

from dataclasses import dataclass

from steward.core.adapters.db import queries
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import Outcome
from steward.core.domain.promotions import PromotionRequest
from steward.core.domain.roles import Role
from steward.core.errors import IntegrityError, NotFound, StaleState
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.deployments import STALE, integrity_alarm
from steward.core.services.promotions.reading import PromotionReader
from steward.core.services.uow import UnitOfWork


def check_open(request: PromotionRequest, expected_version: int | None) -> None:
    """Refuse a request that changed since the page showed it (``expected_version``) or is closed."""
    if expected_version is not None and request.version != expected_version:
        raise StaleState(f"request #{request.id} {STALE} (it is now {request.status.value})")
    if not request.open:
        by = f" by {request.closed_by}" if request.closed_by else ""
        raise StaleState(
            f"request #{request.id} {STALE}: it was {request.status.value}{by}; nothing was changed"
        )


def record_refusal(
    ctx: ServiceContext, actor: Actor, request: PromotionRequest, action: str, message: str
) -> None:
    """Audit that ``action`` on the request was refused, in its own transaction."""
    with UnitOfWork(ctx) as uow:
        refusal(uow, actor, request, action, message)
        uow.commit()


def refusal(uow: UnitOfWork, actor: Actor, request: PromotionRequest, action: str, message: str) -> None:
    uow.record(
        actor,
        action,
        object_type="promotion_request",
        object_id=str(request.id),
        outcome=Outcome.FAILED,
        detail=message[:2000],
    )


def verify_artifact(
    ctx: ServiceContext, actor: Actor, request: PromotionRequest, artifact_uri: str, action: str
) -> None:
    """Hash the artifact's bytes again: they must still be what the request (and its approvals) bound.

    When they are not, one transaction raises the integrity alarm (an open
    critical alert, which fails the alert gate) and audits the refusal.
    """
    label = f"v{request.version_number}"
    try:
        ctx.artifacts.read_verified(artifact_uri, request.artifact_sha256, label)
    except (IntegrityError, NotFound, OSError) as problem:
        message = (
            f"the artifact of {request.pipeline_name} {label} changed after it was requested: its "
            f"bytes no longer hash to {request.artifact_sha256[:12]}…, the digest approvals are bound "
            "to; refused"
        )
        with UnitOfWork(ctx) as uow:
            integrity_alarm(
                uow, request.pipeline_name, request.version_id, label, request.artifact_sha256, str(problem)
            )
            refusal(uow, actor, request, action, message)
            uow.commit()
        raise IntegrityError(message) from None


@dataclass(frozen=True)
class Seen:
    """What a change reads first, in one read transaction: the request, the actor's roles, the artifact."""

    request: PromotionRequest
    roles: frozenset[Role] | None  # None: they could not be read (which denies)
    artifact_uri: str


def read_before_change(ctx: ServiceContext, actor: Actor, request_id: int) -> Seen:
    """The request as it stands, who the actor is now and where the bytes to hash are, in one read."""
    with UnitOfWork(ctx, write=False) as uow:
        db = uow.session
        row = queries.request_row(db, request_id)
        versions = queries.versions_by_id(db, [row.version_id, row.champion_version_id])
        request = PromotionReader(db, ctx.clock.now()).request(row, versions)
        artifact_uri = versions[row.version_id].artifact_uri
        roles = authz.roles_now(db, actor)  # last: on PostgreSQL a failed read ends the transaction
    return Seen(request, roles, artifact_uri)
