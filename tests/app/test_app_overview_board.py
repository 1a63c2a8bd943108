"""The Overview's board: one row per pipeline and environment, four lights in words, worst first, linked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from streamlit.testing.v1 import AppTest

from steward.app.ui.text import md
from steward.core.domain.overview import LIGHT_RANK, QUESTIONS
from steward.core.domain.sla import SlaTargets
from steward.core.services.online_requests import OnlineRequest, append_online_requests
from steward.core.setup.demo import DEMO_PASSWORD
from steward.core.setup.jobs import roll_up_requests
from steward.core.steward import Steward
from testkit import REPO_ROOT

ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")
PAGES = {"Drift": "drift", "Infrastructure": "infrastructure", "Service health": "service_health"}


def open_overview(token: str) -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = token
    at.run()
    assert not at.exception, at.exception
    return at


def test_rows_are_worst_first_and_each_light_links_to_its_evidence_with_filters(
    demo_steward: Steward,
) -> None:
    # One deployment in breach (slow requests), so the board has a red Service light to put first.
    serving = demo_steward.deployments.serving()
    chosen = serving[-1]
    otto = demo_steward.auth.login("otto", DEMO_PASSWORD).actor
    demo_steward.sla.set(otto, chosen.environment_name, chosen.pipeline_name, SlaTargets(p95_ms=50))
    now = datetime.now(UTC)
    append_online_requests(
        demo_steward.ctx,
        chosen.pipeline_name,
        chosen.environment_name,
        [
            OnlineRequest(f"ov-{i}", chosen.version_id, 400.0, now - timedelta(minutes=2, seconds=i % 40))
            for i in range(50)
        ],
    )
    roll_up_requests(demo_steward)
    board = demo_steward.overview.board()
    assert board, "the demo deploys and monitors something"
    ranks = [sorted(LIGHT_RANK[light.light] for light in row.lights) for row in board]
    assert ranks == sorted(ranks), "worst status first"
    pairs = [(r.pipeline, r.environment) for r in board]
    mine = board[pairs.index((chosen.pipeline_name, chosen.environment_name))]
    assert mine.lights[3].light.value == "red"
    assert mine.lights[3].words.startswith("SLA breached: p95 latency")
    assert all(r.worst.value == "red" for r in board[: board.index(mine)]), "only red rows before a red one"
    first = board[0]
    for row in board:
        assert tuple(light.question for light in row.lights) == QUESTIONS
        for light in row.lights:
            url = urlparse(light.link)
            assert url.path == "/" + PAGES[light.page]
            query = parse_qs(url.query)
            assert query["environment"] == [row.environment]
            if light.page != "Infrastructure":
                assert query["pipeline"] == [row.pipeline]

    at = open_overview(demo_steward.auth.login("vera", DEMO_PASSWORD).token)
    assert "Pipelines and environments, worst first" in [h.value for h in at.subheader]
    texts = [m.value for m in at.markdown]
    heads = [t for t in texts if " in **" in t and ("serves v" in t or "nothing serves" in t)]
    assert heads[0].startswith(f"**{md(first.pipeline)}** in **{md(first.environment)}** · ")
    assert f"🔴 [{md('Service: failing')}]({mine.lights[3].link})" in texts, "the light is a link, in words"
    assert len(heads) == len(board)
