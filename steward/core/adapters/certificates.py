"""Release certificates: one executed promotion, as an HTML page and a PDF a risk team can file.

Both formats are drawn from the same list of blocks, so they can never say
different things. Every value that came from a person or a file (names,
comments, reasons, metric names) is escaped in HTML; the PDF uses DejaVu Sans
when the system has it (any script), else Helvetica with unsupported
characters replaced. The ``content digest`` is a SHA-256 over the blocks:
two copies of a certificate agree on it exactly when they certify the same facts.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from steward.core.clock import utc
from steward.core.domain.metrics import metric_phrase
from steward.core.domain.promotions import Certificate, certificate_file_name
from steward.core.domain.roles import Role

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class Block:
    title: str
    pairs: tuple[tuple[str, str], ...] = ()
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    note: str = ""


def _when(value: datetime | None) -> str:
    return utc(value).strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "-"


def _num(value: float | None) -> str:
    return f"{value:.4f}" if value is not None else "-"


def _role(role: Role | None) -> str:
    return role.label if role is not None else "-"


def _unmark(text: str) -> str:
    """Markdown marks in a system phrase (a gate's detail) read as plain text: `x` becomes \u201cx\u201d."""
    parts = text.replace("**", "").split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: drop it rather than guess
        return "".join(parts)
    return "".join(f"\u201c{p}\u201d" if i % 2 else p for i, p in enumerate(parts))


def blocks(cert: Certificate) -> list[Block]:
    """The certificate's content, in reading order."""
    entry, request, new = cert.entry, cert.request, cert.challenger
    evidence = entry.evidence
    champion = evidence.champion if evidence is not None else None
    result = [
        Block(
            "What was released",
            (
                ("Pipeline", entry.pipeline_name),
                ("Owner", cert.pipeline_owner),
                ("Version", f"v{new.number} ({new.estimator})"),
                ("Pipeline artifact SHA-256", entry.artifact_sha256),
                ("Specification digest", new.spec_digest),
                ("Training data digest", entry.data_digest),
                ("Training rows / hold-out rows", f"{new.data_rows:,} / {new.holdout_rows:,}"),
                ("Trained by, at", f"{new.trained_by}, {_when(new.trained_at)}"),
                ("Code version", new.code_version or "-"),
            ),
        ),
        Block(
            "Where, when, by whom",
            (
                ("Environment", f"{entry.environment_name} ({entry.tier.value} tier)"),
                ("Serving since", _when(entry.occurred_at)),
                ("Executed by", f"{entry.actor_name} ({entry.actor})"),
                (
                    "Replaced",
                    f"v{entry.previous_number}, kept as the fallback"
                    if entry.previous_number
                    else "nothing (first)",
                ),
                ("Ledger entry", f"#{entry.id}"),
                (
                    "Promotion request",
                    f"#{request.id} by {request.requested_by_name} ({request.requested_by}), "
                    f"{_when(request.requested_at)}",
                ),
                ("Reason given", request.reason),
                (
                    "Route",
                    " then ".join(
                        f"{name} (since {_when(at)})" for name, at in (evidence.path if evidence else ())
                    )
                    or "entered from the registry",
                ),
            ),
        ),
    ]
    released = evidence.challenger if evidence is not None else None
    primary = evidence.primary_metric if evidence is not None else ""
    result.append(
        Block(
            "Metrics on the hold-out",
            headers=(
                "Metric",
                f"v{new.number} (released)",
                f"v{champion.version} (replaced)" if champion else "replaced",
            ),
            rows=tuple(
                (
                    metric_phrase(name) + (" (primary)" if name == primary else ""),
                    _num(released.metric(name) if released else None),
                    _num(champion.metric(name) if champion else None),
                )
                for name in (evidence.metric_names() if evidence is not None else ())
            ),
            note=(
                "Both versions were measured on the same hold-out rows of the same training data."
                if champion and evidence is not None and evidence.same_holdout
                else "No version served here before."
                if not champion
                else "The versions were measured on different hold-outs."
            ),
        )
    )
    result.append(
        Block(
            "Gates",
            headers=("Gate", "Result", "Detail"),
            rows=tuple((_unmark(gate.title), gate.status.value, _unmark(gate.detail)) for gate in entry.gates)
            or (("none required", "-", "-"),),
        )
    )
    policy = entry.policy
    result.append(
        Block(
            "Sign-off policy in force",
            (
                (
                    "Required",
                    ", ".join(f"{count} {role.label.lower()}" for role, count in policy.required)
                    if policy is not None and policy.required
                    else "no sign-off",
                ),
                ("Approvals valid for", f"{policy.approval_ttl_hours if policy else 0:g} hours"),
                (
                    "Executes itself",
                    "yes" if policy is not None and policy.auto_execute else "no, an operator executes",
                ),
            ),
        )
    )
    result.append(
        Block(
            "Approvals",
            headers=("Name", "User", "Roles held", "Counted as", "Signed at", "Comment", "Audit #"),
            rows=tuple(
                (
                    a.display_name,
                    a.approver,
                    ", ".join(_role(r) for r in a.roles),
                    _role(a.counted_as) if a.counted_as else f"not counted: {a.not_counted_because}",
                    _when(a.decided_at),
                    a.comment or "-",
                    str(a.audit_seq or "-"),
                )
                for a in entry.approvals
            )
            or (("none required", "", "", "", "", "", ""),),
            note="Each approval is bound to the artifact SHA-256 above, this version and this environment.",
        )
    )
    result.append(
        Block(
            "Audit events",
            headers=("Audit #", "Action", "By", "At", "Event hash"),
            rows=tuple(
                (str(seq), action, actor, _when(datetime.fromisoformat(at)), digest)
                for seq, action, actor, at, digest in cert.audit
            ),
            note=(
                "Each event's hash was recomputed from its stored content and matches, and each "
                "signature names the request, approver, roles and artifact digest its event records; "
                "the command \u201csteward audit verify\u201d checks that these events are linked into "
                "the whole chain."
                if cert.chain_ok
                else "WARNING: "
                + (
                    "; ".join(cert.mismatches)
                    if cert.mismatches
                    else "an event listed here is missing or no longer matches its hash."
                )
            ),
        )
    )
    return result


def content_digest(cert: Certificate) -> str:
    payload = json.dumps(
        [[b.title, b.pairs, b.headers, b.rows, b.note] for b in blocks(cert)],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def file_name(cert: Certificate, extension: str) -> str:
    return certificate_file_name(cert.entry, extension)


def title(cert: Certificate) -> str:
    e = cert.entry
    return f"Release certificate: {e.pipeline_name} v{e.version_number} to {e.environment_name}"


# ---- HTML ---------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;margin:2rem auto;
color:#111;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-size:.9rem} th,td{border:1px solid #ccc;padding:.3rem .5rem;
text-align:left;vertical-align:top} th{background:#f3f3f3} td.k{width:16rem;font-weight:600}
code,.hash{font-family:ui-monospace,monospace;font-size:.8rem;word-break:break-all}
.note{color:#444;font-size:.85rem}
.passed{color:#0a6b2d;font-weight:600} .failed{color:#a00;font-weight:600}
.pending{color:#a60;font-weight:600}
"""


def _cell(text: str, *, key: str = "") -> str:
    escaped = html.escape(text, quote=True)
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return f'<span class="hash">{escaped}</span>'
    if key == "Result" and text in {"passed", "failed", "pending"}:
        return f'<span class="{text}">{escaped}</span>'
    return escaped.replace("\n", "<br>")


def render_html(cert: Certificate) -> str:
    """A self-contained HTML page (no scripts, no external resources)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{html.escape(title(cert))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title(cert))}</h1>",
        f'<p class="note">Issued by Steward at {html.escape(_when(cert.issued_at))}. '
        f'Content digest <span class="hash">{content_digest(cert)}</span></p>',
    ]
    for block in blocks(cert):
        parts.append(f"<h2>{html.escape(block.title)}</h2>")
        if block.pairs:
            parts.append("<table>")
            parts.extend(
                f'<tr><td class="k">{html.escape(k)}</td><td>{_cell(v)}</td></tr>' for k, v in block.pairs
            )
            parts.append("</table>")
        if block.headers:
            parts.append(
                "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in block.headers) + "</tr>"
            )
            for row in block.rows:
                cells = "".join(
                    f"<td>{_cell(v, key=h)}</td>" for h, v in zip(block.headers, row, strict=False)
                )
                parts.append(f"<tr>{cells}</tr>")
            parts.append("</table>")
        if block.note:
            parts.append(f'<p class="note">{html.escape(block.note)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


# ---- PDF ----------------------------------------------------------------------------------
def _font(pdf: Any) -> tuple[str, bool]:
    """DejaVu Sans when installed (Debian: fonts-dejavu-core), else the core Helvetica (Latin-1 only)."""
    regular, bold = DEJAVU / "DejaVuSans.ttf", DEJAVU / "DejaVuSans-Bold.ttf"
    if regular.is_file() and bold.is_file():
        pdf.add_font("DejaVu", "", str(regular))
        pdf.add_font("DejaVu", "B", str(bold))
        return "DejaVu", True
    return "helvetica", False


def _text(value: str, unicode: bool) -> str:
    value = "".join(c if c.isprintable() or c == "\n" else " " for c in value)
    return value if unicode else value.encode("latin-1", "replace").decode("latin-1")


WEIGHTS = {
    "Event hash": 3.2,
    "Comment": 2.2,
    "Detail": 2.6,
    "Gate": 2.2,
    "Counted as": 1.6,
    "Signed at": 1.5,
    "At": 1.5,
    "Action": 1.3,
}
_HASHLIKE = 40  # a token this long (a digest) may break anywhere; nothing else does
CELL_PADDING_MM = 3.0


def _widths(
    pdf: Any, headers: Sequence[str], rows: Sequence[Sequence[str]], width: float
) -> tuple[float, ...]:
    """Column widths in mm: each column at least as wide as its longest word, the rest by weight.

    A column narrower than a word breaks that word mid-way ("Scientis|t"); so
    every word but a digest gets the room it needs, and what remains is shared
    by the columns' weights (comments and details get more).
    """
    weights = [WEIGHTS.get(h, 1.0) for h in headers]
    floors = []
    for i, header in enumerate(headers):
        words = [w for v in (header, *(row[i] for row in rows if i < len(row))) for w in v.split()]
        longest = max((pdf.get_string_width(w) for w in words if len(w) < _HASHLIKE), default=0.0)
        floors.append(longest + CELL_PADDING_MM)
    ideal = [width * w / sum(weights) for w in weights]
    chosen = [max(a, b) for a, b in zip(ideal, floors, strict=True)]
    excess = sum(chosen) - width
    if excess > 0:  # take it from the columns above their floor, in proportion to their slack
        slack = [c - f for c, f in zip(chosen, floors, strict=True)]
        total = sum(slack)
        if total > 0:
            share = min(1.0, excess / total)
            chosen = [c - s * share for c, s in zip(chosen, slack, strict=True)]
    return tuple(chosen)


def _block(
    pdf: Any, block: Block, family: str, unicode: bool, width: float, first_rows: int | None = None
) -> None:
    """One block: heading, key/value table, table, note. Cells wrap between words, never inside one
    (a word wider than its cell, such as a SHA-256, is the only thing broken)."""
    from fpdf.enums import WrapMode

    pairs = block.pairs if first_rows is None else block.pairs[:first_rows]
    rows = block.rows if first_rows is None else block.rows[:first_rows]
    pdf.ln(3)
    pdf.set_font(family, "B", 11)
    pdf.multi_cell(width, 7, _text(block.title, unicode), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 8)
    if pairs:
        with pdf.table(
            col_widths=(1, 2.4),
            first_row_as_headings=False,
            wrapmode=WrapMode.WORD,
            text_align="LEFT",
            line_height=4.2,
            width=width,
        ) as table:
            for key, value in pairs:
                row = table.row()
                row.cell(_text(key, unicode))
                row.cell(_text(value, unicode))
    if block.headers:
        with pdf.table(
            col_widths=_widths(pdf, block.headers, block.rows, width),
            wrapmode=WrapMode.WORD,
            text_align="LEFT",
            line_height=4.2,
            width=width,
        ) as table:
            heading = table.row()
            for header in block.headers:
                heading.cell(_text(header, unicode))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(_text(value, unicode))
    if block.note and first_rows is None:
        pdf.set_font(family, "", 7.5)
        pdf.multi_cell(width, 4, _text(block.note, unicode), new_x="LMARGIN", new_y="NEXT")


def render_pdf(cert: Certificate) -> bytes:
    from fpdf import FPDF  # imported here: only certificate downloads pay for it
    from fpdf.enums import WrapMode

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(title(cert))
    pdf.set_creator("Steward")
    family, unicode = _font(pdf)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font(family, "B", 15)
    pdf.multi_cell(width, 8, _text(title(cert), unicode), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 8)
    pdf.multi_cell(
        width,
        4,
        _text(
            f"Issued by Steward at {_when(cert.issued_at)}. Content digest {content_digest(cert)}", unicode
        ),
        new_x="LMARGIN",
        new_y="NEXT",
        wrapmode=WrapMode.WORD,
    )
    for block in blocks(cert):
        # A heading never stands alone at a page foot: draw it with its first rows off the page
        # first, and start a new page when they would not fit below it.
        with pdf.offset_rendering() as trial:
            _block(trial, block, family, unicode, width, first_rows=2)
        if trial.page_break_triggered:
            pdf.add_page()
        _block(pdf, block, family, unicode, width)
    return bytes(pdf.output())
