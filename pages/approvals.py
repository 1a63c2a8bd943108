"""Approvals: promotion requests waiting for your sign-off."""

import streamlit as st

from app.ui.guard import require
from core.domain.permissions import Action

page = require(Action.VIEW_APPROVALS)
st.title("Approvals")
st.info(
    "No promotion requests are waiting. When a data scientist asks to promote a version, "
    "the request and its evidence appear here for the roles whose sign-off it needs."
)
