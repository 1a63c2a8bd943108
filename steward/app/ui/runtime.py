"""One ``Steward`` per configuration per server process, shared by all sessions."""

from __future__ import annotations

import os

import streamlit as st

from steward.core.domain.accounts import Actor
from steward.core.services.heartbeats import HeartbeatThread
from steward.core.setup.readiness import check_ready_to_serve
from steward.core.steward import Steward


def _settings_fingerprint() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((key, value) for key, value in os.environ.items() if key.startswith("STEWARD_")))


@st.cache_resource(show_spinner=False)
def _steward_for(fingerprint: tuple[tuple[str, str], ...]) -> Steward:
    """Keyed by the settings (an underscore name would not be hashed: every setting would share one)."""
    steward = Steward.open()
    check_ready_to_serve(steward)
    return steward


def get_steward() -> Steward:
    """The process's Steward for the current STEWARD_* settings (tests switch settings freely)."""
    return _steward_for(_settings_fingerprint())


def _stop_heartbeat(beat: HeartbeatThread) -> None:
    beat.stop()


@st.cache_resource(show_spinner=False, on_release=_stop_heartbeat)
def _heartbeat_for(fingerprint: tuple[tuple[str, str], ...]) -> HeartbeatThread:
    """One heartbeat per server process (and settings), however many sessions and reruns.

    ``st.cache_resource`` runs this once per key for the whole server, not per
    session; clearing the cache (tests do) stops the thread, which marks the
    app stopped. The app also looks for lost processes about once per
    heartbeat timeout, so a dead worker still opens its alert.
    """
    steward = _steward_for(fingerprint)
    return HeartbeatThread(steward.heartbeats, "app", "app", sweep=Actor.system_actor("app")).start()


def start_heartbeat() -> HeartbeatThread:
    """Start (once) the app's heartbeat thread for the current settings."""
    return _heartbeat_for(_settings_fingerprint())


def client_source() -> str:
    """The browser's address as Streamlit sees it, for throttling and the access log."""
    try:
        return str(st.context.ip_address or "")
    except Exception:  # outside a browser session (AppTest) there is none
        return ""
