"""Streamlit pages: thin scripts (guard, one service read, render), registered in ``steward.app.ui.navigation``."""
