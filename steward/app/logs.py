"""One log format for every Steward process, set up by the entrypoints (app, worker, CLI, serving).

Core modules only ask ``logging.getLogger(__name__)``; which lines are kept and
how they look is decided here, once per process, from two settings:

- ``STEWARD_LOG_LEVEL``: DEBUG, INFO, WARNING, ERROR (default: the
  entrypoint's, INFO for long-running processes, WARNING for CLI commands);
- ``STEWARD_LOG_FORMAT``: ``text`` (default; one line a person reads) or
  ``json`` (one object per line for a log collector: ``ts``, ``level``,
  ``logger``, ``process``, ``message``, any ``extra={...}`` fields, and
  ``exc_info`` as text).

Standard library only, so configuring logging costs nothing at start-up.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Any, Final

LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS: Final = ("text", "json")
# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is structured data.
_RECORD_FIELDS: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
# Libraries that narrate every step at INFO; their warnings still show.
QUIET: Final = ("alembic", "apscheduler", "urllib3", "httpx", "httpcore", "watchdog")


class LogSettingError(ValueError):
    """A STEWARD_LOG_* variable with a value Steward does not know."""


def _utc(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; values JSON cannot hold are written as their ``str``."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _utc(record),
            "level": record.levelname,
            "logger": record.name,
            "process": self.process,
            "message": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``2026-12-07T11:00:00.000+00:00 worker INFO steward.x: message key=value``."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = f"{_utc(record)} {self.process} {record.levelname} {record.name}: {record.getMessage()}"
        if extras:
            line += f" {extras}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def log_level(default: str) -> int:
    """The level from STEWARD_LOG_LEVEL, or DEFAULT; one clear error for a value that is not a level."""
    name = (os.environ.get("STEWARD_LOG_LEVEL") or default).strip().upper()
    if name not in LEVELS:
        raise LogSettingError(f"STEWARD_LOG_LEVEL must be one of {', '.join(LEVELS)}, got {name!r}")
    return int(logging.getLevelName(name))


def log_format() -> str:
    name = (os.environ.get("STEWARD_LOG_FORMAT") or "text").strip().lower()
    if name not in FORMATS:
        raise LogSettingError(f"STEWARD_LOG_FORMAT must be text or json, got {name!r}")
    return name


def formatter(process: str) -> logging.Formatter:
    return JsonFormatter(process) if log_format() == "json" else TextFormatter(process)


def configure_logging(process: str = "cli", *, default_level: str = "INFO") -> None:
    """Send every logger's records through one handler on stderr in the chosen format.

    Replaces only its own handler, so calling it again (as Streamlit's reruns
    do) does not duplicate lines and handlers others added (pytest) stay.
    """
    from steward.core.errors import ConfigurationError

    try:
        level, chosen = log_level(default_level), formatter(process)
    except LogSettingError as exc:
        raise ConfigurationError(str(exc)) from None
    handler = logging.StreamHandler()
    handler.setFormatter(chosen)
    handler.set_name("steward")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "steward"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
