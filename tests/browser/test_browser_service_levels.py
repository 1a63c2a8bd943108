"""Service health and the Overview board in a real browser: a breach in words and lines, lights as links."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from browserkit import AppServer, Tab, click_nav, run_app, settle, shot, sign_in_locally, warm_up
from playwright.sync_api import Browser, expect

from steward.core.services.online_requests import OnlineRequest, append_online_requests
from steward.core.setup.jobs import roll_up_requests


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with run_app(tmp_path_factory.mktemp("sla"), full_demo=True) as server:
        steward = server.steward
        serving = {(d.environment_name, d.pipeline_name): d for d in steward.deployments.serving()}
        [sla] = [t for t in steward.sla.list() if (t.environment_name, t.pipeline_name) in serving][:1]
        deployment = serving[(sla.environment_name, sla.pipeline_name)]
        now = datetime.now(UTC)
        for minute in range(30, 0, -1):  # half an hour of traffic, the last ten minutes slow
            slow = minute <= 10
            append_online_requests(
                steward.ctx,
                deployment.pipeline_name,
                deployment.environment_name,
                [
                    OnlineRequest(
                        f"m{minute}-{i}",
                        deployment.version_id,
                        (600.0 if slow and i % 3 == 0 else 25.0) + i % 11,
                        now - timedelta(minutes=minute, seconds=i % 55),
                        status="error" if i == 0 and slow else "ok",
                    )
                    for i in range(120)
                ],
            )
        roll_up_requests(steward)
        warm_up(browser, server)
        yield server


def test_a_breach_reads_in_words_beside_its_chart_and_the_overview_links_to_it(
    app: AppServer, tab: Tab
) -> None:
    page = tab.page
    sign_in_locally(page, app.url, "vera")
    expect(page.get_by_role("heading", name="Pipelines and environments, worst first")).to_be_visible()
    settle(page)
    shot(page, "overview-board")
    href = page.get_by_role("link", name="Service: failing").first.get_attribute("href") or ""
    assert href.startswith("/service_health?environment=") and "pipeline=" in href, href
    click_nav(page, "Service health")
    expect(page.get_by_role("heading", name="Service health", exact=True, level=1)).to_be_visible()
    expect(page.get_by_text("in breach of its SLA").first).to_be_visible()
    expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible()
    settle(page)
    shot(page, "service-health-breach")
