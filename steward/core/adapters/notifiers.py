"""Notifiers: how Steward tells people things outside the app.

Injected into the services so tests can read what would have been sent.
Topics so far: ``promotion.*`` (requested, approved, rejected, executed) and
``alert.opened`` (to the people who may manage alerts), each sent only after
its transaction committed. The in-process notifier sends nothing (the audit
event already recorded the fact); messages to channels (webhooks, e-mail)
leave through the outbox the worker drains, by :class:`NetworkOutbound`,
which checks and pins every address it connects to.
"""

from __future__ import annotations

import http.client
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import urlsplit

from steward.core.domain.notifications import address_problem


@dataclass(frozen=True)
class Notification:
    topic: str
    subject: str
    body: str
    recipients: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


class Notifier(Protocol):
    def send(self, notification: Notification) -> None: ...


class EventLogNotifier:
    """The default: the audit event already recorded the fact; nothing leaves the process."""

    def send(self, notification: Notification) -> None:
        return None


class MemoryNotifier:
    """Keeps what it was asked to send, for tests and the demo."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)


# ---- leaving the process: webhooks and e-mail, to checked and pinned addresses ----------------------
class OutboundRefused(Exception):
    """The address is not one Steward sends to (loopback, link-local, private...) or could not resolve."""


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None = None
    error: str = ""


def pinned_address(host: str, port: int, *, allow_private: bool) -> str:
    """Resolve ``host`` once and check every address it has; the one to connect to (pinned).

    Checking every answer, and connecting to the checked one rather than
    resolving again, stops a name that resolves differently the second time
    (DNS rebinding) from reaching an address the check refused.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused(f"cannot resolve {host[:200]}: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise OutboundRefused(f"{host[:200]} has no address")
    if not allow_private:
        for address in addresses:
            problem = address_problem(address)
            if problem:
                raise OutboundRefused(
                    f"refusing {host[:200]}: {problem}; an admin may allow private addresses for this channel"
                )
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)  # the name's certificate


class NetworkOutbound:
    """The real sender: one POST per webhook message, one SMTP session per e-mail; no redirects followed."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout

    def post(self, url: str, body: bytes, headers: dict[str, str], *, allow_private: bool) -> SendResult:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            address = pinned_address(host, port, allow_private=allow_private)
        except OutboundRefused as exc:
            return SendResult(False, None, str(exc))
        kind = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        connection = kind(host, port, address, self.timeout)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(
                "POST", path, body=body, headers={"Content-Type": "application/json", **headers}
            )
            response = connection.getresponse()
            response.read(65536)
        except (OSError, http.client.HTTPException) as exc:
            return SendResult(False, None, f"{type(exc).__name__}: {exc}"[:500])
        finally:
            connection.close()
        if 300 <= response.status < 400:
            where = response.getheader("Location", "")[:200]
            return SendResult(False, response.status, f"redirect to {where!r} not followed")
        if not 200 <= response.status < 300:
            return SendResult(False, response.status, f"HTTP {response.status} {response.reason}"[:200])
        return SendResult(True, response.status)

    def mail(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: tuple[str, ...],
        subject: str,
        text: str,
        *,
        allow_private: bool,
    ) -> SendResult:
        try:
            address = pinned_address(host, port, allow_private=allow_private)
        except OutboundRefused as exc:
            return SendResult(False, None, str(exc))
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, ", ".join(recipients), subject
        message.set_content(text)
        try:
            with smtplib.SMTP(address, port, timeout=self.timeout, local_hostname="steward") as smtp:
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult(False, None, f"{type(exc).__name__}: {exc}"[:500])
        return SendResult(True, 250)
