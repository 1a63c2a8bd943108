"""What it relies on: the inputs that matter most, in the direction they push."""

from __future__ import annotations

from collections.abc import Mapping

from steward.core.domain.model_card.card import Section
from steward.core.domain.model_card.facts import _Facts
from steward.core.domain.model_card.features import importance_chart_data
from steward.core.domain.model_card.wording import TOP_INPUTS


class _Reliance(_Facts):
    def what_it_relies_on(self) -> Section | None:
        data = importance_chart_data(self.v)
        if data is None:
            return None
        descriptions = {
            str(column.get("name")): str(column.get("description") or "") for column in self.columns
        }
        features = [str(f) for f in data.get("features") or []]
        values = [float(v) for v in data.get("values") or []]
        kind = data.get("kind")
        if kind == "permutation":
            ranked = [(f, v) for f, v in zip(features, values, strict=False) if v > 0][:TOP_INPUTS]
            intro = (
                "The inputs that matter most, measured by how much worse the model does on the test "
                "cases when an input's values are shuffled:"
            )
            bullets = [f"{name}{self._described(name, descriptions)}" for name, _ in ranked]
        elif kind == "coefficient":
            ranked = list(zip(features, values, strict=False))[:TOP_INPUTS]
            # A binary model's weights push toward the second class: flip them if that is not the positive.
            sign = -1.0 if self.binary and self.classes and self.positive != self.classes[-1] else 1.0
            up, down = (
                (f"{self.is_case(self.positive)} more likely", f"{self.is_case(self.positive)} less likely")
                if self.binary
                else (f"the estimate of {self.target} higher", f"the estimate of {self.target} lower")
            )
            intro = (
                "The inputs with the largest weights (inputs are put on a common scale first, so the "
                "weights compare):"
            )
            bullets = [
                f"{name}{self._described(self._column(name), descriptions)}: "
                + ("" if " = " in name else "a higher value ")
                + "makes "
                + (up if value * sign > 0 else down)
                for name, value in ranked
            ]
        elif kind == "mean_abs_coefficient":
            ranked = list(zip(features, values, strict=False))[:TOP_INPUTS]
            intro = "The inputs with the largest weights, averaged over the possible answers:"
            bullets = [f"{name}{self._described(self._column(name), descriptions)}" for name, _ in ranked]
        else:
            ranked = list(zip(features, values, strict=False))[:TOP_INPUTS]
            intro = "The inputs the model's trees rely on most:"
            bullets = [f"{name}{self._described(self._column(name), descriptions)}" for name, _ in ranked]
        if not bullets:
            return None
        closing = (
            f"This shows what the model relies on, not what causes {self.target}: an input can matter "
            "because it goes along with the real cause."
        )
        return Section("What it relies on", (intro,), tuple(bullets), (closing,), ("importance",))

    @staticmethod
    def _column(label: str) -> str:
        return label.split(" = ", 1)[0]

    @staticmethod
    def _described(name: str, descriptions: Mapping[str, str]) -> str:
        text = descriptions.get(name, "")
        return f" ({text})" if text else ""
