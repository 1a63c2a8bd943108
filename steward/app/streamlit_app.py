"""Steward's Streamlit entrypoint: the login gate, then the navigation this user may see.

Run from the repository root: ``streamlit run app/streamlit_app.py``
(``make demo`` does it for you).
"""

from __future__ import annotations

import streamlit as st

from steward.app.logs import configure_logging
from steward.app.ui.guard import show_flashes
from steward.app.ui.login import render_login, render_no_access
from steward.app.ui.navigation import PAGES, build_navigation
from steward.app.ui.runtime import get_steward, start_heartbeat
from steward.app.ui.session import current_actor, sign_out
from steward.app.ui.text import md
from steward.core.errors import ConfigurationError

st.set_page_config(page_title="Steward", page_icon=":material/shield_person:", layout="wide")

try:
    configure_logging("app")  # once per rerun is cheap: it replaces its own handler
    steward = get_steward()
except ConfigurationError as problem:
    st.title("Steward cannot start")
    st.error(str(problem))
    st.stop()
start_heartbeat()  # once per server process: the Infrastructure page shows the app beside the worker

actor = current_actor(steward)

if actor is None:
    # Every page's address shows the sign-in form (not "page not found"): a bookmarked link
    # signs in to that page, or to the user's first page when their roles do not include it.
    login_pages = [st.Page(lambda: render_login(steward), title="Sign in", url_path="login", default=True)]
    login_pages += [
        st.Page(lambda: render_login(steward), title="Sign in", url_path=spec.url_path) for spec in PAGES
    ]
    st.navigation(login_pages, position="hidden").run()
    st.stop()

if not actor.roles:
    signed_in = actor
    with st.sidebar:
        if st.button("Sign out", key="sign_out"):
            sign_out(steward, signed_in)
    st.navigation(
        [st.Page(lambda: render_no_access(signed_in), title="No access", url_path="no-access")],
        position="hidden",
    ).run()
    st.stop()

navigation = st.navigation(build_navigation(actor))
with st.sidebar:
    st.markdown(f"**{md(actor.label)}**")
    st.caption(", ".join(role.label for role in sorted(actor.roles)))
    if st.button("Sign out", key="sign_out", icon=":material/logout:"):
        sign_out(steward, actor)
show_flashes()
navigation.run()
