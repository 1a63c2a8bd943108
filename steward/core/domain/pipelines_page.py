"""What the Pipelines page shows, decided here so the page only draws it.

The page asks for one pipeline and one version (from its selectors, or from a
link such as ``/pipelines?pipeline=credit-default&version=2``); the answer says
which were found, what the version selector offers, which card to show and what
the reader may do. A link to a version that does not exist opens what does and
says so, rather than failing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from steward.core.domain.datasets import Dataset
from steward.core.domain.model_card import ModelCard, spec_changed_since
from steward.core.domain.registry import PipelineOverview, PipelineVersion

PAGE_PATH = "pipelines"  # the page's url path (steward.app.ui.navigation: the file name without .py)
PIPELINE_PARAM, VERSION_PARAM = "pipeline", "version"


def card_url(pipeline: str, version: int | None = None) -> str:
    """The link that opens Pipelines on ``pipeline``'s card of ``version`` (its latest when None)."""
    query = {PIPELINE_PARAM: pipeline} | ({} if version is None else {VERSION_PARAM: str(version)})
    return f"/{PAGE_PATH}?{urlencode(query)}"


def parse_version(value: object) -> int | None:
    """A version as a link or selector gives it: 2, "2" or "v2"; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    text = str(value or "").strip().lower().removeprefix("v")
    return int(text) if text.isdigit() and int(text) > 0 else None


@dataclass(frozen=True)
class VersionChoice:
    """One entry of the version selector: ``v2 · deployed in Dev · awaiting sign-off for Prod · ...``."""

    number: int
    label: str


def version_choices(
    versions: Sequence[PipelineVersion],
    deployed_in: Mapping[int, Sequence[str]],
    awaiting: Mapping[int, Sequence[str]],
) -> tuple[VersionChoice, ...]:
    """Newest first; each says whether it is the latest, where it serves and where it awaits sign-off."""
    latest = versions[-1].number if versions else None
    choices = []
    for v in reversed(versions):
        parts = [v.label]
        if v.number == latest:
            parts.append("latest")
        if deployed_in.get(v.number):
            parts.append(f"deployed in {', '.join(deployed_in[v.number])}")
        if awaiting.get(v.number):
            parts.append(f"awaiting sign-off for {', '.join(awaiting[v.number])}")
        parts.append(f"trained {v.trained_at:%Y-%m-%d} by {v.trained_by}")
        choices.append(VersionChoice(v.number, " · ".join(parts)))
    return tuple(choices)


def training_hint(latest: PipelineVersion | None, spec_digest: str) -> str:
    """What training now would do: a first version, catch up with a changed spec, or check reproducibility."""
    if latest is None:
        return "Trains the registered spec on its data source. Training takes seconds."
    if spec_changed_since(spec_digest, latest):
        return f"The spec changed since {latest.label}: training makes a version from the new spec."
    return (
        f"The spec is the one {latest.label} was trained from: training again gives the same data "
        "digest and split (a check of reproducibility)."
    )


def same_data_note(versions: Sequence[PipelineVersion]) -> str:
    """Whether the versions' metrics compare directly (one data digest) or need care."""
    if len({v.data_digest for v in versions}) == 1:
        return "All versions learned from the same data (same data digest): their metrics compare directly."
    return "Versions with different data digests learned from different data: compare with care."


@dataclass(frozen=True)
class PipelinesPage:
    """Everything the Pipelines page shows, read in one transaction.

    ``chosen`` is the pipeline shown (None when none is registered), ``version``
    the version whose ``card`` is shown (None before the first training);
    ``notice`` says when a requested pipeline or version was not found.
    """

    overviews: tuple[PipelineOverview, ...]
    chosen: PipelineOverview | None = None
    versions: tuple[PipelineVersion, ...] = ()  # of the chosen pipeline, oldest first
    version: PipelineVersion | None = None
    previous: PipelineVersion | None = None
    card: ModelCard | None = None
    choices: tuple[VersionChoice, ...] = ()
    deployed_in: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    awaiting: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # version -> environments
    schema_columns: tuple[Mapping[str, Any], ...] = ()  # the version's input schema, else the spec's
    train_hint: str = ""
    versions_note: str = ""
    datasets: tuple[Dataset, ...] = ()
    production_datasets: tuple[str, ...] = ()
    label_datasets: tuple[str, ...] = ()
    retrain_from: tuple[str, ...] = ()  # environments whose production data this reader may retrain on
    can_register: bool = False
    can_train: bool = False
    notice: str | None = None

    @property
    def names(self) -> list[str]:
        return [o.pipeline.name for o in self.overviews]

    @property
    def card_url(self) -> str | None:
        """The link to what is shown, for the address bar (so it can be shared)."""
        if self.chosen is None:
            return None
        return card_url(self.chosen.pipeline.name, self.version.number if self.version else None)


__all__ = [
    "PAGE_PATH",
    "PIPELINE_PARAM",
    "VERSION_PARAM",
    "PipelinesPage",
    "VersionChoice",
    "card_url",
    "parse_version",
    "same_data_note",
    "training_hint",
    "version_choices",
]
