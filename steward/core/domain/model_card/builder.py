"""The card put together: what it predicts, what it learned from, then each section in order."""

from __future__ import annotations

from steward.core.domain.metrics import metric_label
from steward.core.domain.model_card.card import ModelCard, Section
from steward.core.domain.model_card.changes import _Changes
from steward.core.domain.model_card.holdout import recall_of
from steward.core.domain.model_card.limits import _Limits
from steward.core.domain.model_card.performance import _Performance
from steward.core.domain.model_card.reliance import _Reliance
from steward.core.domain.model_card.rules import _spec_field, compare_versions
from steward.core.domain.model_card.wording import ESTIMATOR_WORDS, _count, _label, _list, _num, _pct
from steward.core.domain.registry import PipelineVersion


class _CardBuilder(_Performance, _Reliance, _Changes, _Limits):
    def what_it_predicts(self) -> Section:
        paragraphs = []
        if self.description:
            paragraphs.append(f"In the owner's words: {self.description}")
        inputs = [str(column.get("name")) for column in self.columns]
        if self.binary:
            paragraphs.append(
                f"For each case it gives the probability that {self.is_case(self.positive)} "
                f"(rather than {_label(self.negative)}), from {len(inputs)} input columns. "
                "The model gives a score; what to do above which score (the cut-off) is decided "
                "outside the model."
            )
        elif self.task == "classification":
            paragraphs.append(
                f"For each case it picks one of {len(self.classes)} possible values of {self.target} "
                f"({_list([_label(c) for c in self.classes])}) and gives the probability of each, "
                f"from {len(inputs)} input columns."
            )
        else:
            paragraphs.append(
                f"For each case it estimates a number, {self.target}, from {len(inputs)} input columns. "
                "It gives one number, without a range of uncertainty."
            )
        estimator = str(self.lineage.get("estimator") or _spec_field(self.v, "model", "estimator", ""))
        words = ESTIMATOR_WORDS.get(estimator)
        method = f"Method: {words}." if words else f"Method: {estimator}."
        paragraphs.append(method)
        bullets = [f"Inputs: {_list(inputs)}." if inputs else "Inputs: none recorded."]
        if self.owner:
            bullets.append(f"Owner: {self.owner}.")
        return Section("What it predicts", tuple(paragraphs), tuple(bullets))

    def what_it_learned_from(self) -> Section:
        source = str(self.lineage.get("source") or "")
        where = (
            f"the file {source.removeprefix('file:')}"
            if source.startswith("file:")
            else f"a query on the database {source.split(':')[1]}"
            if source.startswith("sql:") and source.count(":") >= 2
            else "an unrecorded source"
        )
        rows = self.v.data_rows
        paragraphs = [
            f"{_count(rows)} rows from {where}, trained on {self.v.trained_at:%Y-%m-%d} "
            f"by {self.v.trained_by}"
            + (" (fitted elsewhere and uploaded)." if self.v.origin == "uploaded" else ".")
        ]
        retrained = self.lineage.get("retrained_from")
        if self.v.origin == "retrained" and isinstance(retrained, dict):
            sentence = (
                f"It was retrained on production data from {retrained.get('environment', 'an environment')}"
            )
            if retrained.get("labels"):
                left_out = int(retrained.get("unlabelled_rows") or 0)
                sentence += (
                    f", whose outcomes arrived later in {retrained['labels']} and were matched on "
                    f"{retrained.get('id_column', 'an id')}"
                    + (f"; {_count(left_out)} rows without an outcome yet were left out" if left_out else "")
                )
            paragraphs.append(sentence + ".")
        train_rows = int(self.split.get("train_rows") or 0)
        fraction = float(self.split.get("holdout_fraction") or 0.0)
        if self.split.get("method") == "ordered":
            order = self.split.get("order_by")
            by = f"when sorted by {order}" if order else "in file order"
            how = f"the last {_count(self.holdout_rows)} rows {by} (the most recent)"
        else:
            kept = " keeping the share of each answer the same" if self.split.get("stratified") else ""
            how = f"{_count(self.holdout_rows)} rows chosen at random{kept}"
        paragraphs.append(
            f"It learned from {_count(train_rows)} rows. The other {_pct(fraction)}, {how}, were held "
            "back to test it: every figure on this card is measured on those cases, which the model "
            "never saw while learning."
        )
        if self.confusion is not None:
            shares = [
                f"{_pct(self.confusion.share(i), 1)} {self.is_case(label)}"
                for i, label in enumerate(self.confusion.labels)
            ]
            paragraphs.append("Among the test cases: " + ", ".join(shares) + ".")
        bullets = [
            f"Data fingerprint {self.v.data_digest[:12]}: another version with the same fingerprint "
            "learned from exactly the same data.",
        ]
        return Section("What it learned from", tuple(paragraphs), tuple(bullets))

    def build(self) -> ModelCard:
        predicts = self.what_it_predicts()
        data = self.what_it_learned_from()
        performance, figures = self.how_well()
        sections = [predicts, data, performance]
        relies = self.what_it_relies_on()
        if relies is not None:
            sections.append(relies)
        compared = self.compared()
        if compared is not None:
            sections.append(compared)
        sections.append(self.known_limits())
        owner = f" · owner {self.owner}" if self.owner else ""
        return ModelCard(
            title=f"{self.v.pipeline_name} {self.v.label}",
            subtitle=(
                f"{self.task.capitalize()} · trained {self.v.trained_at:%Y-%m-%d} by {self.v.trained_by}"
                f"{owner} · artifact {self.v.artifact_sha256[:12]}"
            ),
            summary=self.summary(),
            key_figures=tuple(figures),
            sections=tuple(sections),
        )

    def summary(self) -> str:
        """Two or three sentences a reviewer can read first, pointing to the limits."""
        metrics = self.v.metrics
        parts: list[str] = []
        auc, caught = metrics.get("roc_auc"), recall_of(self.v)
        if self.binary and auc is not None:
            parts.append(
                f"In short: in {_pct(auc)} of random pairs, {self.v.label} ranks the case with "
                f"{self.is_case(self.positive)} above the case with {self.is_case(self.negative)}"
                + (
                    f"; at the default cut-off it catches {_pct(caught)} of the "
                    f"{self.is_case(self.positive)} cases."
                    if caught is not None
                    else "."
                )
            )
        elif self.task == "classification" and metrics.get("accuracy") is not None:
            parts.append(
                f"In short: {self.v.label} picks the right value of {self.target} for "
                f"{_pct(float(metrics['accuracy'] or 0.0))} of the test cases."
            )
        elif self.task == "regression" and metrics.get("mae") is not None:
            r2 = metrics.get("r2")
            parts.append(
                f"In short: {self.v.label} estimates {self.target} with a typical miss of "
                f"{_num(float(metrics['mae'] or 0.0))}"
                + (f" and explains {_pct(r2)} of its variation." if r2 is not None and r2 >= 0 else ".")
            )
        else:
            parts.append(f"In short: {self.v.label} has no recorded hold-out figures.")
        if self.previous is not None:
            comparison = compare_versions(self.v, self.previous)
            where = "on the same test cases" if comparison.fair else "(on different test cases)"
            if comparison.current is None or comparison.previous is None:
                parts.append(f"It cannot be compared with {self.previous.label}: a figure is missing.")
            else:
                verdict = {True: "better than", False: "worse than", None: "level with"}[comparison.better]
                parts.append(
                    f"It is {verdict} {self.previous.label} on {metric_label(comparison.metric)} {where}."
                )
        parts.append("Read the known limits before relying on it.")
        return " ".join(parts)


def build_model_card(version: PipelineVersion, previous: PipelineVersion | None = None) -> ModelCard:
    """The card of ``version``; with ``previous`` (the version before it) it also says what changed."""
    return _CardBuilder(version, previous).build()
