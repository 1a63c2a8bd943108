"""The log high-water mark and the window pieces: pure rules that let a monitor read only new rows."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from steward.core.domain.log_mark import GAP_PATIENCE, LogMark
from steward.core.domain.monitoring import parse_window
from steward.core.errors import InvalidInput
from steward.core.services.monitoring.windows import cut_pieces, cut_windows

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def test_the_first_read_has_no_gap_below_its_first_row_and_skipped_ids_become_gaps():
    mark = LogMark().advance([5, 6, 9, 12], NOW)
    assert mark.last_id == 12 and [g[:2] for g in mark.gaps] == [(7, 8), (10, 11)]


def test_a_late_row_closes_its_gap_and_an_unfilled_gap_is_dropped_after_the_patience():
    mark = LogMark().advance([1, 4], NOW)
    assert [g[:2] for g in mark.gaps] == [(2, 3)]
    later = mark.advance([3, 5], NOW + timedelta(minutes=1))
    assert later.last_id == 5 and [g[:2] for g in later.gaps] == [(2, 2)]
    assert later.advance([], NOW + GAP_PATIENCE + timedelta(seconds=1)).gaps == ()


def test_a_mark_survives_storage_and_a_corrupt_one_is_refused():
    mark = LogMark().advance([1, 3], NOW)
    assert LogMark.parse(mark.last_id, mark.gaps_json()) == mark
    with pytest.raises(InvalidInput, match="corrupt log mark"):
        LogMark.parse(3, "[[1]]")


@pytest.mark.parametrize("splits", [[0, 37], [0, 10, 11, 64], [0, 25, 50, 75]])
def test_row_windows_cut_in_pieces_are_the_windows_cut_in_one_go(splits):
    frame = pd.DataFrame({"x": range(100)})
    rule = parse_window("rows:25", None)
    whole = {w.label: list(w.frame["x"]) for w in cut_windows(frame, rule, None)}
    pieces: dict[str, list[int]] = {}
    labels: dict[str, str] = {}
    bounds = [*splits, len(frame)]
    for low, high in itertools.pairwise(bounds):
        for piece in cut_pieces(frame.iloc[low:high], rule, None, rows_in_log=low):
            pieces.setdefault(piece.key, []).extend(piece.frame["x"])
            labels[piece.key] = piece.label
    assert {labels[k]: v for k, v in pieces.items()} == whole


def test_calendar_pieces_are_keyed_by_their_period():
    frame = pd.DataFrame({"t": pd.to_datetime(["2026-01-03", "2026-02-01", "2026-01-30"], utc=True)})
    pieces = list(cut_pieces(frame, parse_window("month", "t"), "t"))
    assert [(p.key, len(p.frame)) for p in pieces] == [("2026-01", 2), ("2026-02", 1)]
