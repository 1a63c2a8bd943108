"""The PDF certificate reads as text: words wrap whole, headings stay with their tables, no markdown.

The PDF is read back with pypdf, line by line: every word of the certificate's
content must come back whole (only a SHA-256 wider than its cell may break),
and no page may end on a section heading.
"""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from test_promotions_support import build_world, to_prod

from steward.core.adapters.certificates import blocks
from steward.core.domain.accounts import Actor

pypdf = pytest.importorskip("pypdf")
HEX = re.compile(r"[0-9a-f]+")
SIGNERS = 9  # enough approvals that the table crosses a page


def long_signers(world) -> list[Actor]:
    s = world.steward
    made = []
    for i in range(SIGNERS):
        username = f"stakeholder{i}"
        s.users.create(
            Actor.system_actor("test"),
            username,
            roles=["business_stakeholder"],
            password="a-long-test-password",
            display_name=f"Business Stakeholder Bartholomew-Featherstonehaugh {i}",
        )
        made.append(s.auth.login(username, "a-long-test-password", source="127.0.0.1").actor)
    return made


def certificate_entry(world) -> int:
    s = world.steward
    to_prod(world)
    request = s.promotions.request(world["dana"], "toy", 1, "Prod", "the quarterly release, reviewed")
    s.promotions.approve(world["sam"], request.id, "Scientifically sound; calibration checked")
    for signer in long_signers(world):
        s.promotions.approve(signer, request.id, "Acceptable for the portfolio after the review meeting")
    s.promotions.approve(world["rick"], request.id, "Risk accepted")
    return s.promotions.execute(world["otto"], request.id).id


def pdf_lines(pdf: bytes) -> list[list[str]]:
    return [page.extract_text().splitlines() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_pdf_wraps_on_word_boundaries_and_keeps_headings_with_their_tables(steward):
    world = build_world(steward, versions=1)
    entry_id = certificate_entry(world)
    certificate = steward.promotions.certificate(entry_id)
    content = blocks(certificate)
    words: set[str] = set()
    for block in content:
        for text in (block.title, block.note, *block.headers, *(x for p in block.pairs for x in p)):
            words.update(text.split())
        for row in block.rows:
            for cell in row:
                words.update(cell.split())
    pages = pdf_lines(steward.promotions.certificate_pdf(entry_id))
    assert len(pages) >= 2, "enough signers to cross a page"
    text_tokens = [token for lines in pages for line in lines for token in line.split()]
    broken = []
    for token in text_tokens:
        if token in words or any(token in w for w in words if len(w) >= 40 and HEX.fullmatch(w)):
            continue
        if any(token in w and token != w for w in words):
            broken.append(token)
    assert not broken, f"words split across lines: {sorted(set(broken))[:20]}"
    for name in ("Bartholomew-Featherstonehaugh", "UTC", "Stakeholder"):
        assert name in text_tokens
    titles = {block.title for block in content}
    for number, lines in enumerate(pages[:-1], start=1):
        last = [line.strip() for line in lines if line.strip()][-1]
        assert last not in titles, f"page {number} ends on the heading {last!r}"
    assert "`" not in "\n".join(line for lines in pages for line in lines)
    assert "`" not in steward.promotions.certificate_html(entry_id)
