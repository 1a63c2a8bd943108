"""The Pipelines page in one read: the list, the chosen pipeline's versions and card, data sets, rights.

One read transaction and a fixed number of statements whatever the number of
pipelines: the list loads only each pipeline's latest version (not every
version's chart data), and the chosen pipeline's versions once.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.core.adapters.db.mappers.environments import to_environment
from steward.core.adapters.db.mappers.registry import to_pipeline, to_version
from steward.core.adapters.db.models import DatasetRow, PipelineRow, PipelineVersionRow
from steward.core.adapters.db.queries import deployed_map, ordered_environments, pending_requests
from steward.core.domain.accounts import Actor
from steward.core.domain.model_card import build_model_card, deployed_versions, previous_version
from steward.core.domain.permissions import Action, is_allowed
from steward.core.domain.pipelines_page import (
    PipelinesPage,
    parse_version,
    same_data_note,
    training_hint,
    version_choices,
)
from steward.core.domain.registry import PipelineOverview, PipelineVersion
from steward.core.services import authz
from steward.core.services.catalog import dataset_entity
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork


def latest_versions(db: Session) -> dict[int, PipelineVersionRow]:
    """pipeline id -> its newest version row, in one statement."""
    newest = (
        select(PipelineVersionRow.pipeline_id, func.max(PipelineVersionRow.number).label("number"))
        .group_by(PipelineVersionRow.pipeline_id)
        .subquery()
    )
    rows = db.scalars(
        select(PipelineVersionRow).join(
            newest,
            (PipelineVersionRow.pipeline_id == newest.c.pipeline_id)
            & (PipelineVersionRow.number == newest.c.number),
        )
    )
    return {row.pipeline_id: row for row in rows}


def _awaiting(db: Session, pipeline_id: int, environments: dict[int, str]) -> dict[int, tuple[str, ...]]:
    """version number -> environments where a request to deploy it awaits sign-off."""
    pending = [r for r in pending_requests(db) if r.pipeline_id == pipeline_id]
    if not pending:
        return {}
    numbers = dict(
        db.execute(
            select(PipelineVersionRow.id, PipelineVersionRow.number).where(
                PipelineVersionRow.id.in_({r.version_id for r in pending})
            )
        ).all()
    )
    result: dict[int, list[str]] = {}
    for request in pending:
        where = result.setdefault(int(numbers[request.version_id]), [])
        name = environments.get(request.environment_id, "")
        if name and name not in where:
            where.append(name)
    return {number: tuple(names) for number, names in result.items()}


def read_pipelines_page(
    ctx: ServiceContext, actor: Actor, *, pipeline: str | None = None, version: object = None
) -> PipelinesPage:
    """The page for ``pipeline`` (the first by name when None or unknown) at ``version`` (its latest when
    None or unknown: ``notice`` says what was not found)."""
    with UnitOfWork(ctx, write=False) as uow:
        db = uow.session
        rows = db.scalars(select(PipelineRow).order_by(PipelineRow.name)).all()
        counts = dict(
            db.execute(
                select(PipelineVersionRow.pipeline_id, func.count()).group_by(PipelineVersionRow.pipeline_id)
            ).all()
        )
        latest = latest_versions(db)
        deployed = deployed_map(db)
        overviews = tuple(
            PipelineOverview(
                pipeline=to_pipeline(row),
                latest=to_version(latest[row.id], row.name) if row.id in latest else None,
                version_count=int(counts.get(row.id, 0)),
                deployed=deployed.get(row.id, {}),
            )
            for row in rows
        )
        environments = [to_environment(row) for row in ordered_environments(db)]
        names = {e.id: e.name for e in environments}
        datasets = tuple(
            dataset_entity(row, names) for row in db.scalars(select(DatasetRow).order_by(DatasetRow.name))
        )
        notice = None
        chosen = next((o for o in overviews if o.pipeline.name == pipeline), None)
        if pipeline and chosen is None:
            notice = f"There is no pipeline named {pipeline[:64]!r}: showing {overviews[0].pipeline.name}."
            notice = notice if overviews else f"There is no pipeline named {pipeline[:64]!r}."
        chosen = chosen or (overviews[0] if overviews else None)
        versions: tuple[PipelineVersion, ...] = ()
        awaiting: dict[int, tuple[str, ...]] = {}
        if chosen is not None:
            versions = tuple(
                to_version(row, chosen.pipeline.name)
                for row in db.scalars(
                    select(PipelineVersionRow)
                    .where(PipelineVersionRow.pipeline_id == chosen.pipeline.id)
                    .order_by(PipelineVersionRow.number)
                )
            )
            awaiting = _awaiting(db, chosen.pipeline.id, {e.id: e.name for e in environments})
        roles = authz.roles_now(db, actor)
    authz.enforce(ctx, actor, roles, Action.VIEW_PIPELINES, object_type="pipeline", what="see pipelines")
    granted = roles or frozenset()
    retrain_from = tuple(e.name for e in environments if is_allowed(granted, Action.RETRAIN, e.tier))
    page = PipelinesPage(
        overviews=overviews,
        datasets=datasets,
        # Only data of an environment this reader may retrain in (its tier decides, not a choice made here).
        production_datasets=tuple(
            d.name for d in datasets if d.role == "production" and d.environment in retrain_from
        ),
        label_datasets=tuple(d.name for d in datasets if d.role == "labels"),
        retrain_from=retrain_from,
        can_register=is_allowed(granted, Action.REGISTER_PIPELINE),
        can_train=is_allowed(granted, Action.TRAIN_PIPELINE),
        notice=notice,
    )
    if chosen is None:
        return page
    by_number = {v.number: v for v in versions}
    wanted = parse_version(version)
    shown = by_number.get(wanted) if wanted is not None else None
    if version not in (None, "") and shown is None and versions:
        missing = f"{chosen.pipeline.name} has no version {str(version)[:16]!r}: showing its latest."
        notice = f"{notice} {missing}" if notice else missing
    shown = shown or (versions[-1] if versions else None)
    previous = previous_version(versions, shown) if shown is not None else None
    where = {number: tuple(names) for number, names in deployed_versions(dict(chosen.deployed)).items()}
    schema = shown.schema if shown is not None else chosen.pipeline.spec.get("schema") or {}
    return PipelinesPage(
        overviews=overviews,
        chosen=chosen,
        versions=versions,
        version=shown,
        previous=previous,
        card=build_model_card(shown, previous) if shown is not None else None,
        choices=version_choices(versions, where, awaiting),
        deployed_in=where,
        awaiting=awaiting,
        schema_columns=tuple(dict(schema).get("columns") or ()),
        train_hint=training_hint(versions[-1] if versions else None, chosen.pipeline.spec_digest),
        versions_note=same_data_note(versions) if len(versions) > 1 else "",
        datasets=page.datasets,
        production_datasets=page.production_datasets,
        label_datasets=page.label_datasets,
        retrain_from=page.retrain_from,
        can_register=page.can_register,
        can_train=page.can_train,
        notice=notice,
    )
