"""What a process checks before it serves: in production, no default secret and no demo password."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from steward.core.adapters.db.models import UserRow
from steward.core.config import streamlit_secrets_problems
from steward.core.domain.passwords import verify_password
from steward.core.errors import ConfigurationError
from steward.core.services.uow import UnitOfWork
from steward.core.setup.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from steward.core.steward import Steward


def demo_passwords_in_use(steward: Steward) -> list[str]:
    """Active demo accounts whose password is still the published demo password."""
    names = [account.username for account in DEMO_ACCOUNTS]
    with UnitOfWork(steward.ctx, write=False) as uow:
        rows = uow.session.execute(
            select(UserRow.username, UserRow.password_hash).where(
                UserRow.username.in_(names), UserRow.active.is_(True), UserRow.password_hash.is_not(None)
            )
        ).all()
    return [name for name, stored in rows if stored and verify_password(DEMO_PASSWORD, stored)]


def check_ready_to_serve(steward: Steward, start_dir: Path | None = None) -> None:
    """Refuse to start in production mode with known secrets; a no-op otherwise.

    ``start_dir`` is the folder Streamlit runs in (where it reads
    ``.streamlit/secrets.toml``); the current folder unless told otherwise.
    """
    steward.require_current_schema()
    if not steward.settings.production:
        return
    problems = steward.settings.problems_for_production()
    problems += streamlit_secrets_problems(start_dir or Path.cwd())
    demo = demo_passwords_in_use(steward)
    if demo:
        problems.append(
            f"demo account(s) {', '.join(demo)} still use the demo password; change or deactivate them"
        )
    if problems:
        raise ConfigurationError("production mode refused: " + "; ".join(problems))
