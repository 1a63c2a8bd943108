"""Pausing, resuming and removing monitors: who may silence one, and the audit trail each change leaves.

Silencing a monitor hides problems, so it needs two rights: to manage
monitors, and to run this monitor in its environment (a data scientist may
pause a Dev monitor, not a Prod one). A removed monitor keeps its row, runs and
windows; it only leaves the pages and the schedule, and the audit log keeps
its whole history (``monitor.add`` ... ``monitor.remove``).
"""

from __future__ import annotations

from typing import Any

from steward.core.adapters.db.mappers.monitoring import to_monitor
from steward.core.adapters.db.models import MonitorRow
from steward.core.domain.accounts import Actor
from steward.core.domain.monitoring import Monitor
from steward.core.domain.names import validate_label
from steward.core.domain.permissions import Action
from steward.core.errors import InvalidInput, NotFound
from steward.core.services import authz
from steward.core.services.environments import EnvironmentService
from steward.core.services.monitoring.monitors import Monitors
from steward.core.services.uow import UnitOfWork


class MonitorAdmin(Monitors):
    def pause(self, actor: Actor, monitor_id: int, reason: str = "") -> Monitor:
        """Stop the schedule (and refuse manual runs) until resumed; the monitor stays on the pages."""
        return self._change(actor, monitor_id, "pause", reason)

    def resume(self, actor: Actor, monitor_id: int, reason: str = "") -> Monitor:
        """Put a paused monitor back on its schedule; it runs at the next check."""
        return self._change(actor, monitor_id, "resume", reason)

    def remove(self, actor: Actor, monitor_id: int, reason: str = "") -> Monitor:
        """Take the monitor off every page and the schedule, keeping its history."""
        return self._change(actor, monitor_id, "remove", reason)

    def _change(self, actor: Actor, monitor_id: int, change: str, reason: str) -> Monitor:
        note = validate_label(reason, "the reason", max_length=500, allow_empty=True)
        monitor = self.monitor(monitor_id)  # NotFound for a removed or unknown monitor
        authz.check(self.ctx, actor, Action.MANAGE_MONITORS, object_type="monitor", object_id=str(monitor_id))
        authz.check(
            self.ctx,
            actor,
            Action.RUN_BATCH,
            tier=EnvironmentService(self.ctx).get(monitor.environment).tier,
            object_type="monitor",
            object_id=str(monitor_id),
            what=f"{change} the monitor of {monitor.pipeline_name} in {monitor.environment}",
        )
        now = self.ctx.clock.now()
        with UnitOfWork(self.ctx) as uow:
            row = uow.session.get(MonitorRow, monitor_id, with_for_update=True)
            if row is None or row.removed_at is not None:
                raise NotFound(f"no monitor #{monitor_id}")
            before = _state(row)
            if change == "pause":
                if not row.enabled:
                    raise InvalidInput(f"monitor #{monitor_id} is already paused (by {row.paused_by})")
                row.enabled, row.paused_at, row.paused_by = False, now, actor.username
            elif change == "resume":
                if row.enabled:
                    raise InvalidInput(f"monitor #{monitor_id} is not paused")
                row.enabled, row.paused_at, row.paused_by = True, None, None
            else:
                row.enabled, row.removed_at, row.removed_by = False, now, actor.username
            uow.record(
                actor,
                f"monitor.{change}",
                object_type="monitor",
                object_id=str(monitor_id),
                before=before,
                after=_state(row)
                | {
                    "pipeline": monitor.pipeline_name,
                    "environment": monitor.environment,
                    "dataset": row.dataset,
                },
                detail=note,
            )
            changed = to_monitor(row, monitor.pipeline_name, monitor.environment)
            uow.commit()
        return changed


def _state(row: MonitorRow) -> dict[str, Any]:
    return {"enabled": row.enabled, "paused_by": row.paused_by, "removed": row.removed_at is not None}
