"""Streamlit pages: thin scripts (guard, one service read, render).

Registered explicitly in ``steward.app.ui.navigation``.
"""
