"""Operating a deployment from the Deployments page: fail over and back, and load-test what serves.

Each move is one click once confirmed: the confirmation names the version
that will serve, the pipeline and the environment, and a reason goes to the
ledger. The services decide and check permissions (Prod: operators and
admins); controls are only hidden from people who may not use them.

A load test's traffic comes from a runner process the app starts
(``steward.app.loadtest.launch``): Locust never runs inside the app. The page
follows its progress from the database.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pandas as pd
import streamlit as st

from steward.app.loadtest import launch, target_url
from steward.app.ui.confirm import confirmed, deploy_statement, fresh, reset
from steward.app.ui.guard import attempt, flash
from steward.app.ui.links import see_hint
from steward.app.ui.text import md, plain, when
from steward.core.domain.accounts import Actor
from steward.core.domain.loadtest import (
    MAX_DURATION_SECONDS,
    MAX_RPS,
    LoadPlan,
    LoadTestRun,
    LoadTestStatus,
    RowSource,
)
from steward.core.domain.permissions import Action, is_allowed
from steward.core.domain.promotions import (
    Deployment,
    EnvironmentPolicy,
    LedgerEntry,
    PromotionRequest,
    RequestStatus,
)
from steward.core.domain.sla import SlaTargets, judge, percent
from steward.core.errors import StewardError
from steward.core.steward import Steward

WATCHED = "loadtest_watched"


def _key(deployment: Deployment, name: str) -> str:
    return f"{name}_{deployment.environment_id}_{deployment.pipeline_id}"


def _move_key(deployment: Deployment, name: str) -> str:
    """Keyed by the pointer's version too: a confirmation given for one move never carries to the next."""
    return f"{_key(deployment, name)}_{deployment.version}"


def _moved(entry: LedgerEntry) -> str:
    return (
        f"{entry.pipeline_name} {entry.label} now serves in {entry.environment_name} "
        f"({entry.kind.value}, ledger entry #{entry.id})"
    )


def render_operations(steward: Steward, actor: Actor, serving: list[Deployment]) -> None:
    """The "Operate" section: nothing is drawn for people who may neither fail over nor load-test."""
    usable = [
        d
        for d in serving
        if is_allowed(actor.roles, Action.FAILOVER, d.tier)
        or is_allowed(actor.roles, Action.LOAD_TEST, d.tier)
    ]
    if not usable:
        return
    st.subheader("Operate")
    labels = {f"{d.environment_name} · {d.pipeline_name}": d for d in usable}
    chosen = st.selectbox("Deployment", list(labels), key="operate_choice")
    deployment = labels[str(chosen)]
    if deployment.on_fallback:
        st.markdown(
            f"**{md(deployment.pipeline_name)}** in **{md(deployment.environment_name)}** serves the "
            f"**fallback v{deployment.version_number}** since {md(when(deployment.since))}; "
            f"the primary v{deployment.fallback_number} is armed to fail back to."
        )
    else:
        armed = (
            f"fallback v{deployment.fallback_number} armed" if deployment.fallback_number else "no fallback"
        )
        st.markdown(
            f"**{md(deployment.pipeline_name)} v{deployment.version_number}** serves "
            f"**{md(deployment.environment_name)}** ({armed})."
        )
    failover, loadtest = st.columns(2)
    with failover:
        if is_allowed(actor.roles, Action.FAILOVER, deployment.tier):
            _failover_control(steward, actor, deployment)
    with loadtest:
        if is_allowed(actor.roles, Action.LOAD_TEST, deployment.tier):
            _load_test_control(steward, actor, deployment)
    _load_test_history(steward, deployment)


def _failover_control(steward: Steward, actor: Actor, deployment: Deployment) -> None:
    with st.container(border=True):
        if deployment.fallback_number is None:
            st.caption("Nothing to fail over to: a fallback is armed once a second version has served here.")
            return
        back = deployment.on_fallback
        to, now = deployment.fallback_number, deployment.version_number
        where = f"{deployment.pipeline_name} in {deployment.environment_name}"
        st.markdown("**Fail back to the primary**" if back else "**Fail over to the fallback**")
        reason = st.text_input("Why (kept in the ledger)", key=_move_key(deployment, "failover_reason"))
        sure = confirmed(
            f"make v{to} serve {where} instead of v{now}", _move_key(deployment, "failover_confirm")
        )
        service = steward.deployments
        move = service.failback if back else service.failover
        label = f"Fail back to v{to}" if back else f"Fail over to v{to}"
        if st.button(label, type="primary", disabled=not sure, key=_move_key(deployment, "failover_button")):
            attempt(
                partial(
                    move,
                    actor,
                    deployment.environment_name,
                    deployment.pipeline_name,
                    reason,
                    expected_version=deployment.version,
                ),
                _moved,
            )


def _load_test_control(steward: Steward, actor: Actor, deployment: Deployment) -> None:
    with st.container(border=True):
        st.markdown("**Load test**")
        sla = steward.sla.get(deployment.environment_name, deployment.pipeline_name)
        held = "; ".join(sla.targets.describe()) if sla is not None else ""
        if held:
            st.caption(f"Held to: {md(held)}.")
        else:
            st.caption(f"No SLA targets for {md(deployment.pipeline_name)} here yet.")
            see_hint(actor, "Service health", "Set them on Service health")
        c1, c2 = st.columns(2)
        rps = c1.number_input("Requests per second", 1, MAX_RPS, 20, key=_key(deployment, "lt_rps"))
        seconds = c2.number_input("Seconds", 1, MAX_DURATION_SECONDS, 10, key=_key(deployment, "lt_seconds"))
        rows = st.radio(
            "Rows to replay",
            [RowSource.SAMPLE.value, RowSource.LOGGED.value],
            format_func=lambda v: "the version's training rows" if v == "sample" else "logged requests",
            horizontal=True,
            key=_key(deployment, "lt_rows"),
        )
        label = f"Load-test v{deployment.version_number} in {deployment.environment_name}"
        if st.button(label, key=_key(deployment, "lt_button")):
            _start(steward, actor, deployment, LoadPlan(int(rps), int(seconds), RowSource(str(rows))))


def _start(steward: Steward, actor: Actor, deployment: Deployment, plan: LoadPlan) -> None:
    try:
        run = steward.loadtests.request(
            actor,
            deployment.environment_name,
            deployment.pipeline_name,
            plan,
            target_url=target_url(steward.settings),
        )
    except StewardError as problem:
        st.error(md(str(problem), limit=1000))
        return
    try:
        launch(steward.settings, run.id)
    except OSError as problem:
        steward.loadtests.fail(run.id, f"the runner could not start: {problem}")
        st.error(md(f"The load test could not start: {problem}"))
        return
    st.session_state[WATCHED] = run.id
    flash(f"Load test #{run.id} of {run.label} started: {plan.rps} req/s for {plan.duration_seconds} s")
    st.rerun()


def verdict_text(run: LoadTestRun, targets: SlaTargets | None) -> str:
    if not run.status.finished:
        return run.status.value
    if run.status is LoadTestStatus.FAILED:
        return f"failed: {run.detail}"
    if targets is None or targets.empty:
        return "no SLA to judge against"
    problems = [b.message for b in judge(run.measurement, targets).breaches]
    if run.other_answers:
        problems.append(f"{run.other_answers} answers from another version or the fallback")
    return "breach: " + "; ".join(problems) if problems else "within the SLA"


def _load_test_history(steward: Steward, deployment: Deployment) -> None:
    runs = steward.loadtests.list(deployment.environment_name, deployment.pipeline_name, limit=10)
    active = next((r for r in runs if not r.status.finished), None)
    if active is not None:
        _progress(steward, active.id)
    if not runs:
        st.caption("No load test has run against this deployment yet.")
        return
    sla = steward.sla.get(deployment.environment_name, deployment.pipeline_name)
    targets = sla.targets if sla is not None else None

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    st.dataframe(
        pd.DataFrame(
            [
                {
                    "#": r.id,
                    "When": when(r.requested_at),
                    "Version": f"v{r.version_number}",
                    "Load": f"{r.plan.rps} req/s × {r.plan.duration_seconds} s ({r.plan.rows.value})",
                    "Requests": r.requests,
                    "p50 ms": ms(r.p50_ms),
                    "p95 ms": ms(r.p95_ms),
                    "p99 ms": ms(r.p99_ms),
                    "Throughput": "-" if r.throughput_rps is None else f"{r.throughput_rps:.1f} req/s",
                    "Errors": "-" if r.error_rate is None else percent(r.error_rate),
                    "Verdict": plain(verdict_text(r, targets), limit=300),
                    "Run by": plain(r.requested_by_name),
                }
                for r in runs
            ]
        ),
        hide_index=True,
        key=_key(deployment, "lt_history"),
    )


@st.fragment(run_every=1.0)
def _progress(steward: Steward, run_id: int) -> None:
    """Redrawn every second while the run lasts; the whole page reruns once it has finished."""
    run = steward.loadtests.get(run_id)
    now = steward.ctx.clock.now()
    if run.status.finished:
        if st.session_state.pop(WATCHED, None) == run_id:
            st.rerun()
        return
    if run.stale(now):
        st.warning(f"Load test #{run.id}: the runner stopped answering; it will be closed.")
        return
    with st.status(f"Load test #{run.id} of {md(run.label)}: {run.status.value}", expanded=True):
        st.progress(
            run.progress(now),
            text=f"{run.requests} requests answered of about {run.plan.rps * run.plan.duration_seconds}",
        )


def deploy_control(
    steward: Steward,
    actor: Actor,
    request: PromotionRequest,
    serving_number: int | None,
    success: Callable[[LedgerEntry], str],
    key: str,
) -> None:
    """Deploy a signed-off request: tick the box that names what will serve where, then click."""
    statement = deploy_statement(
        request.pipeline_name, request.version_number, request.environment_name, serving_number
    )
    sure = confirmed(statement, f"{key}_confirm")
    label = f"Deploy {request.pipeline_name} v{request.version_number} to {request.environment_name}"
    if st.button(label, type="primary", disabled=not sure, key=key):
        attempt(
            partial(steward.promotions.execute, actor, request.id, expected_version=request.version),
            success,
        )


def rollback_control(
    steward: Steward,
    actor: Actor,
    entry: LedgerEntry,
    current: Deployment,
    success: Callable[[LedgerEntry], str],
) -> None:
    """Roll back to a ledger entry's version: a reason, a box naming both versions, then the button."""
    form = f"rollback_{entry.id}"
    with st.container(border=True):
        st.markdown(
            f"Roll **{md(entry.environment_name)}** back to **{md(entry.pipeline_name)} {entry.label}** "
            f"(serving now: v{current.version_number}). The rollback is a ledger entry of its own."
        )
        why = st.text_input("Why", key=fresh(form, f"rollback_reason_{entry.id}"))
        sure = confirmed(
            f"make {entry.pipeline_name} {entry.label} serve {entry.environment_name} "
            f"instead of v{current.version_number}",
            fresh(form, f"rollback_confirm_{entry.id}"),
        )

        def done(result: LedgerEntry) -> str:
            reset(form)
            return success(result)

        if st.button(
            f"Roll back to {entry.label}", disabled=not sure, key=fresh(form, f"rollback_{entry.id}")
        ):
            attempt(
                partial(steward.deployments.rollback, actor, entry.id, why, expected_version=current.version),
                done,
            )


REQUEST_FORM = "request_promotion"


def request_form(
    steward: Steward, actor: Actor, policies: dict[str, EnvironmentPolicy], order: list[str]
) -> None:
    """Ask for a promotion. Nothing is chosen for you, and a made request leaves an empty form."""
    pipelines = [o for o in steward.pipelines.list() if o.version_count]
    if not pipelines:
        st.caption("No trained pipeline yet.")
        return
    c1, c2, c3 = st.columns(3)
    name = c1.selectbox(
        "Pipeline", [o.pipeline.name for o in pipelines], key=fresh(REQUEST_FORM, "req_pipeline")
    )
    numbers = [v.number for v in reversed(steward.pipelines.versions(str(name)))]
    number = c2.selectbox(
        "Version", numbers, format_func=lambda n: f"v{n}", key=fresh(REQUEST_FORM, "req_version")
    )
    targets = dict(steward.promotions.targets(str(name), int(number)))
    open_targets = [env for env, problem in targets.items() if not problem] or order
    environment = c3.selectbox(
        "To",
        open_targets,
        index=None,
        placeholder="Choose an environment",
        key=fresh(REQUEST_FORM, "req_env"),
    )
    problem = targets.get(environment, "") if environment else ""
    if problem:
        st.caption(f"Not possible now: {md(problem)}.")
    elif environment in policies:
        policy = policies[str(environment)]
        gates = policy.gates.describe()
        st.caption(
            f"{md(str(environment))} asks for {md(policy.signoff.describe())}"
            + (f" and checks: {md('; '.join(gates))}." if gates else ".")
        )
    reason = st.text_area(
        "Why (the reviewers read this)", key=fresh(REQUEST_FORM, "req_reason"), max_chars=4000
    )

    def made(r: PromotionRequest) -> str:
        reset(REQUEST_FORM)
        if r.status is RequestStatus.EXECUTED:
            return f"{r.label}: deployed at once by {r.environment_name}'s policy"
        return f"Request #{r.id} made: {r.label}"

    if st.button(
        "Request promotion",
        type="primary",
        key=fresh(REQUEST_FORM, "request"),
        disabled=bool(problem) or environment is None,
    ):
        attempt(
            partial(steward.promotions.request, actor, str(name), int(number), str(environment), reason),
            made,
        )
