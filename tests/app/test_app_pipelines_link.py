"""A link opens Pipelines on the card of one version (the one under review), in one read.

``/pipelines?pipeline=credit-default&version=2`` is how Approvals links to
"the card of the version under review"; the seeded demo has v2 of
credit-default awaiting sign-off for Prod while v3 is the latest.
"""

from __future__ import annotations

import re

import pytest
from sqlcount import counting
from streamlit.testing.v1 import AppTest

from steward.core.domain.pipelines_page import card_url
from steward.core.setup.demo import as_user
from steward.core.steward import Steward
from testkit import REPO_ROOT, demo_tokens

ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")
PAGE = "../pages/pipelines.py"
VERSION = "pipelines_version_credit-default"


@pytest.fixture(scope="module")
def demo(demo_steward: Steward) -> tuple[Steward, dict[str, str]]:
    return demo_steward, demo_tokens(demo_steward)


def open_link(token: str, **query: str) -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=120)
    at.session_state["steward_token"] = token
    at.run()
    at.query_params.update(query)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def subheaders(at: AppTest) -> list[str]:
    return [unescape(s.value) for s in at.subheader]


def warnings(at: AppTest) -> str:
    return " ".join(unescape(w.value) for w in at.warning)


def test_a_link_opens_the_card_of_the_version_awaiting_sign_off(demo: tuple[Steward, dict[str, str]]) -> None:
    _, tokens = demo
    at = open_link(tokens["bea"], pipeline="credit-default", version="2")
    assert at.selectbox(key="pipelines_choice").value == "credit-default"
    selector = at.selectbox(key=VERSION)
    assert selector.value == 2
    assert "Model card: credit-default v2" in subheaders(at)
    assert len(selector.options) == 3 and selector.options[0].startswith("v3 · latest")
    assert selector.options[1].startswith("v2 · deployed in Dev, Test · awaiting sign-off for Prod")
    assert (at.query_params["pipeline"], at.query_params["version"]) == ("credit-default", "2")

    # Choosing another version from there follows the choice, and the address follows it too.
    selector.set_value(1).run()
    assert not at.exception, at.exception
    assert "Model card: credit-default v1" in subheaders(at)
    assert at.query_params["version"] == "1"


def test_a_link_to_a_missing_version_opens_the_latest_and_says_so(
    demo: tuple[Steward, dict[str, str]],
) -> None:
    _, tokens = demo
    at = open_link(tokens["vera"], pipeline="credit-default", version="9")
    assert at.selectbox(key=VERSION).value == 3
    assert "credit-default has no version '9': showing its latest." in warnings(at)
    at = open_link(tokens["vera"], pipeline="no-such-pipeline")
    assert "There is no pipeline named 'no-such-pipeline'" in warnings(at)


def test_the_page_is_one_read_whatever_the_number_of_versions(demo: tuple[Steward, dict[str, str]]) -> None:
    steward, _ = demo
    bea = as_user(steward, "bea")
    with counting(steward) as cost:
        view = steward.pipelines.page(bea, pipeline="credit-default", version=2)
    assert view.version is not None and view.version.number == 2
    assert view.previous is not None and view.previous.number == 1
    assert view.awaiting == {2: ("Prod",)} and view.card is not None
    assert not view.can_train and not view.retrain_from  # a business reviewer looks, never trains
    assert (cost.reads, cost.writes) == (1, 0), cost
    assert cost.statements <= 14, cost
    assert card_url("credit-default", 2) == "/pipelines?pipeline=credit-default&version=2"


def test_the_one_read_costs_less_than_the_reads_it_replaced(demo: tuple[Steward, dict[str, str]]) -> None:
    """The page used to make six reads (environments, the list with every version, the versions, three
    data set lists); the list alone loaded every version's chart data."""
    steward, _ = demo
    bea = as_user(steward, "bea")
    with counting(steward) as before:
        steward.environments.list()
        steward.pipelines.list()
        steward.pipelines.versions("credit-default")
        for role in ("production", "labels", None):
            steward.datasets.list(role=role)
    with counting(steward) as now:
        steward.pipelines.page(bea, pipeline="credit-default")
    print(f"before: {before.transactions} transactions, {before.statements} statements")
    print(f"now: {now.transactions} transaction, {now.statements} statements")
    assert before.transactions == 6 and now.transactions == 1
