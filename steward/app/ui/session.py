"""Who is signed in, decided afresh on every interaction.

Local accounts: the session token lives in ``st.session_state`` (a reload
means signing in again). SSO: Streamlit's cookie gives the ID-token claims,
and Steward resumes the server-side session those claims map to; logging out
revokes it, so a copied cookie is refused afterwards.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from steward.app.ui.guard import ACTOR_KEY
from steward.app.ui.runtime import client_source
from steward.core.domain.accounts import Actor
from steward.core.errors import AuthenticationFailed, StewardError
from steward.core.services.auth import SessionEnded, sso_token
from steward.core.steward import Steward

TOKEN_KEY = "steward_token"  # noqa: S105 - a session-state key, not a secret
NOTICE_KEY = "steward_auth_notice"


def sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


_CLAIM_TYPES = (str, int, float, bool, list, dict, type(None))


def sso_claims() -> dict[str, Any] | None:
    """The ID token's claims; ``st.user`` also holds ``tokens`` (a proxy, and secrets), never a claim."""
    try:
        if not st.user.get("is_logged_in"):
            return None
        return {
            key: value
            for key in st.user
            if key != "tokens" and isinstance(value := st.user[key], _CLAIM_TYPES)
        }
    except Exception:  # no [auth] section: st.user has no login state
        return None


def current_actor(steward: Steward) -> Actor | None:
    """Resume this browser's session, or None (with a notice saying why) when there is none."""
    st.session_state.pop(ACTOR_KEY, None)
    token = st.session_state.get(TOKEN_KEY)
    source = client_source()
    try:
        if token:
            actor = steward.auth.resume(token, source=source)
        else:
            claims = sso_claims()
            if claims is None:
                return None
            actor = steward.auth.sso_sign_in(claims, source=source)
            st.session_state[TOKEN_KEY] = sso_token(claims)
    except SessionEnded as ended:
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state[NOTICE_KEY] = str(ended)
        st.session_state["steward_sso_ended"] = sso_claims() is not None
        return None
    except AuthenticationFailed as failed:
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state[NOTICE_KEY] = str(failed)
        return None
    st.session_state[ACTOR_KEY] = actor
    return actor


def sign_in(steward: Steward, username: str, password: str) -> str | None:
    """Local sign-in; returns an error message to show, or None on success."""
    try:
        grant = steward.auth.login(username, password, source=client_source())
    except StewardError as exc:
        return str(exc)
    st.session_state[TOKEN_KEY] = grant.token
    st.session_state.pop(NOTICE_KEY, None)
    return None


def sign_out(steward: Steward, actor: Actor) -> None:
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        steward.auth.logout(token)
    st.session_state.pop(ACTOR_KEY, None)
    st.session_state[NOTICE_KEY] = "You signed out."
    if actor.auth_source == "oidc" and sso_claims() is not None:
        st.logout()  # clears Streamlit's cookie; the server-side session is already revoked
        st.stop()
    st.rerun()
