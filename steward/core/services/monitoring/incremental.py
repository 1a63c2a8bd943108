"""A monitor's windows carried from run to run, so a run reads only the log rows logged since the last one.

The state of a monitor is its latest successful run: that run's windows
(each with its stored, mergeable profile) and how far it read the log (its
``LogMark``). A run starts from that state, reads the rows above the mark in
chunks of ``CHUNK_ROWS`` (and any that turned up in the mark's gaps), cuts
each chunk into the windows its rows belong to, profiles each piece once and
merges it into its window's profile; only windows that gained rows are judged
again, from the merged profile, never from raw rows. Windows that gained
nothing are copied to the new run as they were. A failed or killed run is not
successful, so it never moves the state: the next run reads the same rows.

A labelled monitor's window also keeps its rows' request ids and answers
(``Outputs``), because delayed labels can join any window: when the labels
change, every window's realised performance is recomputed from those.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import pandas as pd
from sqlalchemy import Table, insert, literal, select
from sqlalchemy.orm import Session

from steward.core.adapters.db.log_reads import LoggedRow
from steward.core.adapters.db.models import BatchRunRow, DriftWindowRow
from steward.core.domain.log_mark import LogMark
from steward.core.domain.monitoring import WindowRule
from steward.core.drift.profile import Profile, build_profile, merge
from steward.core.services.monitoring.windows import cut_pieces
from steward.core.services.predictions import EVENT_TIME, PREDICTED_LABEL, REQUEST_ID

CHUNK_ROWS = 50_000  # log rows per read: a run's memory is bounded by this, not by the log
_BOOKKEEPING = (REQUEST_ID, EVENT_TIME, PREDICTED_LABEL)


@dataclass
class Outputs:
    """A labelled window's rows as performance joins them: request ids, scores and predicted labels."""

    ids: builtins.list[str] = field(default_factory=list)
    scores: builtins.list[float | None] = field(default_factory=list)
    labels: builtins.list[Any] | None = None

    def extend(self, frame: pd.DataFrame, prediction_column: str) -> None:
        self.ids += [str(v) for v in frame[REQUEST_ID]]
        self.scores += [None if pd.isna(v) else float(v) for v in frame[prediction_column]]
        if PREDICTED_LABEL in frame.columns:
            start = len(self.ids) - len(frame)
            self.labels = (self.labels if self.labels is not None else [None] * start) + [
                _plain(v) for v in frame[PREDICTED_LABEL]
            ]

    def to_bytes(self) -> bytes:
        return zlib.compress(
            json.dumps({"ids": self.ids, "scores": self.scores, "labels": self.labels}).encode()
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Outputs:
        loaded = json.loads(zlib.decompress(data))
        return cls(list(loaded["ids"]), list(loaded["scores"]), loaded["labels"])

    def frame(self, prediction_column: str) -> pd.DataFrame:
        frame = pd.DataFrame(
            {REQUEST_ID: self.ids, prediction_column: pd.Series(self.scores, dtype="float64")}
        )
        if self.labels is not None:
            frame[PREDICTED_LABEL] = self.labels
        return frame


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


@dataclass
class WindowState:
    """One window as the run holds it: what the last run stored, plus the rows added since."""

    key: str
    label: str
    start: datetime | None
    end: datetime | None
    rows: int = 0
    old_position: int | None = None
    previous_id: int | None = None  # its row in the previous run, copied when nothing changed
    verdict: str = ""
    performance_status: str | None = None
    profile: Profile | None = None
    outputs: Outputs | None = None
    loaded: bool = False
    touched: bool = False
    position: int = 0


@dataclass(frozen=True)
class Prior:
    """The state a run starts from: the monitor's latest successful run of this version, if any."""

    run_id: str | None
    mark: LogMark
    labels_sha256: str
    windows: tuple[WindowState, ...]


def load_prior(session: Session, monitor_id: int, version_id: str) -> Prior:
    """The latest successful run's mark and window list (no profile is read: they load when touched)."""
    latest = session.execute(
        select(
            BatchRunRow.id,
            BatchRunRow.version_id,
            BatchRunRow.log_mark,
            BatchRunRow.log_gaps,
            BatchRunRow.labels_sha256,
        )
        .where(BatchRunRow.monitor_id == monitor_id, BatchRunRow.status.in_(("succeeded", "partial")))
        .order_by(BatchRunRow.started_at.desc())
        .limit(1)
    ).first()
    if latest is None or latest.version_id != version_id or not latest.log_mark:
        return Prior(
            None, LogMark(), "", ()
        )  # a new version (or a run before marks): read its log from the start
    windows = session.execute(
        select(
            DriftWindowRow.id,
            DriftWindowRow.position,
            DriftWindowRow.label,
            DriftWindowRow.window_start,
            DriftWindowRow.window_end,
            DriftWindowRow.rows,
            DriftWindowRow.verdict,
            DriftWindowRow.performance_status,
        )
        .where(DriftWindowRow.batch_run_id == latest.id)
        .order_by(DriftWindowRow.position)
    ).all()
    states = tuple(
        WindowState(
            key=str(w.position) if w.window_start is None else w.label,
            label=w.label,
            start=w.window_start,
            end=w.window_end,
            rows=w.rows,
            old_position=w.position,
            previous_id=w.id,
            verdict=w.verdict,
            performance_status=w.performance_status,
        )
        for w in windows
    )
    return Prior(latest.id, LogMark.parse(latest.log_mark, latest.log_gaps), latest.labels_sha256, states)


def log_frame(rows: Sequence[LoggedRow], prediction_column: str) -> pd.DataFrame:
    """Logged rows as the analysis reads them: inputs as logged, the answer, id and event time."""
    features = pd.DataFrame.from_records([json.loads(row.features_json) for row in rows])
    outputs = [json.loads(row.output_json) for row in rows]
    features[prediction_column] = pd.Series(
        [o.get("prediction") for o in outputs], dtype="float64", index=features.index
    )
    features[REQUEST_ID] = [row.request_id for row in rows]
    features[EVENT_TIME] = pd.to_datetime([row.event_time for row in rows], utc=True)
    if any("label" in o for o in outputs):
        features[PREDICTED_LABEL] = [o.get("label") for o in outputs]
    return features


def labels_digest(labels: pd.DataFrame | None) -> str:
    """A digest of the labels' content: unchanged labels leave unchanged windows alone."""
    if labels is None:
        return ""
    hashed = pd.util.hash_pandas_object(labels, index=False).to_numpy().tobytes()
    return hashlib.sha256(hashed + ",".join(map(str, labels.columns)).encode()).hexdigest()


class WindowFolder:
    """Folds new rows into a monitor's windows: each piece profiled once and merged into its window."""

    def __init__(
        self,
        rule: WindowRule,
        reference: Profile,
        prior: Prior,
        load: Callable[[int], tuple[bytes, bytes | None]],
        *,
        prediction_column: str,
        keep_outputs: bool,
    ) -> None:
        self.rule, self.reference, self._load = rule, reference, load
        self.prediction_column, self.keep_outputs = prediction_column, keep_outputs
        self.windows: dict[str, WindowState] = {w.key: w for w in prior.windows}
        self.rows = sum(w.rows for w in prior.windows)

    def add(self, frame: pd.DataFrame) -> None:
        """Rows in arrival order (the caller sorts a chunk by event time)."""
        if frame.empty:
            return
        time_column = EVENT_TIME if self.rule.period else None
        for piece in cut_pieces(frame, self.rule, time_column, rows_in_log=self.rows):
            state = self.windows.get(piece.key)
            if state is None:
                state = self.windows[piece.key] = WindowState(
                    piece.key, piece.label, piece.start, piece.end, loaded=True
                )
            self.ensure_loaded(state)
            inputs = piece.frame.drop(columns=[c for c in _BOOKKEEPING if c in piece.frame.columns])
            profile = build_profile(
                inputs, schema=self.reference.schema, max_points=self.reference.max_points
            )
            state.profile = profile if state.profile is None else merge(state.profile, profile)
            if self.keep_outputs:
                state.outputs = state.outputs or Outputs()
                state.outputs.extend(piece.frame, self.prediction_column)
            state.rows += len(piece.frame)
            state.label = piece.label
            state.touched = True
            self.rows += len(piece.frame)

    def ensure_loaded(self, state: WindowState) -> None:
        """Read a stored window's profile (and answers) the first time the run needs them."""
        if state.loaded:
            return
        assert state.previous_id is not None
        profile, outputs = self._load(state.previous_id)
        state.profile = Profile.from_bytes(profile)
        state.outputs = Outputs.from_bytes(outputs) if outputs else None
        state.loaded = True

    def ordered(self) -> builtins.list[WindowState]:
        """Every window in time (or row) order, with its position in the new run set."""
        if self.rule.rows:
            states = sorted(self.windows.values(), key=lambda w: int(w.key))
        else:
            states = sorted(self.windows.values(), key=lambda w: (w.start is None, w.start))
        for position, state in enumerate(states):
            state.position = position
        return states


_COPIED = (
    "pipeline_id",
    "version_id",
    "environment",
    "label",
    "window_start",
    "window_end",
    "rows",
    "verdict",
    "reason",
    "prediction_verdict",
    "quality_findings",
    "performance_status",
    "report_json",
    "performance_json",
    "profile",
    "outputs",
    "created_at",
)


def copy_windows(session: Session, run_id: str, windows: Sequence[WindowState]) -> None:
    """Carry unchanged windows into the new run inside the database (no profile passes through Python).

    One ``INSERT ... SELECT`` per position shift: windows keep their position
    unless a new calendar window was added before them.
    """
    by_shift: dict[int, builtins.list[int]] = {}
    for window in windows:
        assert window.previous_id is not None and window.old_position is not None
        by_shift.setdefault(window.position - window.old_position, []).append(window.previous_id)
    table = cast(Table, DriftWindowRow.__table__)
    for shift, ids in by_shift.items():
        source = select(
            literal(run_id),
            table.c.position + shift,
            *(table.c[name] for name in _COPIED),
        ).where(table.c.id.in_(ids))
        session.execute(insert(table).from_select(["batch_run_id", "position", *_COPIED], source))
