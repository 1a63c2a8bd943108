"""The data catalog: which files under the data folder Steward may train on or score."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.core.adapters.db.models import DatasetRow, EnvironmentRow
from steward.core.domain.accounts import Actor
from steward.core.domain.audit import Outcome
from steward.core.domain.datasets import DATASET_ROLES, Dataset
from steward.core.domain.names import validate_comment, validate_label
from steward.core.domain.permissions import Action
from steward.core.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound
from steward.core.pipelines.sources import check_size
from steward.core.services import authz
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork


def dataset_entity(row: DatasetRow, environments: dict[int, str]) -> Dataset:
    """A data set row as an entity; ``environments`` maps ids to names (one query for many rows)."""
    return Dataset(
        id=row.id,
        name=row.name,
        path=row.path,
        role=row.role,
        description=row.description,
        attribution=row.attribution,
        rows=row.rows,
        columns=tuple(json.loads(row.columns_json)),
        sha256=row.sha256,
        registered_at=row.registered_at,
        registered_by=row.registered_by,
        environment=environments.get(row.environment_id) if row.environment_id is not None else None,
    )


def _environment_names(session: Session) -> dict[int, str]:
    return {env_id: name for env_id, name in session.execute(select(EnvironmentRow.id, EnvironmentRow.name))}


# Data sets whose rows come from an environment; training data has none.
ENVIRONMENT_ROLES = ("production", "labels")


def file_facts(path: Path) -> tuple[int, list[str], str]:
    """Row count, header and SHA-256 of a CSV file, in one streaming pass."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        rows = sum(1 for _ in reader)
    return rows, header, digest.hexdigest()


class DatasetService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    @property
    def root(self) -> Path:
        return (self.ctx.settings.data_dir / "datasets").resolve()

    def resolve(self, relative: str) -> Path:
        """A path inside the datasets folder, refusing anything that escapes it."""
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root):
            raise InvalidInput(f"data set path {relative!r} leaves the data folder")
        return candidate

    def list(self, role: str | None = None) -> list[Dataset]:
        """Registered data sets by name; only those of ``role`` (e.g. "production") when given."""
        query = select(DatasetRow).order_by(DatasetRow.name)
        if role is not None:
            query = query.where(DatasetRow.role == role)
        with UnitOfWork(self.ctx, write=False) as uow:
            names = _environment_names(uow.session)
            return [dataset_entity(row, names) for row in uow.session.scalars(query)]

    def get(self, name: str) -> Dataset:
        with UnitOfWork(self.ctx, write=False) as uow:
            row = uow.session.scalar(select(DatasetRow).where(DatasetRow.name == name))
            if row is None:
                raise NotFound(f"no data set named {name[:64]!r}")
            return dataset_entity(row, _environment_names(uow.session))

    def read_frame(self, name: str, *, max_bytes: int) -> tuple[Dataset, pd.DataFrame]:
        """The data set and its table, only if the file still hashes to the SHA-256 it was registered with.

        The bytes are read once (refused by size on disk first), hashed and
        parsed from memory, so the table is exactly the content the digest names.
        """
        dataset = self.get(name)
        path = self.resolve(dataset.path)
        try:
            check_size(path.stat().st_size, max_bytes, f"data set {dataset.name!r}")
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"the file of data set {dataset.name!r} ({dataset.path}) is missing") from None
        check_size(len(data), max_bytes, f"data set {dataset.name!r}")
        if hashlib.sha256(data).hexdigest() != dataset.sha256:
            raise IntegrityError(
                f"data set {dataset.name!r} ({dataset.path}) changed since it was registered: its SHA-256 "
                "no longer matches; register the new file under a new name"
            )
        try:
            frame = pd.read_csv(io.BytesIO(data), encoding="utf-8", low_memory=False)
        except (ValueError, UnicodeDecodeError) as error:
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise InvalidInput(f"data set {dataset.name!r} cannot be read: {first_line}") from None
        return dataset, frame

    def register(
        self,
        actor: Actor,
        name: str,
        relative_path: str,
        *,
        role: str,
        description: str = "",
        attribution: str = "",
        environment: str | None = None,
    ) -> Dataset:
        """Register a file; production and labels data belong to ``environment`` (default: the highest).

        The environment's tier decides who may train on the rows. The same
        bytes cannot be registered again for a lower environment than they
        already belong to (copying Prod's file as "Dev data" is refused).
        """
        authz.check(
            self.ctx, actor, Action.REGISTER_PIPELINE, object_type="dataset", object_id=str(name)[:64]
        )
        label = validate_label(name, "data set name", max_length=100)
        if role not in DATASET_ROLES:
            raise InvalidInput(f"data set role {role!r} must be one of {', '.join(DATASET_ROLES)}")
        path = self.resolve(relative_path)
        if not path.is_file():
            raise NotFound(f"data set file {relative_path!r} does not exist under {self.root}")
        if environment is not None and role not in ENVIRONMENT_ROLES:
            raise InvalidInput(f"a {role} data set belongs to no environment: only production and labels do")
        rows, header, sha256 = file_facts(path)
        with UnitOfWork(self.ctx, write=False) as read:
            try:
                where = _origin(read.session, role, environment)
                if where is not None:
                    _refuse_downgrade(read.session, sha256, where)
                refusal = None
            except InvalidInput as problem:
                refusal = problem
        if refusal is not None:  # an attempt to relabel another environment's data is worth a record
            with UnitOfWork(self.ctx) as uow:
                uow.record(
                    actor,
                    "dataset.register",
                    object_type="dataset",
                    object_id=label,
                    outcome=Outcome.FAILED,
                    detail=str(refusal),
                )
                uow.commit()
            raise refusal
        with UnitOfWork(self.ctx) as uow:
            if uow.session.scalar(select(DatasetRow.id).where(DatasetRow.name == label)) is not None:
                raise AlreadyExists(f"data set {label!r} already exists")
            where = _origin(uow.session, role, environment)
            if where is not None:
                _refuse_downgrade(uow.session, sha256, where)
            row = DatasetRow(
                name=label,
                path=relative_path,
                role=role,
                description=validate_comment(description, "description"),
                attribution=validate_comment(attribution, "attribution"),
                rows=rows,
                columns_json=json.dumps(header),
                sha256=sha256,
                registered_at=self.ctx.clock.now(),
                registered_by=actor.username,
                environment_id=where.id if where is not None else None,
            )
            uow.session.add(row)
            uow.session.flush()
            uow.record(
                actor,
                "dataset.register",
                object_type="dataset",
                object_id=label,
                after={
                    "path": relative_path,
                    "role": role,
                    "rows": rows,
                    "sha256": sha256,
                    "environment": where.name if where is not None else None,
                },
            )
            uow.commit()
            return dataset_entity(row, _environment_names(uow.session))


def _origin(session: Session, role: str, environment: str | None) -> EnvironmentRow | None:
    """The environment a new data set's rows come from: the one named, else the highest; none for training."""
    if role not in ENVIRONMENT_ROLES:
        return None
    if environment is None:
        highest = session.scalar(select(EnvironmentRow).order_by(EnvironmentRow.position.desc()).limit(1))
        if highest is None:
            raise InvalidInput("no environment exists yet: production data must belong to one")
        return highest
    named = session.scalar(select(EnvironmentRow).where(EnvironmentRow.name == environment))
    if named is None:
        raise NotFound(f"no environment named {str(environment)[:64]!r}")
    return named


def _refuse_downgrade(session: Session, sha256: str, where: EnvironmentRow) -> None:
    """The same bytes already registered for a higher environment may not become a lower one's data."""
    higher = session.execute(
        select(DatasetRow.name, EnvironmentRow.name)
        .join(EnvironmentRow, EnvironmentRow.id == DatasetRow.environment_id)
        .where(DatasetRow.sha256 == sha256, EnvironmentRow.position > where.position)
        .limit(1)
    ).first()
    if higher is not None:
        raise InvalidInput(
            f"these bytes are already {higher[1]}'s data set {higher[0]!r}: they cannot be registered as "
            f"{where.name} data"
        )
