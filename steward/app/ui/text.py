"""Showing text people typed, as text.

Streamlit renders Markdown in most places; names and comments must never be
read as Markdown (a ``[x](javascript:...)`` link) or HTML. Prefer widgets that
render plain text (``st.text``, ``st.dataframe``, ``st.code``); when text has
to go into Markdown, pass it through :func:`md`.
"""

from __future__ import annotations

import re
from datetime import datetime

from steward.core.clock import utc

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$=:&\"'])")
_BIDI = dict.fromkeys(
    map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"), "\ufffd"
)


def md(value: object, limit: int = 500) -> str:
    """Escape every Markdown/HTML special character and neutralise bidirectional controls."""
    text = str(value).translate(_BIDI)
    if len(text) > limit:
        text = text[:limit] + "…"
    text = text.replace("\r", " ").replace("\n", " ")
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def plain(value: object, limit: int = 2000) -> str:
    """For dataframes and st.text: no escaping needed, but bidirectional overrides are defused."""
    text = "" if value is None else str(value).translate(_BIDI)
    return text if len(text) <= limit else text[:limit] + "…"
