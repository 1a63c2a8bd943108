"""Drift: is production data different from training data?"""

import streamlit as st

from app.ui.guard import require
from core.domain.permissions import Action

page = require(Action.VIEW_DRIFT)
st.title("Drift and data quality")
st.info(
    "No drift checks yet. Once a pipeline is trained its reference profile is stored, and every "
    "window of production data is compared with it here."
)
