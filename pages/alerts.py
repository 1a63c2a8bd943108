"""Alerts: what needs an operator's attention."""

import streamlit as st

from app.ui.guard import require
from core.domain.permissions import Action

page = require(Action.VIEW_ALERTS)
st.title("Alerts")
st.success("No open alerts. Monitors on pipelines, drift, service health and infrastructure raise them here.")
