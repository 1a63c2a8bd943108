"""What the monitoring services share: the context and the services they lean on."""

from __future__ import annotations

from steward.core.services.catalog import DatasetService
from steward.core.services.context import ServiceContext
from steward.core.services.predictions import PredictionLog
from steward.core.services.registry import PipelineService


class MonitoringBase:
    """The services every part of monitoring uses, built once per service object."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.pipelines = PipelineService(ctx)
        self.datasets = DatasetService(ctx)
        self.log = PredictionLog(ctx)
