"""Approvals link each sign-off to the card of the version under review, and say what serves there now.

The Pipelines page reads ``?pipeline=...&version=...`` to open that version's
card; here the link's target and query are checked as the page draws them.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from steward.core.domain.promotions import RequestStatus
from steward.core.steward import Steward
from testkit import REPO_ROOT, demo_tokens

pytestmark = pytest.mark.xdist_group("app_review_links")
ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")


@pytest.fixture(scope="module")
def demo(demo_steward: Steward) -> tuple[Steward, dict[str, str]]:
    return demo_steward, demo_tokens(demo_steward)


def open_page(token: str, page: str) -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = token
    at.run()
    at.switch_page(f"../pages/{page}").run()
    assert not at.exception, at.exception
    return at


def links(at: AppTest) -> dict[str, tuple[str, dict[str, list[str]]]]:
    """Each page link's label -> (target page file, query)."""
    found = {}
    for element in at.get("page_link"):
        proto = element.proto
        found[proto.label] = (proto.page, parse_qs(proto.query_string))
    return found


def test_a_sign_off_links_to_the_card_under_review_and_names_what_serves(demo):
    steward, tokens = demo
    request = next(
        r for r in steward.promotions.list(status=RequestStatus.PENDING) if r.environment_name == "Prod"
    )
    at = open_page(tokens["rick"], "approvals.py")
    label = f"Model card of {request.pipeline_name} v{request.version_number} (under review)"
    page, query = links(at)[label]
    assert page.endswith("pipelines")
    assert query == {"pipeline": [request.pipeline_name], "version": [str(request.version_number)]}
    serving = steward.deployments.serving("Prod")
    said = "\n".join(str(m.value) for m in at.markdown)
    if any(d.pipeline_name == request.pipeline_name for d in serving):
        assert "Serving Prod now" in said
    else:
        assert "Nothing serves credit\\-default in Prod yet." in said


def test_see_hints_are_links_only_to_pages_the_reader_can_open(demo):
    steward, tokens = demo
    from steward.app.ui.navigation import PAGES
    from steward.core.domain.accounts import Actor
    from steward.core.domain.permissions import is_allowed

    lamps = [lamp.page for lamp in steward.signals.lamps()]
    assert "Infrastructure" in lamps
    for name in ("bea", "otto"):
        at = open_page(tokens[name], "overview.py")
        actor = steward.users.get(Actor.system_actor("test"), name)
        opened = {spec.title for spec in PAGES if is_allowed(actor.roles, spec.action)}
        shown = {label.removeprefix("See ") for label in links(at)}
        assert shown == {title for title in lamps if title in opened}, name
        assert "see Infrastructure" not in "\n".join(str(c.value) for c in at.caption)
        if name == "bea":
            assert "Infrastructure" not in shown, "bea cannot open Infrastructure: no hint sends her there"
