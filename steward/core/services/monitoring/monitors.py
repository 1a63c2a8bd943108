"""Monitors: what to watch (a deployment fed by a production data set), adding them, and which are due."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import select

from steward.core.adapters.db.mappers.monitoring import to_monitor, to_run
from steward.core.adapters.db.models import BatchRunRow, EnvironmentRow, MonitorRow, PipelineRow
from steward.core.domain.accounts import Actor
from steward.core.domain.monitoring import BatchRun, Monitor, parse_window
from steward.core.domain.names import validate_label
from steward.core.domain.permissions import Action
from steward.core.errors import AlreadyExists, InvalidInput, NotFound
from steward.core.pipelines.sources import SqlSource
from steward.core.services import authz
from steward.core.services.monitoring.base import MonitoringBase
from steward.core.services.uow import UnitOfWork


class Monitors(MonitoringBase):
    def monitors(self) -> builtins.list[Monitor]:
        with UnitOfWork(self.ctx, write=False) as uow:
            rows = uow.session.execute(
                select(MonitorRow, PipelineRow.name, EnvironmentRow.name)
                .join(PipelineRow, PipelineRow.id == MonitorRow.pipeline_id)
                .join(EnvironmentRow, EnvironmentRow.id == MonitorRow.environment_id)
                .where(MonitorRow.removed_at.is_(None))  # a removed monitor keeps its row, out of view
                .order_by(PipelineRow.name, EnvironmentRow.position)
            ).all()
            return [to_monitor(row, pipeline, environment) for row, pipeline, environment in rows]

    def monitor(self, monitor_id: int) -> Monitor:
        for monitor in self.monitors():
            if monitor.id == monitor_id:
                return monitor
        raise NotFound(f"no monitor #{monitor_id}")

    def add_monitor(
        self,
        actor: Actor,
        *,
        pipeline: str,
        environment: str,
        dataset: str,
        window: str,
        time_column: str | None = None,
        labels_dataset: str | None = None,
        labels_database: str | None = None,
        labels_query: str | None = None,
        id_column: str | None = None,
        label_column: str | None = None,
        mode: str = "fixed",
        every_minutes: int = 1440,
        max_rejected_share: float = 0.1,
    ) -> Monitor:
        """Watch ``pipeline`` in ``environment`` on ``dataset``; all names are checked before writing."""
        authz.check(
            self.ctx, actor, Action.MANAGE_MONITORS, object_type="monitor", object_id=str(pipeline)[:100]
        )
        rule = parse_window(window, time_column)
        if mode not in ("fixed", "calibrated"):
            raise InvalidInput(f"mode {mode!r} must be fixed or calibrated")
        if not 0.0 <= max_rejected_share <= 1.0:
            raise InvalidInput("the rejected-rows threshold is a share between 0 and 1")
        if every_minutes < 5:
            raise InvalidInput("a monitor runs at most every 5 minutes")
        if labels_dataset and (labels_database or labels_query):
            raise InvalidInput("labels come from a data set or from a database query, not both")
        if bool(labels_database) != bool(labels_query):
            raise InvalidInput("labels from a database need both the database name and the query")
        if labels_database:
            configured = self.ctx.settings.source_databases
            if labels_database not in configured:
                known = ", ".join(sorted(configured)) or "none"
                raise InvalidInput(
                    f"labels database {labels_database!r} is not configured (configured: {known})"
                )
            SqlSource(
                configured[labels_database], labels_query or "", label=labels_database
            )  # checks the query
        if (labels_dataset or labels_database) and not (id_column and label_column):
            raise InvalidInput("labels need an id column (to join on) and a label column")
        columns = {
            name: validate_label(value, name.replace("_", " "), max_length=200)
            for name, value in (
                ("time_column", time_column),
                ("id_column", id_column),
                ("label_column", label_column),
            )
            if value
        }
        production = self.datasets.get(dataset)
        for name in ("time_column", "id_column"):
            if name in columns and columns[name] not in production.columns:
                raise InvalidInput(f"{name.replace('_', ' ')} {columns[name]!r} is not a column of {dataset}")
        if labels_dataset:
            labels = self.datasets.get(labels_dataset)
            for name in ("id_column", "label_column"):
                if columns[name] not in labels.columns:
                    raise InvalidInput(
                        f"{name.replace('_', ' ')} {columns[name]!r} is not a column of {labels_dataset}"
                    )
        with UnitOfWork(self.ctx) as uow:
            pipeline_row = uow.session.scalar(select(PipelineRow).where(PipelineRow.name == pipeline))
            env_row = uow.session.scalar(select(EnvironmentRow).where(EnvironmentRow.name == environment))
            if pipeline_row is None:
                raise NotFound(f"no pipeline named {pipeline[:100]!r}")
            if env_row is None:
                raise NotFound(f"no environment named {environment[:64]!r}")
            exists = uow.session.scalar(
                select(MonitorRow.id).where(
                    MonitorRow.pipeline_id == pipeline_row.id,
                    MonitorRow.environment_id == env_row.id,
                    MonitorRow.dataset == dataset,
                    MonitorRow.removed_at.is_(None),
                )
            )
            if exists is not None:
                raise AlreadyExists(f"{pipeline} in {environment} is already monitored on {dataset}")
            row = MonitorRow(
                pipeline_id=pipeline_row.id,
                environment_id=env_row.id,
                dataset=dataset,
                time_column=columns.get("time_column"),
                window=rule.text,
                labels_dataset=labels_dataset or None,
                labels_database=labels_database or None,
                labels_query=labels_query or None,
                id_column=columns.get("id_column"),
                label_column=columns.get("label_column"),
                mode=mode,
                every_minutes=every_minutes,
                max_rejected_share=max_rejected_share,
                enabled=True,
                created_at=self.ctx.clock.now(),
                created_by=actor.username,
            )
            uow.session.add(row)
            uow.session.flush()
            monitor = to_monitor(row, pipeline_row.name, env_row.name)
            uow.record(
                actor,
                "monitor.add",
                object_type="monitor",
                object_id=str(row.id),
                after={
                    "pipeline": pipeline,
                    "environment": environment,
                    "dataset": dataset,
                    "window": rule.text,
                    "labels": labels_dataset or (f"sql:{labels_database}" if labels_database else None),
                    "mode": mode,
                    "max_rejected_share": max_rejected_share,
                },
            )
            uow.commit()
        return monitor

    def due(self, now: datetime | None = None) -> builtins.list[Monitor]:
        """Enabled monitors whose last run is older than their interval (or that never ran)."""
        now = now or self.ctx.clock.now()
        due = []
        for monitor in self.monitors():
            if not monitor.enabled:
                continue
            last = self.last_run(monitor.id)
            if last is None or (now - last.started_at).total_seconds() >= monitor.every_minutes * 60:
                due.append(monitor)
        return due

    def last_run(self, monitor_id: int) -> BatchRun | None:
        with UnitOfWork(self.ctx, write=False) as uow:
            row = uow.session.execute(
                select(BatchRunRow, PipelineRow.name)
                .join(PipelineRow, PipelineRow.id == BatchRunRow.pipeline_id)
                .where(BatchRunRow.monitor_id == monitor_id)
                .order_by(BatchRunRow.started_at.desc())
                .limit(1)
            ).first()
            return to_run(row[0], row[1]) if row else None
