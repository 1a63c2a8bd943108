"""Batch pipelines on production data, and the drift, data-quality and performance monitors they feed.

A run is a batch pipeline and a monitor in one job: it scores the production
rows the deployment has not answered yet with the version serving there,
appends them to the deployment's prediction log, then judges that version's
log window by window against the version's reference profile (stored at
training time, so the training set is never reloaded).

The room, one module per concept: ``monitors`` (what to watch, which are
due), ``monitor_admin`` (pause, resume, remove), ``batch_runs`` (a run:
score, log, judge, record), ``views`` (runs, windows, overlays, roll-ups,
performance estimates and the Drift page's read), ``windows`` (how a log is
cut; pure), ``incremental`` (windows carried from run to run, so a run reads
only the log rows logged since the last one). ``MonitoringService`` is the front door
(``steward.monitoring``).
"""

from __future__ import annotations

from steward.core.services.monitoring.batch_runs import BatchRuns
from steward.core.services.monitoring.monitor_admin import MonitorAdmin
from steward.core.services.monitoring.views import DriftViews
from steward.core.services.monitoring.windows import cut_windows, drift_share, event_times, report_dict

__all__ = ["MonitoringService", "cut_windows", "drift_share", "event_times", "report_dict"]


class MonitoringService(BatchRuns, DriftViews, MonitorAdmin):
    """Monitors, batch runs, drift views and pausing/removing monitors behind one name."""
