"""Pipelines: the registry list, each pipeline's model card, versions and schema; registering and training.

Thin on purpose: one read (``steward.pipelines.page``) says which pipeline and
version are shown, their card, what the version selector offers and what the
reader may do; registering, training and uploads are ``steward.pipelines``
calls that check permissions themselves (the controls are only hidden from
people who may not use them). A link ``/pipelines?pipeline=NAME&version=N``
(see ``steward.core.domain.pipelines_page.card_url``) opens that version's card.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from steward.app.ui import charts
from steward.app.ui.guard import attempt, require
from steward.app.ui.head_to_head import render_version_comparisons
from steward.app.ui.retrain_policy import render_retrain_policy
from steward.app.ui.text import md, plain, when
from steward.core.domain.model_card import (
    ModelCard,
    Section,
    allowed_values,
    format_metric,
    importance_chart_data,
    metric_label,
    ordered_metrics,
    primary_metric,
)
from steward.core.domain.permissions import Action
from steward.core.domain.pipelines_page import PIPELINE_PARAM, VERSION_PARAM, PipelinesPage
from steward.core.domain.registry import PipelineOverview, PipelineVersion
from steward.core.pipelines.sources import describe_size
from steward.core.pipelines.spec import MAX_SPEC_BYTES

page = require(Action.VIEW_PIPELINES)
steward, actor = page.steward, page.actor
CHOICE, PENDING, LINKED = "pipelines_choice", "pipelines_choice_next", "pipelines_link_applied"
MB = 1024 * 1024
VERBS = {"trained": "Trained", "retrained": "Retrained", "uploaded": "Registered the upload as"}


def version_key(pipeline: str) -> str:
    return f"pipelines_version_{pipeline}"


def select_next(pipeline: str, version: int | None = None) -> None:
    """Show this pipeline (and version) after the rerun; widgets' own keys cannot be set once drawn."""
    st.session_state[PENDING] = (pipeline, version)


def trained(version: PipelineVersion) -> str:
    select_next(version.pipeline_name, version.number)
    verb = VERBS.get(version.origin, "Registered")
    return f"{verb} {version.pipeline_name} {version.label} ({version.data_rows:,} rows): its card is below"


def registered(pipeline: Any) -> str:
    select_next(pipeline.name)
    return f"Registered {pipeline.name} ({pipeline.task}, predicts {pipeline.target}). Train it next."


def deployed_text(deployed: dict[str, int] | Any) -> str:
    return ", ".join(f"{plain(env)}: v{number}" for env, number in dict(deployed).items()) or "-"


def headline(overview: PipelineOverview) -> str:
    metric = primary_metric(overview.pipeline.task)
    if overview.latest is None:
        return "-"
    return f"{metric_label(metric, short=True)} {format_metric(metric, overview.latest.metrics.get(metric))}"


# ---- one pipeline -----------------------------------------------------------------------------------
def render_section(section: Section) -> None:
    st.markdown(f"#### {md(section.heading)}")
    for paragraph in section.paragraphs:
        st.markdown(md(paragraph, limit=3000))
    if section.bullets:
        st.markdown("\n".join(f"- {md(bullet, limit=2000)}" for bullet in section.bullets))
    for paragraph in section.after:
        st.caption(md(paragraph, limit=3000))


def render_charts(names: tuple[str, ...], version: PipelineVersion, previous: PipelineVersion | None) -> None:
    data, positive, target = version.charts, version.positive_class, version.target or "target"
    negative = next((c for c in version.classes if c != positive), "other")
    figures = []
    for name in names:
        if name == "roc" and data.get("roc"):
            curves = [
                (
                    f"{version.label} (ROC AUC {format_metric('roc_auc', version.metrics.get('roc_auc'))})",
                    data["roc"],
                )
            ]
            if previous is not None and previous.charts.get("roc"):
                auc = format_metric("roc_auc", previous.metrics.get("roc_auc"))
                curves.append((f"{previous.label} (ROC AUC {auc})", previous.charts["roc"]))
            figures.append(charts.roc_figure(curves, positive=positive, negative=negative))
        elif name == "calibration" and data.get("calibration"):
            figures.append(charts.calibration_figure(data["calibration"], positive=positive))
        elif name == "confusion" and data.get("confusion"):
            figures.append(charts.confusion_figure(data["confusion"]["labels"], data["confusion"]["matrix"]))
        elif name == "residuals" and data.get("residuals"):
            figures.append(charts.residuals_figure(data["residuals"], target=target))
        elif name == "residual_histogram" and data.get("residuals"):
            figures.append(charts.residual_histogram(data["residuals"], target=target))
        elif name == "importance":
            importance = importance_chart_data(version)
            if importance is not None:
                figures.append(charts.importance_figure(importance))
    for start in range(0, len(figures), 2):
        pair = figures[start : start + 2]
        for column, figure in zip(st.columns(2) if len(pair) == 2 else [st.container()], pair, strict=False):
            with column:
                st.plotly_chart(figure, config={"displaylogo": False})


def render_card(card: ModelCard, version: PipelineVersion, previous: PipelineVersion | None) -> None:
    st.subheader(f"Model card: {md(card.title)}")
    st.caption(md(card.subtitle))
    st.info(md(card.summary, limit=2000))
    columns = st.columns(len(card.key_figures) or 1)
    for column, figure in zip(columns, card.key_figures, strict=False):
        with column:
            st.metric(
                figure.label,
                figure.value,
                delta=figure.delta,
                delta_color="normal" if figure.higher_is_better else "inverse",
            )
            st.caption(md(figure.meaning))
    for section in card.sections:
        render_section(section)
        if section.charts:
            render_charts(section.charts, version, previous)
    st.download_button(
        "Download this card as text",
        card.to_text(),
        file_name=f"model-card-{version.pipeline_name}-{version.label}.txt",
        mime="text/plain",
        key=f"card_download_{version.id}",
    )


def render_versions(view: PipelinesPage) -> None:
    versions, where = list(view.versions), view.deployed_in
    metrics = ordered_metrics({name: None for v in versions for name in v.metrics})
    newest_first = list(reversed(versions))
    facts: dict[str, list[str]] = {
        "Deployed in": [", ".join(plain(e) for e in where.get(v.number, [])) or "-" for v in newest_first],
        **{
            metric_label(m, direction=True): [format_metric(m, v.metrics.get(m)) for v in newest_first]
            for m in metrics
        },
        "Data digest": [v.data_digest[:12] for v in newest_first],
        "Rows": [f"{v.data_rows:,}" for v in newest_first],
        "Estimator": [plain(v.lineage.get("estimator", "")) for v in newest_first],
        "Artifact SHA-256": [v.artifact_sha256[:12] for v in newest_first],
        "Spec digest": [v.spec_digest[:12] for v in newest_first],
        "Origin": [v.origin for v in newest_first],
        "Trained by": [plain(v.trained_by) for v in newest_first],
        "Trained at": [when(v.trained_at) for v in newest_first],
    }
    st.caption("Versions side by side, newest first. Metrics are on each version's hold-out test cases.")
    st.dataframe(
        pd.DataFrame(
            [
                {"": label, **{v.label: value for v, value in zip(newest_first, values, strict=True)}}
                for label, values in facts.items()
            ]
        ),
        hide_index=True,
        height=38 + 35 * len(facts),
    )
    if len(versions) > 1:
        st.plotly_chart(
            charts.metrics_by_version_figure(
                [(v.label, v.metrics) for v in versions],
                metrics,
                {m: metric_label(m, direction=True) for m in metrics},
                highlight=versions[-1].label,
            ),
            config={"displaylogo": False},
        )
        st.caption(view.versions_note)
    for v in reversed(versions):
        with st.expander(f"Lineage of {v.label}"):
            lineage = v.lineage
            split = {
                k: val for k, val in dict(lineage.get("split") or {}).items() if k != "holdout_positions"
            }
            record = {
                "Version id": v.id,
                "Spec digest": v.spec_digest,
                "Data digest": v.data_digest,
                "Data digest format": lineage.get("data_digest_format", ""),
                "Source": lineage.get("source", ""),
                "Rows and columns": f"{v.data_rows:,} rows; {', '.join(lineage.get('data_columns') or [])}",
                "Split": ", ".join(f"{k} {val}" for k, val in split.items()),
                "Classes": ", ".join(str(c) for c in lineage.get("classes") or []) or "-",
                "Positive class": str(lineage.get("positive_class", "-")),
                "Estimator": lineage.get("estimator", ""),
                "Code version (git)": lineage.get("code_version") or "unknown",
                "Artifact": f"{v.artifact_uri} ({v.artifact_size:,} bytes, SHA-256 {v.artifact_sha256})",
                "Status": v.status,
                "Warnings": "; ".join(v.warnings) or "none",
            }
            record.update(
                {f"Library: {k}": val for k, val in dict(lineage.get("library_versions") or {}).items()}
            )
            st.dataframe(
                pd.DataFrame([{"What": k, "Value": plain(val)} for k, val in record.items()]),
                hide_index=True,
            )
            st.caption("Model parameters (including defaults)")
            st.json(dict(lineage.get("model_params") or {}), expanded=False)
            st.caption("The spec this version was trained from")
            st.json(dict(v.spec), expanded=False)


def render_schema(columns: tuple[Any, ...]) -> None:
    st.caption(
        "The input contract: scoring requests are checked against it before the model sees them. "
        "A value outside a range or category list is refused, not guessed."
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Column": plain(c.get("name")),
                    "Kind": c.get("kind"),
                    "Allowed values": plain(allowed_values(c)),
                    "Required": "yes" if c.get("required", True) else "no",
                    "Missing values": "allowed" if c.get("nullable", False) else "refused",
                    "Description": plain(c.get("description", "")),
                }
                for c in columns
            ]
        ),
        hide_index=True,
        height=38 + 35 * len(columns),
    )


def render_train(name: str, hint: str) -> None:
    st.markdown("#### Train a new version")
    st.caption(hint)
    if st.button("Train", type="primary", key="train_pipeline"):
        with st.spinner(f"Training {md(name)}… this takes a few seconds"):
            attempt(lambda: steward.pipelines.train(actor, name), trained)
    st.markdown("#### Upload a fitted pipeline")
    limit = steward.settings.max_upload_bytes
    st.caption(
        f"A scikit-learn Pipeline saved with skops (.skops), up to {describe_size(limit)}. It is inspected "
        "as data before anything in it could run (pickle and joblib files are refused), then tested on "
        "this pipeline's hold-out cases like a trained version."
    )
    upload = st.file_uploader(
        "Pipeline file",
        type=["skops"],
        key="artifact_upload",
        max_upload_size=-(-limit // MB),  # whole MB, rounded up: the service enforces the exact limit
    )
    clicked = st.button(
        "Register the upload as a new version", key="upload_artifact", disabled=upload is None
    )
    if clicked and upload is not None:
        filename = upload.name
        upload.seek(0)  # from its start, whatever an earlier attempt read
        with st.spinner(f"Checking and testing {md(filename)}…"):
            # The open upload, not its bytes: the service refuses it by size before reading it.
            attempt(
                lambda: steward.pipelines.import_artifact(actor, name, upload, filename=filename), trained
            )


def render_retrain(name: str, view: PipelinesPage) -> None:
    st.markdown("#### Retrain on production data")
    st.caption(
        "Trains this pipeline's current spec on a registered production data set and its labels: the "
        "target comes with the data set, or from a labels data set joined on an id column (rows whose "
        "label has not arrived are left out). The new version's lineage records the data sets, their "
        "SHA-256 and the environment the data belongs to. Who may retrain is decided by that "
        "environment's tier."
    )
    datasets = list(view.production_datasets)
    origins = {d.name: f"{d.name} ({d.environment})" for d in view.datasets if d.name in datasets}
    if not datasets:
        st.info("No production data set of an environment you may retrain in is registered yet.")
        return
    label_sets = ["(in the data set)", *view.label_datasets]
    with st.form("retrain_form"):
        dataset: str = st.selectbox(
            "Data set", datasets, key="retrain_dataset", format_func=lambda name: origins.get(name, name)
        )
        c3, c4 = st.columns(2)
        labels = c3.selectbox("Labels", label_sets, key="retrain_labels")
        id_column = c4.text_input("Id column (joins the labels)", key="retrain_id_column")
        if st.form_submit_button("Retrain", type="primary"):
            joined = None if labels == label_sets[0] else labels
            with st.spinner(f"Retraining {md(name)} on {md(dataset)}… this takes a few seconds"):
                attempt(
                    lambda: steward.pipelines.retrain(
                        actor,
                        name,
                        dataset=dataset,
                        labels=joined,
                        id_column=id_column.strip() or None,
                    ),
                    trained,
                )


# ---- the list, registering, one pipeline, data sets --------------------------------------------------
def render_list(overviews: tuple[PipelineOverview, ...], *, can_register: bool) -> None:
    if not overviews:
        if can_register:
            st.info(
                "No pipelines registered yet. Register one below from a TOML spec (the format is in "
                "docs/pipelines.md; the demo specs are in sample_data/specs/), then train it: each training "
                "run becomes an immutable version with its own model card. From a terminal: "
                "`steward pipelines register spec.toml`, then `steward train NAME`."
            )
        else:
            st.info(
                "No pipelines registered yet. Data scientists register and train them; once a version is "
                "trained, its model card (what it predicts, how well, its limits) appears here."
            )
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Pipeline": plain(o.pipeline.name),
                        "Owner": plain(o.pipeline.owner),
                        "Task": o.pipeline.task,
                        "Predicts": plain(o.pipeline.target),
                        "Latest": o.latest.label if o.latest else "none yet",
                        "Headline metric": headline(o),
                        "Versions": o.version_count,
                        "Deployed": deployed_text(o.deployed),
                        "Last trained": f"{o.latest.trained_at:%Y-%m-%d}" if o.latest else "-",
                    }
                    for o in overviews
                ]
            ),
            hide_index=True,
        )


def render_register(*, expanded: bool) -> None:
    with st.expander("Register or update a pipeline", expanded=expanded):
        st.caption(
            "Paste a TOML spec or upload a .toml file. A spec naming an existing pipeline updates its spec "
            "(the versions already trained stay as they were); nothing is trained until you train it. "
            "Every key is checked first: an unknown estimator, parameter or column is refused by name "
            "and nothing is registered."
        )
        with st.form("register_spec"):
            spec_text = st.text_area("Spec (TOML)", height=260, key="spec_text")
            spec_file = st.file_uploader(
                f"…or a .toml file (up to {MAX_SPEC_BYTES // 1024} kB)",
                type=["toml"],
                key="spec_file",
                max_upload_size=1,
            )
            if st.form_submit_button("Register", type="primary"):
                source: str | bytes = spec_file.getvalue() if spec_file is not None else spec_text
                if not source.strip():
                    st.error("Paste a spec or upload a .toml file first.")
                else:
                    attempt(lambda: steward.pipelines.register(actor, source), registered)


def render_detail(view: PipelinesPage) -> None:
    assert view.chosen is not None
    chosen, pipeline = view.chosen.pipeline.name, view.chosen.pipeline
    st.session_state[CHOICE] = chosen  # what the read found: a link or a retired name may differ
    st.selectbox("Pipeline", view.names, key=CHOICE)
    if pipeline.description:
        st.caption(md(pipeline.description, limit=2000))
    version = view.version
    if version is not None:
        labels_of = {choice.number: choice.label for choice in view.choices}
        st.session_state[version_key(chosen)] = version.number
        st.selectbox("Version", list(labels_of), key=version_key(chosen), format_func=lambda n: labels_of[n])

    tabs_shown = (
        ["Model card", "Versions", "Schema"]
        + (["Train or upload"] if view.can_train else [])
        + (["Retrain"] if view.retrain_from else [])
    )
    tabs = dict(zip(tabs_shown, st.tabs(tabs_shown), strict=True))
    with tabs["Model card"]:
        if version is None or view.card is None:
            st.info(
                "No versions yet: train the pipeline to get a model card."
                if view.can_train
                else "No versions yet. A data scientist trains the pipeline; its model card appears here."
            )
        else:
            render_card(view.card, version, view.previous)
            render_version_comparisons(steward, actor, view, version)
    with tabs["Versions"]:
        if view.versions:
            render_versions(view)
        else:
            st.info("No versions yet.")
    with tabs["Schema"]:
        render_schema(view.schema_columns)
    if view.can_train:
        with tabs["Train or upload"]:
            render_train(chosen, view.train_hint)
    if view.retrain_from:
        with tabs["Retrain"]:
            render_retrain(chosen, view)
            render_retrain_policy(steward, actor, chosen, view)


def render_datasets(view: PipelinesPage, *, expanded: bool) -> None:
    with st.expander("Data sets", expanded=expanded):
        datasets = view.datasets
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
                st.caption(
                    "Sample data: " + md(attribution.replace("*", "").replace("\n", " · "), limit=4000)
                )


def requested() -> tuple[str | None, Any]:
    """The pipeline and version to show: a new link's, else one just made (a rerun), else the selectors'."""
    link = (st.query_params.get(PIPELINE_PARAM), st.query_params.get(VERSION_PARAM))
    if link[0] and link != st.session_state.get(LINKED):
        st.session_state[LINKED] = link
        return link
    pending = st.session_state.pop(PENDING, None)
    name = pending[0] if pending else st.session_state.get(CHOICE)
    wanted = pending[1] if pending and pending[1] is not None else None
    return name, wanted if wanted is not None else st.session_state.get(version_key(str(name)))


def show_in_address_bar(view: PipelinesPage) -> None:
    """Keep the address a link to what is shown, so it can be shared (and a reload shows the same)."""
    if view.chosen is None:
        return
    link = (view.chosen.pipeline.name, str(view.version.number) if view.version else None)
    st.session_state[LINKED] = link
    if (st.query_params.get(PIPELINE_PARAM), st.query_params.get(VERSION_PARAM)) != link:
        st.query_params.from_dict({PIPELINE_PARAM: link[0]} | ({VERSION_PARAM: link[1]} if link[1] else {}))


st.title("Pipelines")  # the entrypoint already showed the flashes of the last action
name, number = requested()
view = steward.pipelines.page(actor, pipeline=name, version=number)
if view.notice:
    st.warning(md(view.notice))
render_list(view.overviews, can_register=view.can_register)
if view.can_register:
    render_register(expanded=not view.overviews)
if view.overviews:
    render_detail(view)
    show_in_address_bar(view)
render_datasets(view, expanded=not view.overviews)
