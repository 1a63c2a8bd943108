"""Admin page: the scoring service's API keys (create, list, revoke); a new key's secret is shown once."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from steward.app.ui.guard import attempt
from steward.app.ui.text import plain, when
from steward.core.domain.accounts import Actor
from steward.core.domain.api_keys import IssuedKey
from steward.core.services.api_keys import ApiKeyService
from steward.core.steward import Steward

_SHOWN_ONCE = "api_key_secret_shown_once"


def render_api_keys(steward: Steward, actor: Actor) -> None:
    service = ApiKeyService(steward.ctx)
    st.subheader("Scoring API keys")
    st.caption(
        "Clients of the scoring service send a key in the X-API-Key header. A key is scoped to "
        "environments; only its hash is stored, so its secret is shown once, right after creation."
    )
    issued = st.session_state.pop(_SHOWN_ONCE, None)
    if isinstance(issued, IssuedKey):
        st.success(f"Key {issued.key.name} created. Copy the secret now: it is not shown again.")
        st.code(issued.secret, language=None)
    keys = service.list()
    if keys:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "#": k.id,
                        "Name": plain(k.name),
                        "Starts with": f"{k.prefix}…",
                        "Environments": ", ".join(k.environments),
                        "Created": f"{when(k.created_at)} by {plain(k.created_by)}",
                        "State": "active" if k.active else f"revoked by {plain(k.revoked_by or '')}",
                    }
                    for k in keys
                ]
            ),
            hide_index=True,
        )
    else:
        st.info("No keys yet: the scoring service answers every request 401 until one exists.")
    environments = [e.name for e in steward.environments.list()]
    with st.form("create_api_key", clear_on_submit=True):
        c1, c2 = st.columns(2)
        name = c1.text_input("Key name", help="Who or what uses it, e.g. loan-portal")
        scope = c2.multiselect("Environments", environments)
        if st.form_submit_button("Create key", type="primary"):

            def create() -> IssuedKey:
                new = service.create(actor, name, scope)
                st.session_state[_SHOWN_ONCE] = new
                return new

            attempt(create, lambda new: f"Key {new.key.name} created")
    active = [k for k in keys if k.active]
    if active:
        with st.form("revoke_api_key", clear_on_submit=True):
            c1, c2 = st.columns(2)
            chosen = c1.selectbox("Key", [k.id for k in active], format_func=lambda i: _label(keys, i))
            reason = c2.text_input("Reason")
            if st.form_submit_button("Revoke key"):
                attempt(lambda: service.revoke(actor, int(chosen), reason), f"Key #{chosen} revoked")


def _label(keys: list, key_id: int) -> str:  # type: ignore[type-arg]
    key = next(k for k in keys if k.id == key_id)
    return f"#{key.id} {key.name} ({', '.join(key.environments)})"
