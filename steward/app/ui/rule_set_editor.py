"""The Deployments page's rule-set fallback editor: edit the table, save a version, arm it, fail over to it.

One row per condition; rows with the same rule number are one rule (all its
conditions must hold) and the output is written on one of its rows; the
first rule that matches answers, the default answers the rest. Saving writes
a new version (an armed rule set follows it); ``steward.rule_sets`` checks it
against the serving version's schema and task, checks permissions and
audits. Controls are only shown to people who may fail over there.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from steward.app.ui.guard import attempt
from steward.app.ui.text import md, when
from steward.core.domain.accounts import Actor
from steward.core.domain.permissions import Action, is_allowed
from steward.core.domain.promotions import Deployment
from steward.core.domain.rule_sets import OPERATORS, TABLE_COLUMNS, RuleSetArm, RuleSetVersion, to_table
from steward.core.steward import Steward


def _key(deployment: Deployment, name: str, version: int) -> str:
    """Keyed by the saved version: after a save the editor starts again from what was saved."""
    return f"rules_{name}_{deployment.environment_id}_{deployment.pipeline_id}_{version}"


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def render_rule_set_editor(steward: Steward, actor: Actor, serving: list[Deployment]) -> None:
    """The "Fallback rule set" section (nothing is drawn for people who may not fail over anywhere)."""
    usable = [d for d in serving if is_allowed(actor.roles, Action.FAILOVER, d.tier)]
    if not usable:
        return
    st.subheader("Fallback rule set")
    st.caption(
        "A small table that answers when the model cannot: the first rule whose conditions all hold "
        "answers, the default answers the rest. Armed, it is what the circuit breaker falls back to; "
        "failed over to, it answers every request."
    )
    labels = {f"{d.environment_name} · {d.pipeline_name}": d for d in usable}
    deployment = labels[
        str(st.selectbox("Deployment whose fallback rule set to edit", list(labels), key="rules_choice"))
    ]
    env, pipeline = deployment.environment_name, deployment.pipeline_name
    latest = steward.rule_sets.latest(env, pipeline)
    arm = steward.rule_sets.arm_of(env, pipeline)
    schema, task = steward.rule_sets.input_contract(env, pipeline)
    _status(latest, arm)
    number = latest.number if latest else 0
    rows = to_table(latest.rule_set) if latest else []
    output_help = "a probability between 0 and 1" if task == "classification" else "the predicted value"
    edited = st.data_editor(
        pd.DataFrame(rows, columns=list(TABLE_COLUMNS)),
        num_rows="dynamic",
        hide_index=True,
        column_config={
            "rule": st.column_config.NumberColumn("Rule", min_value=1, step=1, required=True),
            "column": st.column_config.SelectboxColumn("Column", options=list(schema.names), required=True),
            "operator": st.column_config.SelectboxColumn("Operator", options=list(OPERATORS), required=True),
            "value": st.column_config.TextColumn(
                "Value", help="a number, a category, true/false; `in`: a, b"
            ),
            "output": st.column_config.NumberColumn("Output", help=output_help),
            "label": st.column_config.TextColumn("Label", help="classifiers only (optional)"),
        },
        key=_key(deployment, "table", number),
    )
    c1, c2 = st.columns(2)
    default = latest.rule_set.default if latest else None
    default_output = c1.number_input(
        f"Default output ({output_help})",
        value=default.prediction if default else 0.0,
        format="%g",
        key=_key(deployment, "default", number),
    )
    default_label = c2.text_input(
        "Default label",
        value=(default.label or "") if default else "",
        disabled=task != "classification",
        key=_key(deployment, "default_label", number),
    )
    comment = st.text_input("What changed (kept in the audit log)", key=_key(deployment, "comment", number))
    if st.button(f"Save as rule set v{number + 1}", key=_key(deployment, "save", number)):
        attempt(
            partial(
                steward.rule_sets.save_table,
                actor,
                env,
                pipeline,
                _rows(edited),
                default_output,
                default_label or None,
                comment,
                expected_number=number,
            ),
            lambda saved: (
                f"{pipeline} in {env}: {saved.label} saved" + (" and armed" if arm is not None else "")
            ),
        )
    if latest is not None:
        _arming(steward, actor, deployment, latest, arm)


def _status(latest: RuleSetVersion | None, arm: RuleSetArm | None) -> None:
    if latest is None:
        st.caption("No rule set yet: write its rules below and save.")
    elif arm is None:
        st.markdown(
            f"Latest: **{latest.label}** by {md(latest.created_by)}, "
            f"{md(when(latest.created_at))}; not armed."
        )
    elif arm.engaged:
        since = when(arm.engaged_at) if arm.engaged_at else "the fail-over"
        st.warning(md(f"{arm.version.label} answers every request since {since} (by {arm.engaged_by})."))
    else:
        st.markdown(f"**{arm.version.label}** is armed: the circuit breaker falls back to it.")


def _arming(
    steward: Steward, actor: Actor, deployment: Deployment, latest: RuleSetVersion, arm: RuleSetArm | None
) -> None:
    env, pipeline = deployment.environment_name, deployment.pipeline_name
    service = steward.rule_sets
    state = f"{arm.version.id}_{arm.row_version}" if arm else "none"
    key = f"rules_move_{deployment.environment_id}_{deployment.pipeline_id}_{state}"
    if arm is None:
        if st.button(f"Arm {latest.label}", key=f"{key}_arm"):
            attempt(
                partial(service.arm, actor, env, pipeline, latest.number),
                f"{latest.label} armed for {pipeline}",
            )
        return
    reason = st.text_input("Why (kept in the audit log)", key=f"{key}_reason")
    c1, c2 = st.columns(2)
    if arm.engaged:
        if c1.button("Fail back to the model", type="primary", key=f"{key}_back"):
            attempt(
                partial(service.failback, actor, env, pipeline, reason, expected=arm.row_version),
                f"{pipeline} in {env}: the model answers again",
            )
        return
    if c1.button(f"Fail over to {arm.version.label}", type="primary", key=f"{key}_over"):
        attempt(
            partial(service.failover, actor, env, pipeline, reason, expected=arm.row_version),
            f"{pipeline} in {env}: {arm.version.label} answers every request",
        )
    if c2.button("Disarm", key=f"{key}_disarm"):
        attempt(partial(service.disarm, actor, env, pipeline), f"{pipeline} in {env}: rule set disarmed")
