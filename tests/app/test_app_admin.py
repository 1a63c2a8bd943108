"""The Admin page with hostile input: refusals are one line, and typed text is never read as Markdown."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from steward.app.ui.text import md
from steward.core.domain.accounts import Actor
from steward.core.errors import InvalidInput
from steward.core.steward import Steward
from testkit import REPO_ROOT, TEST_SCRYPT_N

ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")
HOSTILE_GROUP = "[x](javascript:alert(1)) <img src=x onerror=alert(1)>"


@pytest.fixture
def admin_app(tmp_path) -> Iterator[tuple[AppTest, Steward]]:
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith("STEWARD_")]:
            patch.delenv(key)
        patch.setenv("STEWARD_DATA_DIR", str(tmp_path / "data"))
        patch.setenv("STEWARD_SCRYPT_N", str(TEST_SCRYPT_N))
        steward = Steward()
        steward.upgrade_database()
        steward.users.create(
            Actor.system_actor("test"), "root", roles=["admin"], password="a-long-test-password"
        )
        token = steward.auth.login("root", "a-long-test-password").token
        at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
        at.session_state["steward_token"] = token
        at.run()
        at.switch_page("../pages/admin.py").run()
        yield at, steward
        steward.close()
        st.cache_resource.clear()


def test_hostile_group_name_is_shown_escaped_in_the_confirmation(admin_app):
    at, steward = admin_app
    group_inputs = [t for t in at.text_input if t.label.startswith("Group")]
    group_inputs[0].input(HOSTILE_GROUP)
    next(b for b in at.button if b.label == "Map group").click().run()
    assert not at.exception
    assert [m.group_name for m in steward.group_mappings.list(Actor.system_actor("test"))] == [HOSTILE_GROUP]
    assert [s.value for s in at.success] == [md(f"Mapped {HOSTILE_GROUP} to viewer")]
    assert "](" not in at.success[0].value  # no Markdown link survives


def test_markup_user_name_is_refused_in_one_escaped_line_and_nothing_is_created(admin_app):
    at, steward = admin_app
    form = {t.label: t for t in at.text_input}
    form["User name"].input("<img src=x onerror=alert(1)>")
    form["Display name"].input("Mallory")
    at.multiselect[0].select("viewer")
    form["Initial password (12+ characters)"].input("a-long-enough-password")
    next(b for b in at.button if b.label == "Add user").click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "markup character" in errors[0] and r"\<" in errors[0]
    assert [u.username for u in steward.users.list(Actor.system_actor("test"))] == ["root"]


def test_hostile_display_name_is_plain_text_in_the_users_table(admin_app):
    at, steward = admin_app
    with pytest.raises(InvalidInput, match="RIGHT-TO-LEFT OVERRIDE"):
        steward.users.create(
            Actor.system_actor("test"),
            "eve",
            roles=["viewer"],
            password="a-long-test-password",
            display_name="\u202eevil",
        )
    steward.users.create(
        Actor.system_actor("test"),
        "eve",
        roles=["viewer"],
        password="a-long-test-password",
        display_name="[click](javascript:alert(1)) <b>x</b>",
    )
    at.run()
    table = at.dataframe[0].value
    assert table.loc[table["User"] == "eve", "Name"].iloc[0] == "[click](javascript:alert(1)) <b>x</b>"


def rename_form(at: AppTest, old: str, new: str) -> None:
    at.selectbox(key="rename_env_from").set_value(old)
    at.text_input(key="rename_env_to").input(new)
    next(b for b in at.button if b.label == "Rename environment").click().run()
    assert not at.exception, at.exception


def test_an_admin_renames_an_environment_and_the_table_shows_the_new_name(admin_app):
    at, steward = admin_app
    rename_form(at, "Test", "QA")
    assert [s.value for s in at.success] == [md("Environment Test renamed to QA")]
    assert [e.name for e in steward.environments.list()] == ["Dev", "QA", "Prod"]
    table = next(d.value for d in at.dataframe if "Tier" in d.value.columns)
    assert list(table["Environment"]) == ["Dev", "QA", "Prod"]
    assert at.selectbox(key="rename_env_from").options == ["Dev", "QA", "Prod"]
    event = steward.audit.recent(1)[0]
    assert (event.action, event.actor, event.before["name"], event.after["name"]) == (
        "environment.rename",
        "root",
        "Test",
        "QA",
    )


@pytest.mark.parametrize(
    ("new_name", "message"),
    [
        ("<img src=x onerror=alert(1)>", "markup characters"),
        ("Prod", "already exists"),
        ("a/b", "path separators"),
    ],
)
def test_a_bad_or_taken_name_is_refused_in_one_escaped_line_and_nothing_is_renamed(
    admin_app, new_name, message
):
    at, steward = admin_app
    rename_form(at, "Test", new_name)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and message in errors[0] and "\n" not in errors[0], errors
    assert "<" not in errors[0].replace("\\<", "")  # any quoted '<' is escaped, never read as HTML
    assert not at.success
    assert [e.name for e in steward.environments.list()] == ["Dev", "Test", "Prod"]


def test_lowering_prod_on_the_page_waits_and_a_second_admin_applies_it(admin_app):
    """Four eyes on Prod's rules, through the page: the proposer sees it wait, another admin applies it."""
    from dataclasses import replace

    at, steward = admin_app
    root = steward.auth.resume(at.session_state["steward_token"])
    prod = steward.promotions.policy("Prod")
    lowered = replace(prod.gates, require_no_critical_alert=False)
    change = steward.promotions.set_policy(root, "Prod", prod.signoff, lowered, reason="noisy alerts")
    at.run()
    assert not at.exception
    texts = " ".join(m.value for m in at.markdown)
    assert (
        f"Change #{change.id} to **Prod**" in texts and "open critical alerts would no longer block" in texts
    )
    labels = [b.label for b in at.button]
    assert f"Apply change #{change.id} to Prod" not in labels and "Withdraw" in labels  # not one's own

    steward.users.create(
        Actor.system_actor("test"), "second", roles=["admin"], password="a-long-test-password"
    )
    at.session_state["steward_token"] = steward.auth.login("second", "a-long-test-password").token
    at.run()
    next(b for b in at.button if b.label == f"Apply change #{change.id} to Prod").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [md(f"Policy change #{change.id} applied to Prod")]
    assert not steward.promotions.policy("Prod").gates.require_no_critical_alert
