"""The first line of every page: who is here, and may they be?"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st

from steward.app.ui.runtime import get_steward
from steward.app.ui.text import md
from steward.core.domain.accounts import Actor
from steward.core.domain.permissions import Action, is_allowed
from steward.core.errors import StewardError
from steward.core.steward import Steward

ACTOR_KEY = "steward_actor"
T = TypeVar("T")


@dataclass(frozen=True)
class PageContext:
    steward: Steward
    actor: Actor


def require(action: Action) -> PageContext:
    """Stop the page unless the entrypoint resumed a session whose roles allow ``action``."""
    actor = st.session_state.get(ACTOR_KEY)
    if not isinstance(actor, Actor):
        st.error("You are not signed in.")
        st.stop()
    if not is_allowed(actor.roles, action):
        st.error("You do not have access to this page.")
        st.stop()
    return PageContext(get_steward(), actor)


def flash(message: str, kind: str = "success") -> None:
    """A message to show after the next rerun (actions rerun to refresh the page)."""
    st.session_state.setdefault("steward_flash", []).append((kind, message))


def show_flashes() -> None:
    """Messages may quote what people typed, so they are shown as text, never as Markdown."""
    for kind, message in st.session_state.pop("steward_flash", []):
        getattr(st, kind if kind in {"success", "info", "warning", "error"} else "info")(md(message))


def attempt(action: Callable[[], T], success: str | Callable[[T], str]) -> None:
    """Run one service call for a button: its refusal is one line on the page, its success a flash.

    A refusal (:class:`StewardError`) may quote what was typed, so it is shown
    escaped, never as Markdown; on success the page reruns to show the change.
    """
    try:
        result = action()
    except StewardError as exc:
        st.error(md(str(exc), limit=1000))
        return
    flash(success(result) if callable(success) else success)  # flash escapes: it may quote typed names
    st.rerun()
