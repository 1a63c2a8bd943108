"""Notifiers: how Steward tells people things outside the app.

Injected into the services so tests can read what would have been sent.
Topics so far: ``promotion.*`` (requested, approved, rejected, executed) and
``alert.opened`` (to the people who may manage alerts), each sent only after
its transaction committed. Until webhooks and e-mail exist the default sends
nothing: the audit event already recorded the fact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


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
