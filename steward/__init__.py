"""Steward: a control room for mature MLOps (deploy, monitor, manage, govern).

One importable package: ``steward.core`` is the engine, ``steward.app`` the
shells (Streamlit entrypoint, CLI, worker, scoring service), ``steward.pages``
the Streamlit pages, ``steward.sample_data`` the demo's data.
"""
