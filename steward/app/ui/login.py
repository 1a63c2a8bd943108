"""The sign-in page and the "no access yet" page."""

from __future__ import annotations

import os

import streamlit as st

from steward.app.ui.session import NOTICE_KEY, sign_in, sso_claims, sso_configured
from steward.app.ui.text import md
from steward.core.domain.accounts import Actor
from steward.core.setup.demo import DEMO_ACCOUNTS, DEMO_FLAG, DEMO_PASSWORD
from steward.core.steward import Steward


def render_login(steward: Steward) -> None:
    st.title("Steward")
    st.caption("The control room for your machine-learning pipelines. Sign in to continue.")
    notice = st.session_state.get(NOTICE_KEY)
    if notice:
        st.warning(notice)
    if st.session_state.get("steward_sso_ended") and sso_claims() is not None:
        st.info("This browser still holds an old single sign-on cookie; clear it to sign in again.")
        if st.button("Clear the old sign-in", key="clear_sso"):
            st.session_state.pop("steward_sso_ended", None)
            st.logout()
            st.stop()
        return
    left, _ = st.columns([2, 3])
    with left:
        if sso_configured():
            if st.button("Sign in with single sign-on", type="primary", key="sso_login", width="stretch"):
                st.login()
            st.caption("or with a local account")
        with st.form("login", enter_to_submit=True):
            username = st.text_input("User name", key="login_username", autocomplete="username")
            password = st.text_input(
                "Password", type="password", key="login_password", autocomplete="current-password"
            )
            submitted = st.form_submit_button(
                "Sign in", type="primary" if not sso_configured() else "secondary"
            )
        if submitted:
            with st.spinner("Checking..."):
                error = sign_in(steward, username, password)
            if error:
                st.error(error)
            else:
                st.rerun()
    if os.environ.get(DEMO_FLAG) == "1":
        render_demo_hint()


def render_demo_hint() -> None:
    """Only while the demo runs (``steward demo`` sets the flag): who to sign in as, and why."""
    with st.container(border=True):
        st.markdown(f"**This is the demo.** Every account's password is **{md(DEMO_PASSWORD)}**.")
        st.markdown(
            "\n".join(f"- **{md(a.username)}**: {md(a.display_name)}, {md(a.why)}" for a in DEMO_ACCOUNTS)
        )


def render_no_access(actor: Actor) -> None:
    st.title("No access yet")
    why = (
        "none of your groups gives you a role in Steward yet"
        if actor.auth_source == "oidc"
        else "your account has no role in Steward"
    )
    # No code span around the user name: Markdown escapes are shown literally inside one.
    st.markdown(f"You are signed in as **{md(actor.label)}** (user name {md(actor.username)}), but {why}.")
    st.info(
        "Ask a Steward admin to map one of your identity provider's groups to a role, "
        "or to grant you a role directly. Nothing here is visible until then."
    )
