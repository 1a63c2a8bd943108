"""The Overview's board: one row per pipeline and environment, four lights each, worst first.

Each light says its verdict in words and names the page (with filters) that
holds its evidence, so a colour is never the only thing a reader has.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from steward.core.domain.signals import Light

LIGHT_RANK = {Light.RED: 0, Light.AMBER: 1, Light.GREY: 2, Light.GREEN: 3}
LIGHT_WORDS = {Light.RED: "failing", Light.AMBER: "needs a look", Light.GREY: "not judged", Light.GREEN: "ok"}
QUESTIONS = ("Pipeline runs", "Data", "Infrastructure", "Service")


def link(page: str, **filters: str) -> str:
    """A page's URL path with its filters as query parameters (``/drift?pipeline=x&environment=Dev``)."""
    query = urlencode({k: v for k, v in filters.items() if v})
    return f"/{page}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class BoardLight:
    question: str  # one of QUESTIONS
    light: Light
    words: str  # the verdict and its reason, in words
    page: str  # the evidence page's title
    link: str  # its URL path with the filter set

    @property
    def label(self) -> str:
        return f"{self.question}: {LIGHT_WORDS[self.light]}"


@dataclass(frozen=True)
class BoardRow:
    pipeline: str
    environment: str
    position: int  # the environment's order, for ties
    version_number: int | None  # what serves there, None when nothing does
    lights: tuple[BoardLight, BoardLight, BoardLight, BoardLight]

    @property
    def worst(self) -> Light:
        return min((light.light for light in self.lights), key=LIGHT_RANK.__getitem__)


def worst_first(rows: list[BoardRow]) -> list[BoardRow]:
    """Worst light first, then the number of lights at each level, then pipeline and environment order."""

    def key(row: BoardRow) -> tuple[int, ...]:
        ranks = sorted(LIGHT_RANK[light.light] for light in row.lights)
        return (*ranks, row.position)

    return sorted(sorted(rows, key=lambda r: r.pipeline), key=key)
