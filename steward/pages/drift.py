"""Drift: is production data different from training data? Verdict over time, columns, evidence."""

from typing import Any

import pandas as pd
import streamlit as st

from steward.app.ui.charts_drift import VERDICT_WORDS, distribution_overlay, verdict_timeline
from steward.app.ui.charts_estimates import estimate_timeline
from steward.app.ui.guard import flash, require
from steward.app.ui.text import md, plain, when
from steward.core.domain.estimates import ESTIMATE_METRICS, PerformanceEstimates
from steward.core.domain.metrics import format_metric, metric_label
from steward.core.domain.monitoring import DriftPage, rejected_csv, rollup_periods
from steward.core.domain.permissions import Action
from steward.core.domain.registry import PRIMARY_METRIC
from steward.core.errors import StewardError

page = require(Action.VIEW_DRIFT)


PERFORMANCE_WORDS = {
    "ok": "as at training",
    "degraded": "worse than at training",
    "insufficient": "too few labels",
}
THRESHOLD_ON = {"statistic": "on the statistic", "adjusted_p_value": "on the adjusted p-value"}
COLUMN_HELP = {
    "p-value (raw)": "The test's own p-value for this column alone.",
    "p-value (adjusted)": "Adjusted across all columns (Benjamini-Hochberg) so that many columns do not "
    "multiply false alarms; the verdict and the window summary use this one.",
    "Past threshold": "How far the column is past its threshold, comparable across tests: above 1 means it "
    "drifted, 2 means twice as far as the threshold allows.",
    "Effect size": "Jensen-Shannon distance between training and production: 0 = identical, 1 = disjoint.",
}


def figure(value: object) -> str:
    """Numbers at three significant figures (p-values span 300 orders of magnitude)."""
    return f"{value:.3g}" if isinstance(value, float) else "-" if value is None else str(value)


def in_words(verdict: object) -> str:
    """A stored verdict (``no_drift``, ``insufficient``...) as the page says it."""
    return VERDICT_WORDS.get(str(verdict), str(verdict)) if verdict is not None else "-"


def show_estimates(estimates: PerformanceEstimates) -> None:
    """CBPE beside the realised figures, with the error measured where labels joined."""
    st.subheader("Performance before labels arrive")
    st.caption(
        "Estimated from the model's probabilities alone (confidence-based performance estimation, CBPE): "
        f"{estimates.calibration}. It assumes the relation between inputs and outcome is unchanged, so it is "
        "shown beside the realised figure once labels join; the gap between them is its measured error."
    )
    if estimates.note:
        st.info(md(estimates.note))
    if not estimates.windows:
        return
    st.plotly_chart(estimate_timeline(estimates), config={"displaylogo": False})
    rows = []
    for w in estimates.windows:
        row: dict[str, object] = {"Window": plain(w.label), "Rows": w.rows, "Labelled": w.labelled}
        for name in ESTIMATE_METRICS:
            label, error = metric_label(name), w.error(name)
            row[f"{label} estimated"] = format_metric(name, w.estimated.get(name))
            row[f"{label} realised"] = (
                format_metric(name, (w.realised or {}).get(name)) if w.realised else "-"
            )
            row[f"{label} error"] = f"{error:+.3f}" if error is not None else "no labels yet"
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    measured = [
        f"{metric_label(a.metric)} off by {a.mean_absolute_error:.3f} on average "
        f"(worst {a.worst_absolute_error:.3f}) over {a.windows} window(s)"
        for a in estimates.accuracy
    ]
    st.caption(
        ("Measured error: " + "; ".join(measured) + ".")
        if measured
        else "No window has labels yet: the error of the estimate is not measured."
    )


steward, actor = page.steward, page.actor
monitoring = steward.monitoring

st.title("Drift and data quality")
st.caption(
    "Production data compared with the data each version was trained on, window by window. "
    "Quality problems (missing values, type errors, out-of-range values, new categories) are reported "
    "apart from drift."
)


@st.cache_data(ttl=60, show_spinner=False, max_entries=32)
def read_page(
    _steward: object, who: object, monitor_id: int | None, pipeline: str | None, environment: str | None
) -> DriftPage:
    """The page's one read, kept a minute per user and choice: picking a window or column reruns the
    script, and would otherwise read and decode every window again. Cleared after any change."""
    return monitoring.page(actor, monitor_id, pipeline=pipeline, environment=environment)


@st.cache_data(ttl=300, show_spinner=False, max_entries=256)
def read_overlay(_steward: object, window_id: int, column: str) -> dict[str, Any] | None:
    """A window's distributions never change once stored."""
    return monitoring.overlay(window_id, column)


params = st.query_params
wanted_pipeline, wanted_env = params.get("pipeline"), params.get("environment")
wanted_monitor = params.get("monitor")
if "drift_monitor" not in st.session_state and wanted_monitor and wanted_monitor.isdigit():
    st.session_state["drift_monitor"] = int(wanted_monitor)
board = read_page(
    steward,
    (actor.username, sorted(actor.roles)),
    st.session_state.get("drift_monitor"),
    wanted_pipeline,
    wanted_env,
)
if board.filtered:
    st.caption(md(f"{board.filtered[0].upper()}{board.filtered[1:]}.") + " [Show every monitor](/drift)")
if board.chosen is None:
    st.info(
        "No monitors yet. A monitor watches a pipeline's deployment in one environment on a production data "
        "set: add one below or with `steward monitors add`. Each version's reference profile is stored when "
        "it is trained, so nothing needs to be reloaded."
    )
else:
    by_id = {m.id: m for m in board.monitors}
    if st.session_state.get("drift_monitor") not in by_id:
        st.session_state["drift_monitor"] = board.chosen.id  # a removed or filtered-out choice
    st.selectbox(
        "Monitor",
        list(by_id),
        key="drift_monitor",
        format_func=lambda i: (
            f"#{i} {by_id[i].pipeline_name} in {by_id[i].environment} on {by_id[i].dataset} "
            f"({by_id[i].window} windows, {by_id[i].mode})" + ("" if by_id[i].enabled else " · paused")
        ),
    )
    choice, last = board.chosen, board.last_run
    if not choice.enabled:
        st.warning(
            md(
                f"Monitor #{choice.id} is paused (by {choice.paused_by or 'someone'}, "
                f"{when(choice.paused_at)}): "
                "the worker does not run it and nobody can run it by hand until it is resumed. "
                "The evidence below is from its last run."
            )
        )
    left, right = st.columns([3, 1])
    with right:
        if (
            board.may_run
            and choice.enabled
            and st.button(
                "Run now",
                key="drift_run",
                type="primary",
                help="Score the production rows not answered yet with what serves now, log them, "
                "and check the prediction log",
            )
        ):
            with st.status("Scoring and comparing...", expanded=False) as status:
                try:
                    run = monitoring.run(actor, choice.id)
                except StewardError as problem:
                    status.update(label="The run could not start", state="error")
                    st.error(md(str(problem)))
                else:
                    status.update(label=f"Run {run.status}", state="complete")
                    flash(f"Run {run.status}: {run.detail}", "error" if run.status == "failed" else "success")
                    read_page.clear()
                    st.rerun()
    with left:
        if last is None:
            st.info("This monitor has not run yet.")
        elif last.status == "failed":
            st.error(md(f"The last run failed ({when(last.started_at)}): {last.detail}"))
        if last is not None and last.rows_rejected:
            st.warning(
                f"The last run set aside {last.rows_rejected:,} of {last.rows_in:,} rows "
                "that broke the schema."
            )
            st.download_button(
                "Download rejected rows with their reasons",
                rejected_csv(last.rejected),
                file_name=f"rejected-{last.id[:8]}.csv",
                mime="text/csv",
                key="drift_rejected",
            )
    if board.may_pause:
        with st.expander("Pause, resume or remove this monitor"):
            reason = st.text_input("Why (kept in the audit log)", key=f"drift_admin_reason_{choice.id}")
            what = (
                f"monitor #{choice.id} of {choice.pipeline_name} in {choice.environment} on {choice.dataset}"
            )
            a, b = st.columns(2)
            toggle = "Resume" if not choice.enabled else "Pause"
            if a.button(f"{toggle} {what}", key="drift_pause"):
                try:
                    changed = (monitoring.resume if toggle == "Resume" else monitoring.pause)(
                        actor, choice.id, reason
                    )
                except StewardError as problem:
                    st.error(md(str(problem)))
                else:
                    flash(f"Monitor #{changed.id} {'resumed' if changed.enabled else 'paused'}")
                    read_page.clear()
                    st.rerun()
            sure = b.checkbox(
                f"Yes, remove {what}: it leaves the pages and the schedule; its runs stay in the audit log",
                key=f"drift_remove_sure_{choice.id}",
            )
            if b.button("Remove", key="drift_remove", disabled=not sure, type="primary"):
                try:
                    monitoring.remove(actor, choice.id, reason)
                except StewardError as problem:
                    st.error(md(str(problem)))
                else:
                    flash(f"Monitor #{choice.id} removed; its history stays in the audit log")
                    st.session_state.pop("drift_monitor", None)
                    read_page.clear()
                    st.rerun()
    windows = list(board.windows)
    if windows:
        drifted = [w for w in windows if w.verdict == "drift"]
        judged = [w for w in windows if w.verdict != "insufficient"]
        cols = st.columns(4)
        cols[0].metric("Windows drifted", f"{len(drifted)} of {len(judged)}")
        cols[1].metric("Prediction drift", f"{sum(w.prediction_verdict == 'drift' for w in windows)} windows")
        cols[2].metric("Quality findings", sum(w.quality_findings for w in windows))
        degraded = sum(w.performance_status == "degraded" for w in windows)
        with_labels = sum(w.performance is not None for w in windows)
        cols[3].metric("Performance degraded", f"{degraded} of {with_labels}" if with_labels else "no labels")
        rate = windows[-1].report.get("false_alarm_rate")
        st.caption(
            f"Version v{windows[-1].version_number}, run {when(windows[-1].created_at)}. "
            + (
                f"Calibrated: under no drift a window's verdict is wrong at most {rate:.0%} of the time."
                if isinstance(rate, float)
                else "Fixed thresholds (see docs/drift.md for the defaults and why)."
            )
        )
        logged = board.logged
        if logged is not None and logged.predictions:
            versions = ", ".join(f"v{number}: {count:,}" for number, count in logged.by_version)
            st.caption(
                f"Prediction log of {choice.pipeline_name} in {choice.environment}: {logged.predictions:,} "
                f"requests answered ({versions}), events from {when(logged.first_event)} to "
                f"{when(logged.last_event)}. Windows are cut from this log; labels join on its request ids."
            )
        st.plotly_chart(
            verdict_timeline(windows, PRIMARY_METRIC.get(board.task or "")), config={"displaylogo": False}
        )
        periods = rollup_periods(choice.window)
        period = st.segmented_control(
            "Roll windows up into",
            periods,
            key="drift_rollup",
            help="Longer windows judged from the merged profiles of the windows inside them: "
            "no production row is read again.",
        )
        if period:
            rollups = monitoring.rollup(
                choice.pipeline_name, choice.environment, period, monitor_id=choice.id
            )
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Window": plain(r.label),
                            "Windows merged": r.windows,
                            "Rows": r.rows,
                            "Verdict": in_words(r.verdict),
                            "Predictions": in_words(r.prediction_verdict),
                            "Moved most": plain(", ".join(r.drifted[:5]) or "-"),
                            "Why": plain(r.reason, 400),
                        }
                        for r in rollups
                    ]
                ),
                hide_index=True,
            )
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Window": plain(w.label),
                        "Rows": w.rows,
                        "Verdict": in_words(w.verdict),
                        "Predictions": in_words(w.prediction_verdict),
                        "Quality findings": w.quality_findings,
                        "Performance": PERFORMANCE_WORDS.get(w.performance_status or "", "no labels"),
                        "Why": plain(w.reason, 400),
                    }
                    for w in windows
                ]
            ),
            hide_index=True,
        )
        if board.estimates is not None:
            show_estimates(board.estimates)
        pick = st.selectbox(
            "Look into a window",
            windows,
            index=len(windows) - 1,
            key="drift_window",
            format_func=lambda w: f"{w.label}: {VERDICT_WORDS.get(w.verdict, w.verdict)}",
        )
        st.subheader(f"Window {pick.label}")
        st.write(md(pick.reason, 2000))
        st.caption(
            "Columns that drifted first, the largest change first: the effect size is the Jensen-Shannon "
            "distance between the training and production distributions (0 = identical, 1 = nothing in "
            'common), whatever test decided the column. "Past threshold" says how far past its threshold '
            "a column is (above 1 = drifted). The raw p-value is the column's own; the adjusted one "
            "(Benjamini-Hochberg, across columns) is what the verdict and the summary above use."
        )
        columns = sorted(
            pick.report.get("columns", []),
            key=lambda c: (c.get("drift") is not True, -float(c.get("effect_size") or 0)),
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Column": plain(c["name"]),
                        "Role": c.get("role"),
                        "Kind": c.get("kind"),
                        "Test": c.get("test"),
                        "Statistic": figure(c.get("statistic")),
                        "Threshold": figure(c.get("threshold"))
                        + (
                            f" {THRESHOLD_ON[c['threshold_on']]}"
                            if c.get("threshold_on") in THRESHOLD_ON
                            else ""
                        ),
                        "p-value (raw)": figure(c.get("p_value")),
                        "p-value (adjusted)": figure(c.get("adjusted_p_value")),
                        "Effect size": figure(c.get("effect_size")),
                        "Past threshold": figure(c.get("severity")),
                        "Drift": in_words(c.get("status")),
                    }
                    for c in columns
                ]
            ),
            hide_index=True,
            column_config={name: st.column_config.Column(help=text) for name, text in COLUMN_HELP.items()},
        )
        names = [c["name"] for c in columns if c.get("kind") in ("numeric", "categorical")]
        if names:
            column = st.selectbox("Compare a column's distributions", names, key="drift_column")
            overlay = read_overlay(steward, pick.id, column)
            if overlay:
                st.plotly_chart(distribution_overlay(column, overlay), config={"displaylogo": False})
        findings = pick.report.get("quality", [])
        st.subheader("Data quality")
        if findings:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Check": f["check"],
                            "Column": plain(f.get("column") or "-"),
                            "Found": plain(f["message"], 400),
                        }
                        for f in findings
                    ]
                ),
                hide_index=True,
            )
        else:
            st.success("No data-quality findings in this window.")
        if pick.performance:
            st.subheader("Performance once labels arrived")
            perf = pick.performance
            st.write(
                md(
                    f"{perf.get('labelled', 0)} of {perf.get('predictions', 0)} predictions have labels: "
                    f"{perf.get('reason', '')}"
                )
            )
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Metric": metric_label(m["metric"]),
                            "In this window": format_metric(m["metric"], m["value"]),
                            "Hold-out at training": format_metric(m["metric"], m.get("baseline")),
                            "Worse than at training": "yes" if m["degraded"] else "no",
                        }
                        for m in perf.get("metrics", [])
                    ]
                ),
                hide_index=True,
            )

st.subheader("Batch runs: did the data pipelines run without errors?")
runs = board.runs
if runs:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Started": when(r.started_at),
                    "Pipeline": plain(r.pipeline_name),
                    "Environment": r.environment,
                    "Data": plain(r.dataset),
                    "Status": r.status,
                    "Rows in": r.rows_in,
                    "Scored": r.rows,
                    "Rejected": r.rows_rejected,
                    "Seconds": round(r.seconds, 1),
                    "By": plain(r.actor),
                    "Detail": plain(r.detail, 300),
                }
                for r in runs
            ]
        ),
        hide_index=True,
    )
else:
    st.caption("No batch runs yet.")

if board.may_manage:
    with st.expander("Add a monitor"), st.form("add_monitor"):
        c1, c2, c3 = st.columns(3)
        pipeline = c1.selectbox("Pipeline", board.pipelines)
        environment = c2.selectbox("Environment", board.environments)
        dataset = c3.selectbox("Production data", board.production_datasets)
        c4, c5, c6 = st.columns(3)
        window = c4.text_input("Window", "month", help="day, week, month (with a time column) or rows:N")
        time_column = c5.text_input("Time column (for calendar windows)")
        mode = c6.selectbox(
            "Mode",
            ["fixed", "calibrated"],
            help="calibrated learns each threshold from the training data and states its false-alarm rate",
        )
        c7, c8, c9 = st.columns(3)
        labels = c7.selectbox("Labels (optional)", ["(none)", *board.label_datasets])
        id_column = c8.text_input("Id column (joins labels)")
        label_column = c9.text_input("Label column")
        if st.form_submit_button("Add monitor"):
            try:
                added = monitoring.add_monitor(
                    actor,
                    pipeline=pipeline,
                    environment=environment,
                    dataset=dataset,
                    window=window,
                    time_column=time_column or None,
                    labels_dataset=None if labels == "(none)" else labels,
                    id_column=id_column or None,
                    label_column=label_column or None,
                    mode=mode,
                )
            except StewardError as problem:
                st.error(md(str(problem)))
            else:
                flash(f"Monitor #{added.id} added for {added.pipeline_name} in {added.environment}")
                read_page.clear()
                st.rerun()
