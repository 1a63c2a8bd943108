"""A promotion request's evidence, said in plain language for the people who sign it off.

Used by the Approvals page (to decide) and the Deployments page (to execute).
Everything a person typed or a spec named goes through ``md()`` before it
reaches Markdown; tables get ``plain()``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from steward.app.ui.charts_deployments import metrics_figure, roc_figure
from steward.app.ui.links import card_params, see
from steward.app.ui.text import md, plain, when
from steward.core.domain.accounts import Actor
from steward.core.domain.gates import GateStatus
from steward.core.domain.metrics import metric_phrase
from steward.core.domain.promotions import Decision, Evidence, MetricRow
from steward.core.domain.signoff import role_phrase

# Material icons, not emoji: a browser without an emoji font (a server's Chromium) shows emoji as boxes.
ICON = {
    GateStatus.PASSED: ":green[:material/check_circle:]",
    GateStatus.FAILED: ":red[:material/cancel:]",
    GateStatus.PENDING: ":orange[:material/hourglass_top:]",
}
SIGNED, REJECTED, NOT_COUNTED = (
    ICON[GateStatus.PASSED],
    ICON[GateStatus.FAILED],
    ":gray[:material/radio_button_unchecked:]",
)
CHART_CONFIG = {"displaylogo": False}


def fmt(value: float | None) -> str:
    if value is None:
        return "not measured"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"


def headline(evidence: Evidence) -> str:
    """'credit-default v2 to Prod (request #5)', escaped for Markdown."""
    request = evidence.request
    what = f"{md(request.pipeline_name)} v{request.version_number} → {md(request.environment_name)}"
    return f"{what} (request #{request.id})"


def summary(evidence: Evidence) -> str:
    request, new, old = evidence.request, evidence.challenger, evidence.champion
    where = (
        f"where **v{old.number}** ({md(old.estimator)}) serves now"
        if old is not None
        else "where nothing serves for this pipeline yet"
    )
    return (
        f"**{md(request.requested_by_name)}** asks to put **{md(request.pipeline_name)} v{new.number}** "
        f"({md(new.estimator)}, trained by {md(new.trained_by)} on {new.data_rows:,} rows) into "
        f"**{md(request.environment_name)}**, {where}."
    )


def comparison(evidence: Evidence) -> str:
    """The primary metric, champion against challenger, in one sentence."""
    row = next((r for r in evidence.metric_rows if r.metric == evidence.primary_metric), None)
    if row is None:
        return "The version records no primary metric."
    name = metric_phrase(row.metric)
    holdout = f"{evidence.challenger.holdout_rows:,} hold-out rows"
    if evidence.champion is None or row.champion is None:
        return f"On its {holdout}, {md(name)} is **{fmt(row.challenger)}**; nothing to compare it with yet."
    delta = row.delta or 0.0
    verdict = "better" if row.better else "worse" if row.better is False else "no different"
    if not evidence.same_holdout:
        return (
            f"{md(name)} is **{fmt(row.challenger)}** against **{fmt(row.champion)}** for "
            f"v{evidence.champion.number}, but the two were measured on **different hold-outs** "
            "(the training data changed): indicative only."
        )
    return (
        f"On the same {holdout}, {md(name)} is **{fmt(row.challenger)}** against **{fmt(row.champion)}** "
        f"for v{evidence.champion.number}: {verdict} by {abs(delta):.3f}"
        f" ({'higher' if row.higher_is_better else 'lower'} is better)."
    )


def metrics_table(rows: tuple[MetricRow, ...], new: str, old: str | None) -> pd.DataFrame:
    data = []
    for row in rows:
        line = {"Metric": metric_phrase(row.metric), new: fmt(row.challenger)}
        if old:
            line[old] = fmt(row.champion)
            line["Change"] = "-" if row.delta is None else f"{row.delta:+.4f}"
            line["Verdict"] = {True: "better", False: "worse", None: "same"}[row.better]
        data.append(line)
    return pd.DataFrame(data)


def render_charts(evidence: Evidence, key: str) -> None:
    new = f"v{evidence.challenger.number} (proposed)"
    old = f"v{evidence.champion.number} (serving)" if evidence.champion else None
    left, right = st.columns(2)
    with left:
        floors = dict(evidence.policy.gates.min_metrics)
        st.plotly_chart(
            metrics_figure(evidence.metric_rows, new, old, floors), config=CHART_CONFIG, key=f"{key}_metrics"
        )
    curves = [(new, evidence.challenger.roc)]
    if evidence.champion is not None:
        curves.append((old or "", evidence.champion.roc))
    usable = [(label, roc) for label, roc in curves if roc is not None]
    with right:
        if usable:
            st.plotly_chart(roc_figure(usable), config=CHART_CONFIG, key=f"{key}_roc")
        else:
            st.dataframe(metrics_table(evidence.metric_rows, new, old), hide_index=True)


def render_gates(evidence: Evidence) -> None:
    if not evidence.gates:
        st.markdown("No gates apply here.")
        return
    lines = [
        f"- {ICON[gate.status]} **{md(gate.title)}**: {gate.status.value} ({md(gate.detail)})"
        for gate in evidence.gates
    ]
    st.markdown("\n".join(lines))


def render_signoff(evidence: Evidence) -> None:
    policy, result = evidence.policy.signoff, evidence.signoff
    if not policy.needs_approval:
        st.markdown(f"{md(evidence.policy.environment)} needs no sign-off.")
        return
    counted = dict(result.counted)
    lines = [f"{md(evidence.policy.environment)} asks for {md(policy.describe())}."]
    for approval in evidence.request.approvals:
        who = f"**{md(approval.approver_name)}** ({md(approval.approver)})"
        at = md(when(approval.decided_at))
        comment = f": “{md(approval.comment, limit=300)}”" if approval.comment else ""
        if approval.decision is Decision.REJECT:
            lines.append(f"- {REJECTED} {who} rejected, {at}{comment}")
        elif approval.approver in counted:
            lines.append(
                f"- {SIGNED} {who} signed as {md(counted[approval.approver].label.lower())}, {at}{comment}"
            )
        else:
            why = dict(result.ignored).get(approval.approver, "not counted")
            lines.append(f"- {NOT_COUNTED} {who} signed, {at}, but it does not count: {md(why)}{comment}")
    if result.satisfied:
        until = f" until {md(when(result.holds_until))}" if result.holds_until else ""
        lines.append(f"\n**Sign-off complete**{until}.")
    else:
        lines.append(f"\n**Still needed:** {md(result.describe_missing())}.")
    st.markdown("\n".join(lines))


def render_lineage(evidence: Evidence) -> None:
    new, old = evidence.challenger, evidence.champion
    rows = [
        ("Artifact SHA-256 (what is approved)", new.artifact_sha256, old.artifact_sha256 if old else "-"),
        ("Training data digest", new.data_digest, old.data_digest if old else "-"),
        ("Spec digest", new.spec_digest, old.spec_digest if old else "-"),
        ("Estimator", new.estimator, old.estimator if old else "-"),
        (
            "Training rows / hold-out rows",
            f"{new.data_rows:,} / {new.holdout_rows:,}",
            f"{old.data_rows:,} / {old.holdout_rows:,}" if old else "-",
        ),
        (
            "Trained by, at",
            f"{new.trained_by}, {when(new.trained_at)}",
            f"{old.trained_by}, {when(old.trained_at)}" if old else "-",
        ),
        ("Data source", new.source or "-", old.source if old else "-"),
        ("Code version", new.code_version or "-", (old.code_version or "-") if old else "-"),
    ]
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "": what,
                    f"v{new.number} (proposed)": plain(a),
                    (f"v{old.number} (serving)" if old else "serving"): plain(b),
                }
                for what, a, b in rows
            ]
        ),
        hide_index=True,
    )
    route = ", then ".join(f"{name} since {when(at)}" for name, at in evidence.path)
    st.caption(
        "Route so far: "
        + (plain(route) if route else "straight from the registry (first environment).")
        + " Approvals are bound to the artifact SHA-256 above: if the file changes, they are void "
        "and execution is refused."
    )


def render_evidence(evidence: Evidence, *, key: str, charts: bool = True) -> None:
    """Everything a reviewer reads before signing: who asks what and why, the comparison, gates, sign-offs."""
    st.markdown(summary(evidence))
    st.markdown("> " + md(evidence.request.reason, limit=1000))
    st.markdown(comparison(evidence))
    if charts:
        render_charts(evidence, key)
    left, right = st.columns(2)
    with left:
        st.markdown("**Gates**")
        render_gates(evidence)
    with right:
        st.markdown("**Sign-off**")
        render_signoff(evidence)
    with st.expander("Lineage and digests", key=f"{key}_lineage"):
        render_lineage(evidence)


def missing_phrase(evidence: Evidence) -> str:
    """For tables: what a request waits for, or that it is ready."""
    if not evidence.request.open:
        return evidence.request.status.value
    blockers = []
    if not evidence.signoff.satisfied:
        blockers.append("sign-off from " + ", ".join(role_phrase(r, n) for r, n in evidence.signoff.missing))
    blockers += [f"gate {g.title} ({g.status.value})" for g in evidence.failing_gates]
    return "waiting for " + "; ".join(blockers) if blockers else "ready to deploy"


def serving_phrase(evidence: Evidence) -> str:
    """What serves in the target environment now, the version a sign-off would replace."""
    request, old = evidence.request, evidence.champion
    if old is None:
        return f"Nothing serves {md(request.pipeline_name)} in {md(request.environment_name)} yet."
    return (
        f"Serving {md(request.environment_name)} now: **v{old.number}** ({md(old.estimator)}, "
        f"trained by {md(old.trained_by)} on {old.data_rows:,} rows)."
    )


def card_links(actor: Actor, evidence: Evidence) -> None:
    """One click to the card of the version under review, and beside it what serves where it would go."""
    request, old = evidence.request, evidence.champion
    left, right = st.columns(2)
    with left:
        see(
            actor,
            "pipelines.py",
            f"Model card of {request.pipeline_name} v{request.version_number} (under review)",
            card_params(request.pipeline_name, request.version_number),
        )
    with right:
        st.markdown(serving_phrase(evidence))
        if old is not None:
            see(
                actor,
                "pipelines.py",
                f"Model card of v{old.number} (serving {request.environment_name})",
                card_params(request.pipeline_name, old.number),
            )
