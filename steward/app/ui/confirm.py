"""A second look before an action that changes what serves, and forms that start afresh afterwards.

Every consequential move (approve, deploy, roll back, fail over) is one ticked
box naming the version, the pipeline and the environment, then one button:
the same pattern on every page, so nobody acts on a stray click. After an
action succeeds its form's widgets get new keys, so the next visit starts empty
(no old reason, no environment chosen for you).
"""

from __future__ import annotations

import streamlit as st

GENERATIONS = "steward_form_generations"


def fresh(form: str, name: str) -> str:
    """The widget key ``name`` in ``form``'s current generation (the first keeps the bare name)."""
    generation = st.session_state.get(GENERATIONS, {}).get(form, 0)
    return name if generation == 0 else f"{name}~{generation}"


def reset(form: str) -> None:
    """Give ``form``'s widgets new keys: after the rerun they show their defaults."""
    generations = st.session_state.setdefault(GENERATIONS, {})
    generations[form] = generations.get(form, 0) + 1


def confirmed(statement: str, key: str) -> bool:
    """A box to tick: "Yes, <statement>". The statement names what will serve where."""
    return bool(st.checkbox(f"Yes, {statement}", key=key))


def deploy_statement(pipeline: str, number: int, environment: str, serving: int | None) -> str:
    """'make credit-default v2 serve Prod instead of v1' (or 'first' when nothing serves there)."""
    instead = f" instead of v{serving}" if serving is not None else " (nothing serves there yet)"
    return f"make {pipeline} v{number} serve {environment}{instead}"
