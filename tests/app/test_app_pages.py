"""Every page, for every role that may see it, in Streamlit's AppTest on a seeded demo database.

For each role: the pages in its navigation run without exception, show their
heading and the seeded data; pages outside its navigation are not routable,
and run directly they refuse.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from steward.app.ui.navigation import PAGES, PageSpec
from steward.core.domain.permissions import is_allowed
from steward.core.domain.roles import Role
from steward.core.setup.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from steward.core.steward import Steward
from testkit import REPO_ROOT, demo_tokens

ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")
ACCOUNT_FOR_ROLE = {
    Role(account.roles[0]): account.username for account in DEMO_ACCOUNTS if account.username != "sam"
}

# What each page must show from the seeded demo, beyond its heading.
SEEDED_TEXT: dict[str, str] = {
    "overview.py": "What serves where",
    "pipelines.py": "credit/train",
    "deployments.py": "Prod",
    "approvals.py": "promotion",
    "drift.py": "rows 1-8734",  # the bike monitor: all of 2012 against all of 2011
    "service_health.py": "Slowest requests",
    "infrastructure.py": "Database",
    "alerts.py": "bike-demand in Dev",
    "audit_log.py": "user.create",
    "admin.py": "Dana Scientist",
    "timeline.py": "what changed just before",
}
HEADINGS = {"drift.py": "Drift and data quality"}


@pytest.fixture(scope="module")
def demo(demo_steward: Steward) -> dict[str, str]:
    """A fresh session token per demo user, on this module's copy of the seeded demo."""
    return demo_tokens(demo_steward)


def all_text(at: AppTest) -> str:
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "success",
        "warning",
        "error",
        "metric",
        "text",
        "code",
    ):
        for element in at.get(kind):
            parts.append(str(getattr(element, "value", "")) + " " + str(getattr(element, "label", "")))
    for frame in at.dataframe:
        parts.append(frame.value.to_string())
    for tab in at.tabs:
        parts.append(tab.label)
    return "\n".join(parts)


def heading(page: PageSpec) -> str:
    return HEADINGS.get(page.file, page.title)


def open_app(token: str) -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = token
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("role", list(ACCOUNT_FOR_ROLE), ids=lambda role: role.value)
def test_role_sees_its_pages_with_seeded_data_and_not_the_others(demo: dict[str, str], role: Role) -> None:
    username = ACCOUNT_FOR_ROLE[role]
    at = open_app(demo[username])
    assert [title.value for title in at.title] == ["Overview"]  # the default page
    display_name = next(account.display_name for account in DEMO_ACCOUNTS if account.username == username)
    assert f"**{display_name}**" in [markdown.value for markdown in at.sidebar.markdown]
    for page in PAGES:
        relative = f"../pages/{page.file}"
        if is_allowed({role}, page.action):
            at.switch_page(relative).run()
            assert not at.exception, (page.file, at.exception)
            assert [title.value for title in at.title] == [heading(page)], page.file
            text = all_text(at)
            assert SEEDED_TEXT[page.file].lower() in text.lower(), (page.file, text[:2000])
        else:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(relative)


@pytest.mark.parametrize(
    ("page", "role"),
    [(page, role) for page in PAGES for role in ACCOUNT_FOR_ROLE if not is_allowed({role}, page.action)],
    ids=lambda value: getattr(value, "file", getattr(value, "value", str(value))),
)
def test_page_run_directly_refuses_a_role_without_access(
    demo: dict[str, str], page: PageSpec, role: Role
) -> None:
    """Even outside the navigation (e.g. Streamlit's legacy multipage mode), the page guards itself."""
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = demo[ACCOUNT_FOR_ROLE[role]]
    at.run()
    direct = AppTest.from_file(str(page.path), default_timeout=60)
    direct.session_state["steward_actor"] = at.session_state["steward_actor"]
    direct.run()
    assert [error.value for error in direct.error] == ["You do not have access to this page."]
    assert heading(page) not in [title.value for title in direct.title]


def test_anonymous_visitor_sees_only_the_sign_in_form(demo: dict[str, str]) -> None:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.run()
    assert not at.exception
    assert [title.value for title in at.title] == ["Steward"]
    assert {field.label for field in at.text_input} == {"User name", "Password"}
    direct = AppTest.from_file(str(PAGES[0].path), default_timeout=60).run()
    assert [error.value for error in direct.error] == ["You are not signed in."]


def test_sign_in_form_signs_in_and_wrong_password_is_refused(demo: dict[str, str]) -> None:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60).run()
    at.text_input(key="login_username").input("rick")
    at.text_input(key="login_password").input("not-the-password")
    at.button[0].click().run()
    assert [error.value for error in at.error] == ["User name or password is incorrect."]
    at.text_input(key="login_username").input("rick")
    at.text_input(key="login_password").input(DEMO_PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert [title.value for title in at.title] == ["Overview"]


def test_sign_out_ends_the_session(demo: dict[str, str], tmp_path: Path) -> None:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60).run()
    at.text_input(key="login_username").input("vera")
    at.text_input(key="login_password").input(DEMO_PASSWORD)
    at.button[0].click().run()
    token = at.session_state["steward_token"]
    at.button(key="sign_out").click().run()
    assert [title.value for title in at.title] == ["Steward"]
    assert any("You signed out" in warning.value for warning in at.warning)
    replay = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    replay.session_state["steward_token"] = token
    replay.run()
    assert [title.value for title in replay.title] == ["Steward"]  # the copied token is refused
