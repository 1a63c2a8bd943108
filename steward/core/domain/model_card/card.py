"""What a model card is made of: headline figures, sections, the card, and a fair comparison."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyFigure:
    """A headline number with its meaning; ``delta`` compares with the previous version."""

    label: str
    value: str
    meaning: str
    delta: str | None = None
    higher_is_better: bool = True


@dataclass(frozen=True)
class Section:
    """Paragraphs, then bullets, then closing paragraphs (``after``); ``charts`` names the figures
    that illustrate it (keys of the version's chart data, plus ``residual_histogram``), in order."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    charts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelCard:
    """Plain text only: render every string escaped (it quotes names and descriptions people typed)."""

    title: str
    subtitle: str
    summary: str
    key_figures: tuple[KeyFigure, ...]
    sections: tuple[Section, ...]

    def section(self, heading: str) -> Section:
        return next(section for section in self.sections if section.heading == heading)

    def to_text(self) -> str:
        """The whole card as plain text, for a download or an e-mail to a reviewer."""
        lines = [self.title, self.subtitle, "", self.summary, ""]
        for figure in self.key_figures:
            delta = f" ({figure.delta})" if figure.delta else ""
            lines.append(f"{figure.label}: {figure.value}{delta}. {figure.meaning}")
        for section in self.sections:
            lines += ["", section.heading, "-" * len(section.heading)]
            lines += [*section.paragraphs]
            lines += [f"- {bullet}" for bullet in section.bullets]
            lines += [*section.after]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Comparison:
    """One version against the previous on the headline metric, and whether the comparison is fair."""

    metric: str
    current: float | None
    previous: float | None
    better: bool | None  # None: no values to compare, or equal
    same_data: bool
    same_holdout: bool

    @property
    def fair(self) -> bool:
        return self.same_data and self.same_holdout
