"""The scoring service's prediction log: rows queued by requests, written in batches by one thread.

A request only puts its row on an in-memory queue (no request waits on the
database). A writer thread inserts what has gathered every ``flush_seconds``;
when the database is unreachable or locked it appends the batch to a local
spool file (JSON lines, fsynced) and replays the spool, oldest first, once a
write succeeds again. Rows go through the prediction log's one bulk path
(``bulk.append_predictions``, shared with batch runs), which skips request
ids already logged, so a replay after a half-known outcome never duplicates
a row: nothing is lost, nothing is logged twice.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from steward.core.adapters.db.bulk import PREDICTION_COLUMNS, append_predictions
from steward.core.services.context import ServiceContext
from steward.core.services.uow import UnitOfWork

log = logging.getLogger(__name__)
_TIMES = ("event_time", "scored_at")


@dataclass
class LogStats:
    written: int = 0
    spooled: int = 0  # rows ever written to the spool
    replayed: int = 0
    failures: int = 0


def _encode(row: Mapping[str, Any]) -> str:
    return json.dumps({k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()})


def _decode(line: str) -> dict[str, Any]:
    row: dict[str, Any] = json.loads(line)
    for name in _TIMES:
        row[name] = datetime.fromisoformat(row[name])
    return row


class OnlineLog:
    def __init__(
        self, ctx: ServiceContext, spool: Path, *, flush_seconds: float = 0.2, batch_size: int = 2000
    ) -> None:
        self.ctx = ctx
        self.spool = spool
        self.flush_seconds = flush_seconds
        self.batch_size = batch_size
        self.stats = LogStats()
        self._queue: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._run, name="online-log", daemon=True)
        spool.parent.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, row: dict[str, Any]) -> None:
        """Queue one request's row (never blocks)."""
        self._idle.clear()
        self._queue.put(row)

    def pending(self) -> int:
        return self._queue.qsize()

    def spooled_rows(self) -> int:
        if not self.spool.exists():
            return 0
        with self.spool.open() as handle:
            return sum(1 for line in handle if line.strip())

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued (to the database or the spool), then end the thread."""
        self._stop.set()
        self._thread.join(timeout)

    def _drain(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while len(rows) < self.batch_size:
            try:
                rows.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return rows

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(self.flush_seconds)
            self._cycle()
            while self._queue.qsize() >= self.batch_size:
                self._cycle()
            if stopping:
                self._cycle()
                return

    def _cycle(self) -> None:
        rows = self._drain()
        if self._has_spool() and not self._replay():
            self._to_spool(rows)
            return
        if rows and not self._write(rows):
            self._to_spool(rows)
        elif rows:
            self.stats.written += len(rows)

    def _write(self, rows: list[dict[str, Any]]) -> bool:
        try:
            with UnitOfWork(self.ctx) as uow:
                append_predictions(uow.session, [tuple(row[c] for c in PREDICTION_COLUMNS) for row in rows])
                uow.commit()
            return True
        except Exception as problem:  # deliberately broad: any failure to write means "spool it"
            self.stats.failures += 1
            log.warning("prediction log write failed (%s); spooling %d rows", str(problem)[:200], len(rows))
            return False

    def _to_spool(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        with self.spool.open("a", encoding="utf-8") as handle:
            handle.write("".join(_encode(row) + "\n" for row in rows))
            handle.flush()
            os.fsync(handle.fileno())
        self.stats.spooled += len(rows)

    def _has_spool(self) -> bool:
        return self.spool.exists() or self.spool.with_suffix(".replaying").exists()

    def _replay(self) -> bool:
        """Write the spool to the database and remove it; False (spool kept) if the database still fails."""
        replaying = self.spool.with_suffix(".replaying")
        if not replaying.exists():
            self.spool.replace(replaying)
        elif self.spool.exists():  # a replay interrupted by a stop: keep the older rows first
            with self.spool.open(encoding="utf-8") as newer, replaying.open("a", encoding="utf-8") as older:
                older.write(newer.read())
            self.spool.unlink()
        with replaying.open(encoding="utf-8") as handle:
            rows = [_decode(line) for line in handle if line.strip()]
        for first in range(0, len(rows), self.batch_size):
            if not self._write(rows[first : first + self.batch_size]):
                if self.spool.exists():  # rows spooled meanwhile go after the older ones
                    with self.spool.open(encoding="utf-8") as newer:
                        tail = newer.read()
                    with replaying.open("a", encoding="utf-8") as handle:
                        handle.write(tail)
                replaying.replace(self.spool)
                return False
        replaying.unlink()
        self.stats.replayed += len(rows)
        self.stats.written += len(rows)
        return True
