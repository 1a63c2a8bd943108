"""Links between pages that respect who reads them: "see X" is a link, and only to a page you can open.

A hint that sends someone to a page their role cannot open is worse than no
hint: such a link is simply not drawn (the caller's words stand alone).
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from steward.app.ui.navigation import PAGES, PageSpec, page_spec
from steward.core.domain.accounts import Actor
from steward.core.domain.permissions import is_allowed


def may_open(actor: Actor, file: str) -> bool:
    """Whether ``actor``'s navigation holds the page (``pipelines.py``)."""
    return is_allowed(actor.roles, page_spec(file).action)


def card_params(pipeline: str, version: int) -> dict[str, str]:
    """The Pipelines page's deep link to one version's card (``?pipeline=...&version=...``)."""
    return {"pipeline": pipeline, "version": str(version)}


def page_url(spec: PageSpec, params: dict[str, str] | None = None) -> str:
    """The relative URL of a page with its query: what a link or a test compares against."""
    return spec.url_path + (f"?{urlencode(params)}" if params else "")


def see(actor: Actor, file: str, label: str, params: dict[str, str] | None = None) -> bool:
    """Draw a link to ``file`` labelled ``label`` if the actor may open it; say whether one was drawn."""
    if not may_open(actor, file):
        return False
    spec = page_spec(file)
    st.page_link(spec.path, label=label, icon=spec.icon, query_params=params or None)
    return True


def file_of(title: str) -> str | None:
    """The page file whose navigation title is ``title`` ("Infrastructure"), if there is one."""
    return next((page.file for page in PAGES if page.title == title), None)


def see_hint(actor: Actor, title: str, label: str = "") -> None:
    """A "see <page>" hint: a link when the reader may open that page, nothing when not."""
    file = file_of(title)
    if file is not None:
        see(actor, file, label or f"See {title}")
