"""Notifications leave through the outbox to real receivers on loopback: a local HTTP server checks the
HMAC signature and fails on purpose; an aiosmtpd server receives the mail; unsafe addresses are refused.

Loopback receivers are reached only through the admin's explicit allow (``allow_private``), the way an
operator would allow an internal endpoint; without it, the same URLs are refused before any connection.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from test_promotions_support import build_world

from steward.core.adapters.db.models import NotificationOutboxRow
from steward.core.adapters.notifiers import NetworkOutbound, OutboundRefused, pinned_address
from steward.core.domain.accounts import Actor
from steward.core.domain.alert_rules import SLA_KIND
from steward.core.domain.notifications import SIGNATURE_HEADER, TIMESTAMP_HEADER, backoff, verify
from steward.core.errors import InvalidInput, PermissionDenied
from steward.core.services.alerting import raise_alert
from steward.core.services.uow import UnitOfWork
from steward.core.steward import Steward
from testkit import PASSWORD, add_user, sign_in

SECRET = "receiver-shared-secret-0123456789"
MONITOR = Actor.system_actor("sla")


@dataclass
class Receiver:
    port: int
    fail_first: int = 0
    redirect_to: str = ""
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    accepted: list[dict[str, object]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/steward?team=ops"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((dict(self.headers.items()), body))
            if state.redirect_to:
                self.send_response(302)
                self.send_header("Location", state.redirect_to)
                self.end_headers()
                return
            ok = verify(SECRET, int(self.headers[TIMESTAMP_HEADER]), body, self.headers[SIGNATURE_HEADER])
            if not ok or len(state.requests) <= state.fail_first:
                self.send_response(401 if not ok else 503)
                self.end_headers()
                return
            state.accepted.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def admin(steward: Steward) -> Actor:
    add_user(steward, "admin1", "admin")
    return sign_in(steward, "admin1")


def fire(steward: Steward, *, pipeline: str = "bike-demand", environment: str = "Prod") -> None:
    with UnitOfWork(steward.ctx) as uow:
        raise_alert(
            uow, MONITOR, SLA_KIND, pipeline=pipeline, environment=environment, detail="p95 over target"
        )
        uow.commit()


def outbox_count(steward: Steward) -> int:
    with UnitOfWork(steward.ctx, write=False) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(NotificationOutboxRow)) or 0)


def test_a_signed_body_that_verifies_arrives_once_after_three_failures(steward, admin, receiver, clock):
    receiver.fail_first = 3
    steward.notifications.add_channel(
        admin, "ops-hook", "webhook", receiver.url, secret=SECRET, min_severity="critical", allow_private=True
    )
    assert steward.audit.recent(1)[0].after["allow_private"] is True  # the explicit allow is on record
    fire(steward)
    for _ in range(10):
        fire(steward)  # repeats of an unchanged incident: nothing new to say
    assert outbox_count(steward) == 1 and receiver.requests == []  # nothing sent in the request itself
    for attempt in range(1, 5):
        run = steward.notifications.deliver_due()
        assert (run.delivered, run.failed) == ((1, 0) if attempt == 4 else (0, 1))
        assert steward.notifications.deliver_due().failed == 0  # not due again before its backoff
        clock.advance(seconds=backoff(attempt).total_seconds())
    assert steward.notifications.deliver_due() == type(run)(0, 0, 0)
    assert len(receiver.requests) == 4 and len(receiver.accepted) == 1
    [message] = receiver.accepted
    assert (message["topic"], message["kind"], message["pipeline"], message["environment"]) == (
        "alert.open",
        SLA_KIND,
        "bike-demand",
        "Prod",
    )
    headers, body = receiver.requests[-1]
    assert verify(SECRET, int(headers[TIMESTAMP_HEADER]), body, headers[SIGNATURE_HEADER])
    assert not verify(
        "another-secret-entirely-000", int(headers[TIMESTAMP_HEADER]), body, headers[SIGNATURE_HEADER]
    )
    log = steward.notifications.deliveries()
    assert [(d.attempt, d.ok, d.status_code) for d in reversed(log)] == [
        (1, False, 503),
        (2, False, 503),
        (3, False, 503),
        (4, True, 200),
    ]
    [sent] = steward.notifications.outbox()
    assert (sent.status.value, sent.attempts) == ("delivered", 4)


def test_routing_by_severity_and_pipeline(steward, admin, receiver):
    steward.notifications.add_channel(
        admin,
        "credit-only",
        "webhook",
        receiver.url,
        secret=SECRET,
        pipelines="credit-default",
        allow_private=True,
    )
    fire(steward, pipeline="bike-demand")
    assert outbox_count(steward) == 0
    fire(steward, pipeline="credit-default")
    assert outbox_count(steward) == 1
    with UnitOfWork(steward.ctx) as uow:
        raise_alert(uow, MONITOR, "batch.late", pipeline="credit-default", environment="Prod", value=5)
        uow.commit()  # below the late rule's threshold: no incident, nothing to send
    assert outbox_count(steward) == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/x", "http://localhost:{port}/x"])
def test_loopback_is_refused_without_the_admins_allow(steward, admin, receiver, url):
    steward.notifications.add_channel(
        admin, "naive", "webhook", url.format(port=receiver.port), secret=SECRET
    )
    fire(steward)
    run = steward.notifications.deliver_due()
    assert run.failed == 1 and receiver.requests == []  # refused before connecting
    [attempt] = steward.notifications.deliveries()
    assert "loopback" in attempt.error and not attempt.ok


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("10.20.30.40", "private"),
        ("192.168.1.10", "private"),
        ("::1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
    ],
)
def test_the_address_check_refuses_before_any_connection(address, why):
    with pytest.raises(OutboundRefused, match=why):
        pinned_address(address, 80, allow_private=False)


def test_a_redirect_to_the_metadata_address_is_not_followed(steward, admin, receiver):
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data/"
    result = NetworkOutbound(timeout=5).post(receiver.url, b"{}", {}, allow_private=True)
    assert not result.ok and result.status_code == 302 and "not followed" in result.error
    assert len(receiver.requests) == 1


def test_only_admins_add_channels_and_bad_ones_are_refused(steward, admin):
    add_user(steward, "otto", "operator")
    with pytest.raises(PermissionDenied):
        steward.notifications.add_channel(
            sign_in(steward, "otto"), "x", "webhook", "https://example.org/h", secret=SECRET
        )
    for target, secret in (
        ("ftp://example.org/h", SECRET),
        ("https://user:pw@example.org/h", SECRET),
        ("https://example.org/h", "short"),
    ):
        with pytest.raises(InvalidInput):
            steward.notifications.add_channel(admin, "bad", "webhook", target, secret=secret)
    assert steward.notifications.channels() == []


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, _server: object, _session: object, envelope: object) -> str:
        content = envelope.content.decode()  # type: ignore[attr-defined]
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def test_an_smtp_server_receives_the_incident_mail(steward, admin, smtp):
    port, inbox = smtp
    steward.notifications.add_channel(
        admin,
        "ops-mail",
        "email",
        f"smtp://127.0.0.1:{port}",
        recipients="oncall@example.org",
        sender="steward@example.org",
        allow_private=True,
    )
    fire(steward)
    assert steward.notifications.deliver_due().delivered == 1
    [(sender, rcpts, content)] = inbox.messages
    assert sender == "steward@example.org" and rcpts == ["oncall@example.org"]
    assert "incident #" in content and "SLA breach" in content and "bike-demand" in content


def test_a_promotion_awaiting_sign_off_mails_the_people_who_may_sign(steward, admin, smtp):
    port, inbox = smtp
    steward.users.create(
        Actor.system_actor("test"),
        "sia",
        roles=("data_scientist",),
        password=PASSWORD,
        email="sia@example.org",
    )
    world = build_world(steward, versions=1)
    steward.notifications.add_channel(
        admin,
        "people",
        "email",
        f"smtp://127.0.0.1:{port}",
        sender="steward@example.org",
        notify_people=True,
        allow_private=True,
    )
    s = world.steward
    s.promotions.request(world["dana"], world.pipeline, 1, "Dev", "try it")
    s.promotions.request(world["dana"], world.pipeline, 1, "Test", "ready for checks")
    assert steward.notifications.deliver_due().delivered == 1
    [(_sender, rcpts, content)] = inbox.messages
    assert rcpts == ["sia@example.org"] and "Sign-off wanted" in content
