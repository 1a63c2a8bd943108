"""SLA targets on the Service health page: what each deployment is held to, and a small form to set them.

Operators and admins set the targets (the service checks; the form is only
hidden from others). A field left empty is a target not checked. The error
rate is typed in percent and stored as a fraction.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from steward.app.ui.guard import attempt
from steward.app.ui.text import md, plain, when
from steward.core.domain.accounts import Actor
from steward.core.domain.environments import Environment
from steward.core.domain.permissions import Action, is_allowed
from steward.core.domain.sla import DEFAULT_WINDOW_MINUTES, MAX_WINDOW_MINUTES, DeploymentSla, SlaTargets
from steward.core.steward import Steward


def targets_line(sla: DeploymentSla | None) -> str:
    """One line for captions: the targets, or that none are set."""
    if sla is None or sla.targets.empty:
        return "no SLA targets set"
    return "; ".join(sla.targets.describe()) + f" over {sla.targets.window_minutes} min"


def render_sla_section(steward: Steward, actor: Actor, environments: list[Environment]) -> None:
    """Every deployment's targets in one table, and the form for those who may change them."""
    st.subheader("SLA targets")
    targets = steward.sla.list()
    if targets:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Environment": plain(t.environment_name),
                        "Pipeline": plain(t.pipeline_name),
                        "Targets": plain("; ".join(t.targets.describe()) or "none"),
                        "Window": f"{t.targets.window_minutes} min",
                        "Set by": plain(t.updated_by),
                        "When": when(t.updated_at),
                    }
                    for t in targets
                ]
            ),
            hide_index=True,
            key="sla_targets_table",
        )
    else:
        st.caption("No deployment has SLA targets yet, so load tests and traffic are judged against nothing.")
    if not is_allowed(actor.roles, Action.MANAGE_SLA):
        return
    pipelines = [overview.pipeline.name for overview in steward.pipelines.list()]
    if not pipelines or not environments:
        return
    with st.expander("Set SLA targets", key="sla_expander"):
        c1, c2 = st.columns(2)
        environment = str(c1.selectbox("Environment", [e.name for e in environments], key="sla_env"))
        pipeline = str(c2.selectbox("Pipeline", pipelines, key="sla_pipeline"))
        current = next(
            (t for t in targets if t.environment_name == environment and t.pipeline_name == pipeline), None
        )
        now = current.targets if current is not None else SlaTargets()
        st.caption(f"{md(pipeline)} in {md(environment)}: {md(targets_line(current))}.")
        with st.form(f"sla_form_{environment}_{pipeline}", clear_on_submit=False):
            l1, l2, l3 = st.columns(3)
            p50 = l1.number_input(
                "p50 ms", min_value=0.0, value=now.p50_ms, key=f"sla_p50_{environment}_{pipeline}"
            )
            p95 = l2.number_input(
                "p95 ms", min_value=0.0, value=now.p95_ms, key=f"sla_p95_{environment}_{pipeline}"
            )
            p99 = l3.number_input(
                "p99 ms", min_value=0.0, value=now.p99_ms, key=f"sla_p99_{environment}_{pipeline}"
            )
            t1, t2, t3 = st.columns(3)
            rps = t1.number_input(
                "Minimum req/s",
                min_value=0.0,
                value=now.min_throughput_rps,
                key=f"sla_rps_{environment}_{pipeline}",
            )
            errors = t2.number_input(
                "Maximum errors %",
                min_value=0.0,
                max_value=100.0,
                value=None if now.max_error_rate is None else now.max_error_rate * 100,
                key=f"sla_err_{environment}_{pipeline}",
            )
            window = t3.number_input(
                "Window (minutes)",
                min_value=1,
                max_value=MAX_WINDOW_MINUTES,
                value=now.window_minutes or DEFAULT_WINDOW_MINUTES,
                key=f"sla_window_{environment}_{pipeline}",
            )
            if st.form_submit_button("Save SLA targets"):

                def save() -> DeploymentSla:
                    chosen = SlaTargets(
                        p50_ms=p50,
                        p95_ms=p95,
                        p99_ms=p99,
                        min_throughput_rps=rps,
                        max_error_rate=None if errors is None else float(errors) / 100,
                        window_minutes=int(window),
                    )
                    return steward.sla.set(
                        actor,
                        environment,
                        pipeline,
                        chosen,
                        expected_version=current.version if current is not None else 0,
                    )

                attempt(
                    save, lambda s: f"SLA of {s.pipeline_name} in {s.environment_name}: {targets_line(s)}"
                )
