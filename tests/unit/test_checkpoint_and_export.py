"""Signed checkpoints and spreadsheet-safe exports."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from steward.core.domain.checkpoint import Checkpoint
from steward.core.domain.export import neutralise_cell, to_csv, to_json

KEY = b"k" * 32


def test_checkpoint_round_trips_and_verifies():
    point = Checkpoint(42, "ab" * 32, datetime(2026, 11, 26, 10, 0, 0, 123456, tzinfo=UTC)).signed(KEY)
    again = Checkpoint.from_json(point.to_json())
    assert again == point and again.signature_valid(KEY)


def test_checkpoint_signed_with_another_key_or_edited_is_invalid():
    point = Checkpoint(42, "ab" * 32, datetime(2026, 11, 26, tzinfo=UTC)).signed(KEY)
    assert not point.signature_valid(b"other-key")
    data = json.loads(point.to_json())
    data["seq"] = 41
    assert not Checkpoint.from_json(json.dumps(data)).signature_valid(KEY)


def test_not_a_checkpoint_is_refused():
    with pytest.raises(ValueError, match="not a Steward audit checkpoint"):
        Checkpoint.from_json('{"format": "other"}')


@pytest.mark.parametrize("cell", ["=1+1", "+cmd", "-2", "@SUM(A1)", "\t=x", "\r=x"])
def test_formula_cells_are_neutralised(cell):
    assert neutralise_cell(cell) == "'" + cell


def test_csv_keeps_hostile_text_verbatim_but_inert():
    hostile = ['=HYPERLINK("http://evil")', "<img src=x onerror=alert(1)>", "a\u202eb", "x" * 10_000]
    data = to_csv(["value"], [[value] for value in hostile]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    assert rows[0] == ["value"]
    assert rows[1][0] == '\'=HYPERLINK("http://evil")'
    assert [row[0] for row in rows[2:]] == hostile[1:]


def test_json_export_is_valid_and_lossless():
    records = [{"detail": "<script>", "n": 1}]
    assert json.loads(to_json(records)) == records
