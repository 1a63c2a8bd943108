"""How well it works: the hold-out figures in sentences, and the headline figures."""

from __future__ import annotations

from steward.core.domain.model_card.card import KeyFigure, Section
from steward.core.domain.model_card.facts import _Facts
from steward.core.domain.model_card.holdout import _quantile, calibration_gap, recall_of
from steward.core.domain.model_card.wording import (
    CALIBRATION_TOLERANCE,
    IMBALANCE_SHARE,
    _count,
    _label,
    _num,
    _pct,
)


class _Performance(_Facts):
    def how_well(self) -> tuple[Section, list[KeyFigure]]:
        if self.task == "classification":
            return self._how_well_classification()
        return self._how_well_regression()

    def _how_well_classification(self) -> tuple[Section, list[KeyFigure]]:
        metrics = self.v.metrics
        paragraphs: list[str] = []
        figures: list[KeyFigure] = []
        auc = metrics.get("roc_auc")
        if auc is not None and self.binary:
            paragraphs.append(
                f"Ranking (ROC AUC {auc:.2f}): given a random case with {self.is_case(self.positive)} "
                f"and a random case with {self.is_case(self.negative)}, the model gives the first the "
                f"higher score {_pct(auc)} of the time. 50% would be a coin toss, 100% perfect."
            )
            figures.append(
                KeyFigure(
                    "Ranking (ROC AUC)",
                    f"{auc:.3f}",
                    "50% is a coin toss, 100% perfect",
                    self._delta("roc_auc", auc),
                )
            )
        elif auc is not None:
            paragraphs.append(
                f"Ranking (ROC AUC {auc:.2f}, each value against the rest, averaged): given a random "
                f"case of one value and a random case of another, the model scores the right one higher "
                f"{_pct(auc)} of the time. 50% would be a coin toss, 100% perfect."
            )
            figures.append(KeyFigure("Ranking (ROC AUC)", f"{auc:.3f}", "50% is a coin toss", None))
        else:
            paragraphs.append("Ranking quality (ROC AUC) could not be measured on these test cases.")

        accuracy = metrics.get("accuracy")
        if accuracy is not None:
            sentence = (
                f"Right answers (accuracy {_pct(accuracy, 1)}): the model's most likely answer is right "
                f"for {_pct(accuracy, 1)} of the {_count(self.holdout_rows)} test cases."
            )
            meaning = "of test cases answered right"
            if self.confusion is not None:
                label, base = self.confusion.majority()
                gain = accuracy - base
                sentence += (
                    f" Set that against the simplest rule: {_pct(base, 1)} of the test cases are "
                    f"{self.is_case(label)}, so always answering {_label(label)} would already be right "
                    f"{_pct(base, 1)} of the time."
                )
                if gain > 0.01:
                    sentence += f" The model adds {gain * 100:.1f} percentage points to that."
                else:
                    sentence += (
                        " The model does no better than that rule on this measure: judge it by its "
                        "ranking and by how many cases it catches instead."
                    )
                meaning = f"always answering {_label(label)}: {_pct(base, 1)}"
            paragraphs.append(sentence)
            figures.append(
                KeyFigure(
                    "Right answers",
                    _pct(accuracy, 1),
                    meaning,
                    self._delta("accuracy", accuracy, percent=True),
                )
            )

        if self.binary and self.confusion is not None and self.positive in self.confusion.labels:
            p = self.confusion.labels.index(self.positive)
            actual = self.confusion.actual(p)
            flagged = self.confusion.predicted(p)
            caught = self.confusion.matrix[p][p]
            if actual:
                recall = caught / actual
                paragraphs.append(
                    f"Catching cases (recall {_pct(recall)}): of the {_count(actual)} test cases with "
                    f"{self.is_case(self.positive)}, the model's most likely answer catches "
                    f"{_count(caught)} and misses {_count(actual - caught)}."
                    + (
                        f" Of the {_count(flagged)} cases it answers {_label(self.positive)}, "
                        f"{_count(caught)} ({_pct(caught / flagged)}) really are; the other "
                        f"{_count(flagged - caught)} are false alarms."
                        if flagged
                        else f" It never answers {_label(self.positive)}."
                    )
                    + " This is at the default cut-off (a probability above 50%): a lower cut-off "
                    "catches more cases at the price of more false alarms."
                )
                before = recall_of(self.previous) if self.previous is not None else None
                figures.append(
                    KeyFigure(
                        "Caught (recall)",
                        _pct(recall),
                        f"of {_count(actual)} test cases with {self.is_case(self.positive)}",
                        None
                        if before is None or self.previous is None or round((recall - before) * 1000) == 0
                        else f"{(recall - before) * 100:+.1f} points vs {self.previous.label}",
                    )
                )
        f1 = metrics.get("f1")
        if f1 is not None:
            if self.binary:
                paragraphs.append(
                    f"F1 {f1:.2f} sums up catching cases and avoiding false alarms in one number "
                    "(1 is perfect, 0 catches nothing)."
                )
            else:
                paragraphs.append(
                    f"F1 {f1:.2f} sums up, for each value, catching its cases and avoiding false "
                    f"alarms, averaged over the {len(self.classes)} values (1 is perfect)."
                )
        gap = calibration_gap(self.v.charts.get("calibration"))
        if gap is not None:
            if gap <= CALIBRATION_TOLERANCE:
                paragraphs.append(
                    f"Its probabilities can be read as chances: on the test cases they were on average "
                    f"within {gap * 100:.1f} percentage points of how often {self.is_case(self.positive)} "
                    "actually happened."
                )
            else:
                paragraphs.append(
                    f"Its probabilities are off by {gap * 100:.1f} percentage points on average from how "
                    f"often {self.is_case(self.positive)} actually happened: use them to rank cases, "
                    "not as chances."
                )
                self.limits.append(
                    f"Its probabilities are not reliable chances (off by {gap * 100:.1f} points on average)."
                )
        figures.append(
            KeyFigure("Test cases", _count(self.holdout_rows), "held back, never seen in training")
        )
        self._imbalance_limit()
        charts = tuple(name for name in ("roc", "calibration", "confusion") if self.v.charts.get(name))
        return Section("How well it works", tuple(paragraphs), charts=charts), figures

    def _imbalance_limit(self) -> None:
        if self.confusion is None:
            return
        for index, label in enumerate(self.confusion.labels):
            share = self.confusion.share(index)
            if 0 < share < IMBALANCE_SHARE:
                actual = self.confusion.actual(index)
                caught = self.confusion.matrix[index][index]
                self.limits.append(
                    f"Only {_pct(share, 1)} of cases are {self.is_case(label)}: a high share of right "
                    f"answers says little about them, and at the default cut-off the model misses "
                    f"{_pct((actual - caught) / actual)} of them."
                )

    def _how_well_regression(self) -> tuple[Section, list[KeyFigure]]:
        metrics = self.v.metrics
        paragraphs: list[str] = []
        figures: list[KeyFigure] = []
        residuals = self.v.charts.get("residuals") or {}
        actual = [float(a) for a in residuals.get("actual") or []]
        predicted = [float(p) for p in residuals.get("predicted") or []]
        mae = metrics.get("mae")
        if mae is not None:
            sentence = (
                f"Typical miss (mean absolute error {_num(mae)}): on average the estimate is {_num(mae)} "
                f"away from the actual {self.target}, in the same units as {self.target}."
            )
            if actual:
                mean_actual = sum(actual) / len(actual)
                if mean_actual:
                    sentence += (
                        f" For scale, the average actual {self.target} in the test cases is "
                        f"{_num(mean_actual)}, so the typical miss is about "
                        f"{_pct(abs(mae / mean_actual))} of it."
                    )
            paragraphs.append(sentence)
            figures.append(
                KeyFigure(
                    "Typical miss (MAE)",
                    _num(mae),
                    f"in units of {self.target}",
                    self._delta("mae", mae),
                    higher_is_better=False,
                )
            )
        if actual and len(actual) == len(predicted):
            misses = [abs(a - p) for a, p in zip(actual, predicted, strict=True)]
            paragraphs.append(
                f"Half of the estimates are within {_num(_quantile(misses, 0.5))} of the actual value, "
                f"and 9 in 10 within {_num(_quantile(misses, 0.9))}"
                + (
                    f" (from a sample of {_count(len(misses))} of the test cases)."
                    if int(residuals.get("sampled_from") or len(misses)) > len(misses)
                    else "."
                )
            )
        rmse = metrics.get("rmse")
        if rmse is not None and mae is not None and mae > 0 and rmse > 1.5 * mae:
            paragraphs.append(
                f"The root mean squared error ({_num(rmse)}) is well above the typical miss: now and then "
                "the model is off by much more than usual."
            )
        r2 = metrics.get("r2")
        if r2 is not None:
            if r2 >= 0:
                paragraphs.append(
                    f"Share of variation explained (R² {r2:.2f}): the model accounts for {_pct(r2)} of "
                    f"how much {self.target} varies from case to case. 0% would be no better than always "
                    "guessing the average, 100% perfect."
                )
            else:
                paragraphs.append(
                    f"R² is {r2:.2f}: the model does worse than always guessing the average {self.target}."
                )
            figures.append(
                KeyFigure(
                    "Variation explained (R²)",
                    _pct(max(r2, 0.0)) if r2 >= 0 else f"{r2:.2f}",
                    "0% is guessing the average",
                    self._delta("r2", r2, percent=True),
                )
            )
        figures.append(
            KeyFigure("Test cases", _count(self.holdout_rows), "held back, never seen in training")
        )
        charts = ("residuals", "residual_histogram") if actual else ()
        return Section("How well it works", tuple(paragraphs), charts=charts), figures
