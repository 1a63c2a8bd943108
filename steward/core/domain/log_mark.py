"""How far a reader has read an append-only log whose ids can become visible out of order.

On PostgreSQL ids are handed out before commit, so a row with a smaller id
can become visible after a larger one was read, and ``ON CONFLICT DO
NOTHING`` burns ids no row will ever hold. A mark is therefore the largest id
read plus the id ranges below it not seen yet ("gaps"). A reader looks the
gaps up by primary key on later reads; a row that turns up in one is read
then, and a gap nobody filled within ``GAP_PATIENCE`` (longer than any
transaction that writes the log) is dropped. Pure: no storage.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from steward.core.errors import InvalidInput

GAP_PATIENCE = timedelta(minutes=15)
MAX_GAPS = 2_000

Gap = tuple[int, int, str]  # lowest id, highest id, when first seen (ISO)


@dataclass(frozen=True)
class LogMark:
    last_id: int = 0
    gaps: tuple[Gap, ...] = ()

    @classmethod
    def parse(cls, last_id: int, gaps_json: str) -> LogMark:
        """A stored mark; anything malformed is refused (it would silently skip or repeat rows)."""
        try:
            gaps = tuple((int(a), int(b), str(c)) for a, b, c in json.loads(gaps_json or "[]"))
        except (ValueError, TypeError) as problem:
            raise InvalidInput(f"corrupt log mark: {problem}") from None
        return cls(int(last_id), gaps)

    def gaps_json(self) -> str:
        return json.dumps([list(g) for g in self.gaps])

    def advance(self, seen: Collection[int], now: datetime) -> LogMark:
        """The mark after reading ``seen`` (ids above ``last_id`` or inside a gap), gaps kept current.

        Ids in a gap that were seen close it; ids above the old mark move it,
        and every id skipped on the way becomes a gap stamped ``now``. Gaps
        older than ``GAP_PATIENCE`` are dropped, the oldest first past ``MAX_GAPS``.
        """
        ordered = sorted(seen)
        kept = _remove_found(self.gaps, [i for i in ordered if i <= self.last_id])
        above = [i for i in ordered if i > self.last_id]
        last = self.last_id
        if above:
            # The very first read has no earlier mark: ids below its first row are not a gap.
            previous = self.last_id if self.last_id > 0 else above[0] - 1
            stamp = now.isoformat()
            kept.extend((low, high, stamp) for low, high in _gaps_after(previous, above))
            last = above[-1]
        cutoff = now - GAP_PATIENCE
        fresh = [g for g in kept if datetime.fromisoformat(g[2]) >= cutoff][-MAX_GAPS:]
        return LogMark(last, tuple(fresh))


def _gaps_after(previous: int, ids: Sequence[int]) -> list[tuple[int, int]]:
    """The id ranges between ``previous`` and the largest of ``ids`` (ascending) that no id holds."""
    gaps, expected = [], previous + 1
    for row_id in ids:
        if row_id > expected:
            gaps.append((expected, row_id - 1))
        expected = row_id + 1
    return gaps


def _remove_found(gaps: Sequence[Gap], found: Sequence[int]) -> list[Gap]:
    """Split each gap around the (ascending) ids that turned up in it."""
    kept: list[Gap] = []
    for low, high, seen in gaps:
        cursor = low
        for row_id in found:
            if row_id < low or row_id > high:
                continue
            if row_id > cursor:
                kept.append((cursor, row_id - 1, seen))
            cursor = row_id + 1
        if cursor <= high:
            kept.append((cursor, high, seen))
    return kept
