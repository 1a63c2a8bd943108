"""The Alerts page in Streamlit's AppTest on the seeded demo: an operator resolves an alert, others only see.

The alert is real: an artifact of the demo's bike-demand pipeline is changed
on disk and the registry's integrity check (the worker's daily job) finds it.
The tests run in order on one worker (one database).
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from steward.app.ui.text import md
from steward.core.domain.accounts import Actor
from steward.core.domain.alerts import Alert, AlertStatus
from steward.core.domain.audit import Outcome
from steward.core.domain.permissions import Action, is_allowed
from steward.core.domain.roles import Role
from steward.core.services.uow import UnitOfWork
from steward.core.setup.demo import DEMO_ACCOUNTS
from steward.core.steward import Steward
from testkit import REPO_ROOT, demo_tokens

pytestmark = pytest.mark.xdist_group("app_alerts")
ENTRYPOINT = str(REPO_ROOT / "steward" / "app" / "streamlit_app.py")
UNESCAPED_TAG = re.compile(r"(?<!\\)<img")
HOSTILE = "[x](javascript:alert(1)) <img src=x onerror=alert(1)> **bold**"


@pytest.fixture(scope="module")
def demo(demo_steward: Steward) -> tuple[Steward, dict[str, str], Alert]:
    """The module's demo copy with one tampered artifact found by the integrity check."""
    steward = demo_steward
    version = steward.pipelines.versions("bike-demand")[0]
    path = steward.settings.resolved_artifact_root / version.artifact_uri
    path.write_bytes(path.read_bytes() + b"tampered")
    assert steward.pipelines.verify_artifacts(Actor.system_actor("worker"))
    [alert] = [a for a in steward.alerts.unresolved() if a.object_id == f"bike-demand/{version.label}"]
    return steward, demo_tokens(steward), alert


def open_alerts(token: str) -> AppTest:
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = token
    at.run()
    at.switch_page("../pages/alerts.py").run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [
        str(getattr(e, "value", ""))
        for kind in ("title", "subheader", "markdown", "caption", "text", "info", "success", "error")
        for e in at.get(kind)
    ]
    parts += [e.label for e in at.expander]
    parts += [frame.value.to_string() for frame in at.dataframe]
    return "\n".join(parts)


def manage_buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button if b.label in ("Acknowledge", "Resolve")]


def test_the_open_alert_shows_what_where_since_and_its_evidence(demo):
    _steward, tokens, alert = demo
    at = open_alerts(tokens["rick"])
    subheaders = [s.value for s in at.subheader]
    assert subheaders[0].startswith("Open incidents") and "Monitor signals" in subheaders
    assert "Alert rules" in subheaders and "Notifications sent" in subheaders  # the log; channels: Admin
    [table, *_] = at.dataframe
    row = table.value.set_index("Alert").loc[f"#{alert.id}"]
    assert (
        row["What"] == "Artifact integrity failure"
        and row["Where"] == f"bike-demand, version {alert.object_id[-2:]}"
    )
    assert row["Evidence"] == f"audit #{alert.first_seq}" and row["Look at"] == "Pipelines page"
    assert row["Occurrences"] == 1 and "critical" in row["Severity"]
    assert "bike-demand in Dev" in texts(at)  # the derived signals are still there


@pytest.mark.parametrize(
    "username", [a.username for a in DEMO_ACCOUNTS if is_allowed(set(map(Role, a.roles)), Action.VIEW_ALERTS)]
)
def test_only_roles_that_manage_alerts_get_the_buttons(demo, username):
    _steward, tokens, _alert = demo
    roles = next(set(map(Role, a.roles)) for a in DEMO_ACCOUNTS if a.username == username)
    at = open_alerts(tokens[username])
    allowed = is_allowed(roles, Action.MANAGE_ALERTS)
    board = len(_steward.alerts.unresolved())  # the tampered artifact and the demo's bike-demand incidents
    assert board >= 2
    assert manage_buttons(at) == (["Acknowledge", "Resolve"] * board if allowed else []), username
    # each incident's comment box and the rule editor's runbook go with them
    assert len(at.text_area) == (board + 1 if allowed else 0), username


def test_hostile_text_in_an_alert_is_shown_as_text(demo):
    steward, tokens, _alert = demo
    with UnitOfWork(steward.ctx) as uow:
        uow.record(
            Actor.system_actor("worker"),
            "batch.run",
            object_type="monitor",
            object_id=HOSTILE,
            outcome=Outcome.FAILED,
            detail=HOSTILE,
            after={"pipeline": "bike-demand"},
        )
        uow.commit()
    at = open_alerts(tokens["otto"])
    assert HOSTILE in [t.value for t in at.text]  # st.text: shown as typed, never rendered
    labels = [e.label for e in at.expander if "javascript" in e.label]  # Markdown: every special escaped
    assert labels and all("\\[x\\]\\(javascript" in label and "\\<img" in label for label in labels)
    for text in [*labels, *(e.value for e in [*at.markdown, *at.caption])]:
        assert "](javascript" not in text and not UNESCAPED_TAG.search(text), text
    hostile = next(a for a in steward.alerts.unresolved() if a.detail == HOSTILE)
    steward.alerts.resolve(Actor.system_actor("test"), hostile.id, "test alert, closed")


def test_an_operator_resolves_the_alert_on_the_page_with_a_comment(demo):
    steward, tokens, alert = demo
    at = open_alerts(tokens["otto"])
    at.button(key=f"resolve_{alert.id}").click().run()
    assert any("needs a comment" in e.value for e in at.error), texts(at)
    assert steward.alerts.get(alert.id).status is AlertStatus.OPEN

    at = open_alerts(tokens["otto"])
    at.text_area(key=f"alert_comment_{alert.id}").input("artifact restored from the backup")
    at.button(key=f"acknowledge_{alert.id}").click().run()
    assert not at.exception, at.exception
    assert any(s.value == md(f"Alert #{alert.id} acknowledged.") for s in at.success), texts(at)
    assert steward.alerts.get(alert.id).acknowledged_by == "otto"

    at = open_alerts(tokens["otto"])
    at.text_area(key=f"alert_comment_{alert.id}").input("artifact restored from the backup, re-hashed")
    at.button(key=f"resolve_{alert.id}").click().run()
    assert not at.exception, at.exception
    assert any(s.value == md(f"Alert #{alert.id} resolved.") for s in at.success), texts(at)
    resolved = steward.alerts.get(alert.id)
    assert (resolved.status, resolved.resolved_by) == (AlertStatus.RESOLVED, "otto")
    assert resolved.resolution == "artifact restored from the backup, re-hashed"
    event = steward.audit.recent(1)[0]
    assert (event.action, event.actor, event.object_id) == ("alert.resolve", "otto", str(alert.id))

    at = open_alerts(tokens["otto"])
    assert "Recently resolved" in [s.value for s in at.subheader]
    assert "artifact restored from the backup, re-hashed" in texts(at)
    assert f"resolve_{alert.id}" not in [b.key for b in at.button]  # nothing left to act on for it


def test_channels_are_configured_on_admin_not_on_alerts(demo):
    steward, tokens, _alert = demo
    at = open_alerts(tokens["admin"])  # even an admin: the Alerts page only shows what was sent
    assert not [f for f in at.get("form") if "add_channel" in str(getattr(f, "id", ""))]
    assert "Add channel" not in [b.label for b in at.button]
    at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
    at.session_state["steward_token"] = tokens["admin"]
    at.run()
    at.switch_page("../pages/admin.py").run()
    assert not at.exception, at.exception
    assert "Notification channels" in [t.label for t in at.tabs]
    form_inputs = {t.label: t for t in at.text_input}
    form_inputs["Name"].input("ops-hook")
    form_inputs["Webhook URL, or smtp://host:port"].input("https://hooks.example.com/steward")
    form_inputs["Signing secret (webhook)"].input("a-signing-secret-of-enough-length")
    next(b for b in at.button if b.label == "Add channel").click().run()
    assert not at.exception, at.exception
    assert any(s.value == md("Channel ops-hook added.") for s in at.success), texts(at)
    assert [c.name for c in steward.notifications.channels()] == ["ops-hook"]
    event = steward.audit.recent(1)[0]
    assert (event.actor, event.object_type) == ("admin", "notification_channel")
