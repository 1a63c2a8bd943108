"""Service health: is the scoring service inside its SLA?"""

import streamlit as st

from app.ui.guard import require
from core.domain.permissions import Action

page = require(Action.VIEW_SERVICE_HEALTH)
st.title("Service health")
st.info(
    "No predictions logged yet. When the scoring service serves a deployment, its latency "
    "percentiles, throughput and error rate against the SLA appear here."
)
