"""Is storage and compute up? Live probes of the database, folders and host.

The operations capability adds heartbeats from every process; these probes
answer from the process that asks, which is enough to tell a dead disk or an
unreachable database from a healthy one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from steward.core.services.context import ServiceContext

DISK_WARN, DISK_FAIL = 0.85, 0.95


@dataclass(frozen=True)
class Probe:
    name: str
    status: str  # up | degraded | down
    detail: str
    value: float | None = None
    unit: str = ""


@dataclass(frozen=True)
class HostStats:
    cpu_percent: float
    cpu_count: int
    memory_percent: float
    memory_total_gb: float
    load_1m: float


def _disk_probe(name: str, path: Path) -> Probe:
    try:
        path.mkdir(parents=True, exist_ok=True)
        usage = psutil.disk_usage(str(path))
    except OSError as exc:
        return Probe(name, "down", f"{path}: {exc.strerror}")
    share = usage.used / usage.total if usage.total else 1.0
    writable = os.access(path, os.W_OK)
    status = "down" if share >= DISK_FAIL or not writable else "degraded" if share >= DISK_WARN else "up"
    free_gb = usage.free / 1e9
    detail = f"{path} - {free_gb:,.1f} GB free of {usage.total / 1e9:,.0f} GB" + (
        "" if writable else ", NOT writable"
    )
    return Probe(name, status, detail, round(share * 100, 1), "% used")


class InfrastructureService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def probes(self) -> list[Probe]:
        return [
            self._database_probe(),
            _disk_probe("Data folder", self.ctx.settings.data_dir.resolve()),
            _disk_probe("Artifact store", self.ctx.settings.resolved_artifact_root.resolve()),
        ]

    def _database_probe(self) -> Probe:
        url = self.ctx.engines.read.url.render_as_string(hide_password=True)
        started = time.perf_counter()
        try:
            with self.ctx.engines.read.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return Probe("Database", "down", f"{url}: {exc.__class__.__name__}")
        elapsed_ms = (time.perf_counter() - started) * 1000
        status = "up" if elapsed_ms < 250 else "degraded"
        return Probe("Database", status, f"{self.ctx.engines.dialect} - {url}", round(elapsed_ms, 1), "ms")

    def host(self) -> HostStats:
        memory = psutil.virtual_memory()
        return HostStats(
            cpu_percent=psutil.cpu_percent(interval=0.1),
            cpu_count=psutil.cpu_count() or 1,
            memory_percent=memory.percent,
            memory_total_gb=round(memory.total / 1e9, 1),
            load_1m=os.getloadavg()[0],
        )
