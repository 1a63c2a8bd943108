"""Pipelines: data preparation and model, versioned together; and the data they train on."""

import pandas as pd
import streamlit as st

from app.ui.guard import require
from app.ui.text import plain, when
from core.domain.permissions import Action

page = require(Action.VIEW_PIPELINES)
st.title("Pipelines")

st.info(
    "No pipelines registered yet. A data scientist registers one from a spec with "
    "`steward pipelines register spec.toml`; each training run becomes an immutable version."
)

st.subheader("Data sets")
datasets = page.steward.datasets.list()
if not datasets:
    st.info("No data sets yet. Put a CSV file under the data folder's `datasets/` and register it.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Name": plain(d.name),
                    "Role": d.role,
                    "Rows": d.rows,
                    "Columns": len(d.columns),
                    "SHA-256": d.sha256[:16],
                    "Registered": when(d.registered_at),
                    "By": plain(d.registered_by),
                }
                for d in datasets
            ]
        ),
        hide_index=True,
    )
    attribution = next((d.attribution for d in datasets if d.attribution), "")
    if attribution:
        st.caption("Sample data: " + plain(attribution).replace("\n", " · "))
