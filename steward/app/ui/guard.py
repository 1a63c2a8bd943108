"""The first line of every page: who is here, and may they be?"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from steward.app.ui.runtime import get_steward
from steward.app.ui.text import md
from steward.core.domain.accounts import Actor
from steward.core.domain.permissions import Action, is_allowed
from steward.core.steward import Steward

ACTOR_KEY = "steward_actor"


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
