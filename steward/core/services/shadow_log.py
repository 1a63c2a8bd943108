"""The shadow's answers: queued by the scoring service, written in batches by one thread.

A shadow never answers a caller, so its rows are kept apart from the
prediction log (drift and SLA monitors judge what callers received) in
``shadow_predictions``, keyed on the champion's request id. Writing is
best-effort: when the database is away the batch is dropped and counted,
because a lost shadow row changes no answer and the champion's row is
spooled by the prediction log itself.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from steward.core.adapters.db.bulk import insert_new
from steward.core.adapters.db.models import ShadowPredictionRow
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork

log = logging.getLogger(__name__)
KEYS = ("rollout_id", "request_id")


class ShadowLog:
    def __init__(self, ctx: ServiceContext, *, flush_seconds: float = 0.2, batch_size: int = 1000) -> None:
        self.ctx = ctx
        self.flush_seconds = flush_seconds
        self.batch_size = batch_size
        self.written = self.dropped = 0
        self._queue: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shadow-log", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, row: dict[str, Any]) -> None:
        self._queue.put(row)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._flush()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self._flush()

    def _flush(self) -> None:
        while True:
            rows: list[dict[str, Any]] = []
            while len(rows) < self.batch_size:
                try:
                    rows.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if not rows:
                return
            try:
                with UnitOfWork(self.ctx) as uow:
                    insert_new(uow.session, ShadowPredictionRow, rows, KEYS)
                    uow.commit()
                self.written += len(rows)
            except Exception as problem:  # deliberately broad: a shadow row is never worth an answer
                self.dropped += len(rows)
                log.warning("shadow log write failed (%s); dropped %d rows", str(problem)[:200], len(rows))
