"""The Audit log page's filter widgets narrow the table (AppTest on the seeded demo)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from steward.core.domain.accounts import Actor
from steward.core.services.audit import AuditFilter
from steward.core.setup.demo import DEMO_PASSWORD
from steward.core.steward import Steward
from testkit import REPO_ROOT

ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")
SYSTEM = Actor.system_actor("test")


@pytest.fixture
def page(demo_steward: Steward) -> AppTest:
    """Rick, the demo's risk officer, on the Audit log page."""
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = demo_steward.auth.login("rick", DEMO_PASSWORD).token
    at.run()
    at.switch_page("../pages/audit_log.py").run()
    assert not at.exception, at.exception
    return at


def matching(at: AppTest) -> int:
    for markdown in at.markdown:
        found = re.fullmatch(r"(\d+) matching events", markdown.value)
        if found:
            return int(found.group(1))
    raise AssertionError("no 'N matching events' line on the page")


def objects(at: AppTest) -> set[str]:
    return set(at.dataframe[0].value["Object"]) if at.dataframe else set()


def test_object_type_and_id_narrow_the_table(page: AppTest, demo_steward: Steward) -> None:
    everything = matching(page)
    pipelines = demo_steward.audit.list(SYSTEM, AuditFilter(object_type="pipeline")).total
    assert 0 < pipelines < everything

    page.selectbox(key="audit_object_type").set_value("pipeline").run()
    assert not page.exception, page.exception
    assert matching(page) == pipelines
    assert objects(page) == {"pipeline:credit-default", "pipeline:bike-demand"}

    page.text_input(key="audit_object_id").input(" credit-default ").run()
    assert not page.exception, page.exception
    narrowed = demo_steward.audit.list(
        SYSTEM, AuditFilter(object_type="pipeline", object_id="credit-default")
    ).total
    assert 0 < narrowed < pipelines and matching(page) == narrowed
    assert objects(page) == {"pipeline:credit-default"}


def test_time_range_narrows_the_table_and_an_inverted_one_is_refused(
    page: AppTest, demo_steward: Steward
) -> None:
    everything = matching(page)
    events = demo_steward.audit.list(SYSTEM, limit=100_000).events
    first, last = min(e.occurred_at for e in events).date(), max(e.occurred_at for e in events).date()

    page.date_input(key="audit_since").set_value(last + timedelta(days=1)).run()
    assert not page.exception, page.exception
    assert matching(page) == 0 and "No events match these filters." in [i.value for i in page.info]

    page.date_input(key="audit_since").set_value(first).run()
    page.date_input(key="audit_until").set_value(last).run()
    assert not page.exception, page.exception
    assert matching(page) >= everything  # the whole seeded history (plus this visit's own sign-in)

    page.date_input(key="audit_until").set_value(first - timedelta(days=1)).run()
    assert not page.exception, page.exception
    assert any("end of the time range must come after its start" in e.value for e in page.error)
    assert not page.dataframe
