"""The dependency rule, enforced: core knows no UI; pages only guard, call services and render."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import REPO_ROOT

PAGES = sorted(p for p in (REPO_ROOT / "steward" / "pages").glob("*.py") if p.name != "__init__.py")
# What a page may import: the UI shell, entities, rules and service *types*, never storage.
PAGE_FORBIDDEN = (
    "sqlalchemy",
    "alembic",
    "steward.core.adapters",
    "steward.core.services.uow",
    "psycopg",
    "sqlite3",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_import_linter_contracts_hold():
    """core is free of streamlit/plotly/app; core layers point one way; domain is plain Python."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


def test_a_forbidden_import_would_be_caught(tmp_path):
    """The contract check is not vacuous: a core module importing streamlit breaks it."""
    offender = REPO_ROOT / "steward" / "core" / "domain" / "_contract_probe.py"
    offender.write_text("import streamlit  # noqa\n", encoding="utf-8")
    try:
        result = subprocess.run(
            [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    finally:
        offender.unlink()
    assert result.returncode != 0 and "steward.core.domain._contract_probe -> streamlit" in result.stdout


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_do_not_touch_storage(page: Path):
    bad = {name for name in imported_modules(page) if name.startswith(PAGE_FORBIDDEN)}
    assert not bad, f"{page.name} imports {sorted(bad)}: call a service instead"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_page_guards_itself_first(page: Path):
    tree = ast.parse(page.read_text(encoding="utf-8"))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "require"
    ]
    assert calls, f"{page.name} never calls require(...)"
    first_streamlit_output = min(
        (
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and getattr(node.func.value, "id", "") == "st"
        ),
        default=10**9,
    )
    assert min(call.lineno for call in calls) < first_streamlit_output, (
        f"{page.name} renders before its guard"
    )


def test_every_page_file_is_registered_and_every_registration_exists():
    from steward.app.ui.navigation import PAGES as REGISTERED

    assert sorted(spec.file for spec in REGISTERED) == sorted(page.name for page in PAGES)
