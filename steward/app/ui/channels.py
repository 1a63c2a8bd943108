"""Notification channels: admins configure them on the Admin page; operators read the delivery log on Alerts.

Adding a channel is one service call (``attempt``), which checks the actor's
permission and audits it; these helpers only lay out what the service returns.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from steward.app.ui.guard import attempt
from steward.app.ui.text import plain, when
from steward.core.domain.accounts import Actor
from steward.core.steward import Steward


def render_channel_table(steward: Steward) -> None:
    channels = steward.notifications.channels()
    if not channels:
        st.caption("No channels yet: incidents are on the Alerts page and in the audit log only.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Channel": plain(c.name),
                    "Kind": c.kind.value,
                    "Target": plain(c.target, 200),
                    "From severity": c.min_severity.value,
                    "Pipelines": ", ".join(c.pipelines) or "all",
                    "Private allowed": c.allow_private,
                    "Enabled": c.enabled,
                }
                for c in channels
            ]
        ),
        hide_index=True,
    )


def render_delivery_log(steward: Steward, limit: int = 50) -> None:
    """Who was told what, and whether it arrived: every attempt, newest first."""
    log = steward.notifications.deliveries(limit)
    if not log:
        st.caption("Nothing delivered yet.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When": when(d.attempted_at),
                    "Channel": plain(d.channel_name),
                    "Message": plain(d.subject, 200),
                    "Attempt": d.attempt,
                    "OK": d.ok,
                    "Status": d.status_code,
                    "Error": plain(d.error, 300),
                }
                for d in log
            ]
        ),
        hide_index=True,
    )


def render_channel_form(steward: Steward, actor: Actor) -> None:
    """Add a webhook or e-mail channel (admins; the service refuses anyone else and checks the address)."""
    with st.form("add_channel", clear_on_submit=True):
        st.markdown("**Add a channel**")
        c1, c2 = st.columns(2)
        name = c1.text_input("Name")
        kind = c2.selectbox("Kind", ["webhook", "email"])
        target = st.text_input("Webhook URL, or smtp://host:port")
        c3, c4, c5 = st.columns(3)
        secret = c3.text_input("Signing secret (webhook)", type="password")
        recipients = c4.text_input("E-mail recipients (comma-separated)")
        min_severity = c5.selectbox("From severity", ["warning", "critical", "info"])
        pipelines = st.text_input("Only these pipelines (comma-separated; empty: all)")
        c6, c7 = st.columns(2)
        allow_private = c6.checkbox("Allow private / loopback addresses (explicit exception)")
        notify_people = c7.checkbox("E-mail: also the people a message is for (sign-off requests)")
        if st.form_submit_button("Add channel"):
            attempt(
                partial(
                    steward.notifications.add_channel,
                    actor,
                    name,
                    kind,
                    target,
                    secret=secret,
                    min_severity=min_severity,
                    pipelines=pipelines,
                    recipients=recipients,
                    allow_private=allow_private,
                    notify_people=notify_people,
                ),
                lambda c: f"Channel {c.name} added.",
            )
