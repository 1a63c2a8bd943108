"""Deployments: what serves in each environment, and the ledger of what served when."""

import pandas as pd
import streamlit as st

from app.ui.guard import require
from app.ui.text import plain
from core.domain.permissions import Action

page = require(Action.VIEW_DEPLOYMENTS)
st.title("Deployments")

environments = page.steward.environments.list()
st.dataframe(
    pd.DataFrame(
        [
            {
                "Environment": env.name,
                "Tier": env.tier.value,
                "Serving": "nothing yet",
                "Purpose": plain(env.description),
            }
            for env in environments
        ]
    ),
    hide_index=True,
)
st.info("Nothing is deployed yet. Versions reach Dev, then Test, then Prod through promotion requests.")
