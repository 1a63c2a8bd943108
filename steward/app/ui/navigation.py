"""The pages, registered explicitly, and the navigation each user is allowed to see.

A page missing from a user's navigation cannot be opened by URL either:
Streamlit only routes to pages passed to ``st.navigation``. Every page also
guards itself (see :mod:`steward.app.ui.guard`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from steward.core.domain.accounts import Actor
from steward.core.domain.permissions import Action, is_allowed

PAGES_DIR = Path(__file__).resolve().parent.parent.parent / "pages"


@dataclass(frozen=True)
class PageSpec:
    file: str
    title: str
    icon: str
    action: Action
    section: str

    @property
    def path(self) -> Path:
        return PAGES_DIR / self.file

    @property
    def url_path(self) -> str:
        return self.file.removesuffix(".py")


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview.py", "Overview", ":material/dashboard:", Action.VIEW_OVERVIEW, "Home"),
    PageSpec("pipelines.py", "Pipelines", ":material/account_tree:", Action.VIEW_PIPELINES, "Deploy"),
    PageSpec("deployments.py", "Deployments", ":material/rocket_launch:", Action.VIEW_DEPLOYMENTS, "Deploy"),
    PageSpec("approvals.py", "Approvals", ":material/task_alt:", Action.VIEW_APPROVALS, "Deploy"),
    PageSpec("drift.py", "Drift", ":material/query_stats:", Action.VIEW_DRIFT, "Monitor"),
    PageSpec(
        "service_health.py",
        "Service health",
        ":material/monitor_heart:",
        Action.VIEW_SERVICE_HEALTH,
        "Monitor",
    ),
    PageSpec("infrastructure.py", "Infrastructure", ":material/dns:", Action.VIEW_INFRASTRUCTURE, "Monitor"),
    PageSpec("alerts.py", "Alerts", ":material/notifications:", Action.VIEW_ALERTS, "Monitor"),
    PageSpec("timeline.py", "Event timeline", ":material/timeline:", Action.VIEW_AUDIT, "Govern"),
    PageSpec("audit_log.py", "Audit log", ":material/receipt_long:", Action.VIEW_AUDIT, "Govern"),
    PageSpec("admin.py", "Admin", ":material/admin_panel_settings:", Action.VIEW_ADMIN, "Govern"),
)


def allowed_pages(actor: Actor) -> list[PageSpec]:
    return [page for page in PAGES if is_allowed(actor.roles, page.action)]


def page_spec(file: str) -> PageSpec:
    for page in PAGES:
        if page.file == file:
            return page
    raise KeyError(file)


def build_navigation(actor: Actor) -> dict[str, list[st.Page]]:
    sections: dict[str, list[st.Page]] = {}
    for index, page in enumerate(allowed_pages(actor)):
        st_page = st.Page(
            page.path, title=page.title, icon=page.icon, url_path=page.url_path, default=index == 0
        )
        sections.setdefault(page.section, []).append(st_page)
    return sections
