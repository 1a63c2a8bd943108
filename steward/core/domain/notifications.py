"""Notification channels: who hears of which incident, how a webhook body is signed, and where we may send.

Pure rules, so the outbox writer, the worker's sender and the tests agree:
routing by severity and pipeline; the HMAC-SHA256 signature over
``"<timestamp>.<body>"`` that receivers verify (and use to refuse replays);
the backoff between retries; and the outbound-address rule that keeps a
webhook URL from reaching loopback, link-local or private addresses unless an
admin allowed that channel explicitly.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from steward.core.domain.signals import Severity
from steward.core.errors import InvalidInput

SIGNATURE_HEADER = "X-Steward-Signature"
TIMESTAMP_HEADER = "X-Steward-Timestamp"
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 30
_SEVERITY_LEVEL = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after MAX_ATTEMPTS


@dataclass(frozen=True)
class Channel:
    id: int
    name: str
    kind: ChannelKind
    target: str
    min_severity: Severity
    pipelines: tuple[str, ...]  # empty: every pipeline
    recipients: tuple[str, ...]
    sender: str
    allow_private: bool
    notify_people: bool
    enabled: bool
    created_by: str
    created_at: datetime
    has_secret: bool

    def routes(self, severity: Severity, pipeline: str | None) -> bool:
        """Does an incident of ``severity`` on ``pipeline`` go to this channel?"""
        if not self.enabled or _SEVERITY_LEVEL[severity] < _SEVERITY_LEVEL[self.min_severity]:
            return False
        return not self.pipelines or (pipeline is not None and pipeline in self.pipelines)


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    channel_id: int
    channel_name: str
    topic: str
    subject: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class Delivery:
    id: int
    outbox_id: int
    channel_name: str
    subject: str
    attempt: int
    attempted_at: datetime
    ok: bool
    status_code: int | None
    error: str


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex>``: HMAC-SHA256 over ``b"<timestamp>." + body`` with the channel's secret."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    """What a receiver does (constant time); a receiver should also refuse an old timestamp."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failure: 30 s, 1 min, 2 min, 4 min, ... capped at an hour."""
    return timedelta(seconds=min(3600, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1)))


def address_problem(address: str) -> str | None:
    """Why a resolved IP address is no place to send to without an admin's explicit exception, or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, what in (
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address (cloud metadata lives there)"),
        (ip.is_private, "a private address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    ):
        if test:
            return f"{address} is {what}"
    return None


def validate_webhook_url(url: str) -> str:
    """An http(s) URL with a host and no credentials in it; the address is checked when sending."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise InvalidInput("a webhook URL must start with http:// or https://")
    if not parts.hostname:
        raise InvalidInput("a webhook URL needs a host")
    if parts.username or parts.password:
        raise InvalidInput(
            "put no credentials in a webhook URL; the body is signed with the channel's secret"
        )
    if len(text) > 2000:
        raise InvalidInput("a webhook URL is longer than 2000 characters")
    return text


def validate_smtp_target(target: str) -> tuple[str, int]:
    """``smtp://host:port`` -> (host, port)."""
    parts = urlsplit((target or "").strip())
    if parts.scheme != "smtp" or not parts.hostname:
        raise InvalidInput("an e-mail channel's server must look like smtp://host:port")
    try:
        port = parts.port or 25
    except ValueError:
        raise InvalidInput("the SMTP port must be a number between 1 and 65535") from None
    return parts.hostname, port


def validate_addresses(text: str) -> tuple[str, ...]:
    addresses = tuple(a.strip() for a in (text or "").replace(";", ",").split(",") if a.strip())
    for address in addresses:
        local, at, domain = address.partition("@")
        if not (local and at and "." in domain) or any(c in address for c in " \r\n<>"):
            raise InvalidInput(f"{address[:80]!r} is not an e-mail address")
    return addresses
