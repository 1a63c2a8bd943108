"""What every command group shares: who acts, how Steward is opened, how values are shown.

Kept free of heavy imports: ``steward --help`` imports this module's
dependents' help only, and opening Steward (SQLAlchemy, the services) waits
until a command runs.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from steward.core.domain.accounts import Actor

if TYPE_CHECKING:
    from steward.core.steward import Steward

PACKAGE_DIR = Path(__file__).resolve().parents[2]
AS_HELP = "Act (and be audited) as this user, with their roles, instead of as the CLI."


def cli_actor(purpose: str = "cli") -> Actor:
    """Whoever runs the CLI has the server's shell; the audit log still names the OS account."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor.system_actor(f"{purpose}:{who}")


def acting(steward: Steward, as_user: str | None) -> Actor:
    """The CLI acts as itself, or as a named user whose current roles then apply (and are audited)."""
    if not as_user:
        return cli_actor()
    user = steward.users.get(cli_actor(), as_user)
    return Actor(
        username=user.username,
        roles=user.roles,
        user_id=user.id,
        source="cli",
        display_name=user.display_name,
    )


def open_steward() -> Steward:
    """The engine, proven reachable; imported here so only commands that need it pay for it."""
    from steward.core.steward import Steward

    return Steward.open()


def format_metrics(metrics: Mapping[str, float | None]) -> str:
    return ", ".join(
        f"{name} {value:.3f}" for name, value in sorted(metrics.items()) if isinstance(value, float)
    )


def sample_data_dir() -> Path:
    return Path(os.environ.get("STEWARD_SAMPLE_DATA", PACKAGE_DIR / "sample_data"))
