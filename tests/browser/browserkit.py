"""Real Steward app processes, a real OIDC provider and a real headless Chromium for browser tests.

Every app runs as its own ``streamlit run`` subprocess on a free loopback port,
from a temporary working directory holding its own ``.streamlit/`` (so a test
can write ``secrets.toml`` without touching the repository's, and a developer's
real secrets never leak in). The test process opens a second ``Steward`` on the
same database to seed data and to act as an admin behind the browser's back.
That database is an SQLite file in the test's folder, or a PostgreSQL database
of the test's own (see ``postgres_database``).
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import werkzeug.serving
from playwright.sync_api import Browser, BrowserContext, Dialog, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from steward.core.config import Settings
from steward.core.domain.accounts import Actor
from steward.core.setup.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, SEED_ACTOR, seed_demo
from steward.core.steward import Steward
from testkit import (
    DEMO_SECRET_KEY,
    REPO_ROOT,
    TEST_SCRYPT_N,
    create_pg_database,
    drop_pg_database,
    postgres_problem,
    seeded_demo_copy,
    session_root,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ENTRYPOINT = REPO_ROOT / "steward" / "app" / "streamlit_app.py"
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
SECRET_KEY = DEMO_SECRET_KEY  # one seeded demo template serves the AppTests and these
SYSTEM = Actor.system_actor("browser-test")
TIMEOUT_MS = 45_000  # generous: a shared 2-core machine under load is slow, not broken
FIRST_LOAD_MS = 120_000  # the first session of a fresh app imports everything

expect.set_options(timeout=TIMEOUT_MS)


def free_port() -> int:
    """A port nobody listens on right now (8501 and 9400 are often taken on shared machines)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AppServer:
    """One running Steward app and a Steward on the same database for the test to act through."""

    url: str
    port: int
    workdir: Path
    steward: Steward
    process: subprocess.Popen[bytes]
    log: Path  # the app's output, for when a test fails


def _settings(data_dir: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=data_dir, database_url=database_url, scrypt_n=TEST_SCRYPT_N, secret_key=SECRET_KEY
    )


def _app_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """The subprocess's environment: ours without any STEWARD_* of the developer, plus the test's."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("STEWARD_")}
    env.update(
        {
            "STEWARD_DATA_DIR": str(data_dir),
            "STEWARD_SCRYPT_N": str(TEST_SCRYPT_N),
            "STEWARD_SECRET_KEY": SECRET_KEY,
            "PYTHONUNBUFFERED": "1",
        }
    )
    if database_url:
        env["STEWARD_DATABASE_URL"] = database_url
    return env


@contextmanager
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of the caller's own, dropped afterwards; skips, saying why, if none answers.

    Like ``tests/conftest.py``'s ``postgres_database``, but for one app server:
    the app process and the test's Steward share it.
    """
    problem = postgres_problem()
    if problem:
        pytest.skip(problem)
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)  # WITH (FORCE): a connection the app left behind does not block it


_PRCTL = ctypes.CDLL(None).prctl if sys.platform.startswith("linux") else None  # looked up before fork
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the test process dies, so a killed run leaves no app behind."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the app exited with {process.returncode}:\n{log.read_text(errors='replace')}"
            )
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the app did not answer /_stcore/health in {timeout:.0f} s:\n{log.read_text()}")


def seed_accounts(steward: Steward) -> None:
    """The demo accounts alone (password ``steward-demo``): seconds, where the whole demo trains models."""
    for account in DEMO_ACCOUNTS:
        steward.users.create(
            SEED_ACTOR,
            account.username,
            roles=account.roles,
            password=DEMO_PASSWORD,
            display_name=account.display_name,
        )


@contextmanager
def run_app(
    root: Path,
    *,
    full_demo: bool = False,
    secrets_toml: str | None = None,
    port: int | None = None,
    database_url: str | None = None,
) -> Iterator[AppServer]:
    """Migrate, seed the demo accounts (or the whole demo), start the app, yield, stop it.

    The database is ``root/data``'s SQLite file unless ``database_url`` names
    another (an empty PostgreSQL database from ``postgres_database``).
    """
    data_dir = root / "data"
    if full_demo and database_url is None:
        # root is a tmp_path_factory folder: its parent is this worker's base temporary folder
        seeded_demo_copy(data_dir, session_root(root.parent), secret_key=SECRET_KEY)
    steward = Steward(_settings(data_dir, database_url))
    steward.upgrade_database()
    if full_demo and database_url is not None:
        seed_demo(steward, REPO_ROOT / "steward" / "sample_data", progress=lambda _line: None, quick=True)
    elif not full_demo:
        seed_accounts(steward)
    workdir = root / "cwd"
    (workdir / ".streamlit").mkdir(parents=True)
    shutil.copyfile(REPO_ROOT / ".streamlit" / "config.toml", workdir / ".streamlit" / "config.toml")
    if secrets_toml is not None:
        (workdir / ".streamlit" / "secrets.toml").write_text(secrets_toml, encoding="utf-8")
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "app.log"
    argv = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ENTRYPOINT),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=workdir,
            env=_app_env(data_dir, database_url),
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    server = AppServer(url, port, workdir, steward, process, log)
    try:
        _wait_healthy(url, process, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        steward.close()


# ---- the browser --------------------------------------------------------------------------
@dataclass
class Tab:
    """A page in its own browser context, recording every JavaScript dialog that tried to open."""

    context: BrowserContext
    page: Page
    dialogs: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.context.close()


def open_tab(browser: Browser, *, cookies: list[Any] | None = None) -> Tab:
    """A fresh browser context: its own cookies, so its own Streamlit session."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    tab = Tab(context, page)

    def on_dialog(dialog: Dialog) -> None:
        tab.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return tab


def warm_up(browser: Browser, app: AppServer) -> None:
    """Load the app once, so the slow first session (imports, first script run) is not a test's."""
    tab = open_tab(browser)
    try:
        tab.page.goto(app.url, timeout=FIRST_LOAD_MS)
        expect(tab.page.locator('[data-testid="stMain"] h1').first).to_be_visible(timeout=FIRST_LOAD_MS)
    finally:
        tab.close()


# ---- driving Streamlit ------------------------------------------------------------------
_WATCH_RUNS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  window.__stewardRuns = 0;
  window.__stewardRedrawn = false;
  if (window.__stewardWatch) window.__stewardWatch.disconnect();
  if (window.__stewardDraw) window.__stewardDraw.disconnect();
  window.__stewardWatch = new MutationObserver((records) => {
    const ran = records.some(r => r.oldValue === 'running');
    if (ran || app.getAttribute('data-test-script-state') === 'running') window.__stewardRuns += 1;
  });
  window.__stewardWatch.observe(
    app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']}
  );
  // Under load the browser can receive a whole short run (started, deltas, finished) in one
  // batch, and React then never shows the "running" state: a redrawn main area is the other proof.
  window.__stewardDraw = new MutationObserver(() => { window.__stewardRedrawn = true; });
  const main = document.querySelector('[data-testid="stMain"]') || app;
  window.__stewardDraw.observe(main, {childList: true, subtree: true});
}"""
_RUN_FINISHED = """() => (window.__stewardRuns > 0 || window.__stewardRedrawn)
  && document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state') === 'notRunning'"""


def settle(page: Page, timeout_ms: int = TIMEOUT_MS) -> None:
    """Wait until no script run is going on and the socket is up (after a page load)."""
    deadline = time.monotonic() + timeout_ms / 1000
    stable = 0
    app = page.locator('[data-testid="stApp"]')
    while time.monotonic() < deadline:
        state = app.get_attribute("data-test-script-state")
        connected = app.get_attribute("data-test-connection-state")
        stable = stable + 1 if state == "notRunning" and connected == "CONNECTED" else 0
        if stable >= 2:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"Streamlit did not settle in {timeout_ms} ms")


def act(page: Page, action: Callable[[], object]) -> None:
    """Do ``action`` (a click...) and wait until the script run it caused has finished drawing.

    Watching the run state flip to running and back is exact, where polling
    for "not running" could return before the run even started; a redrawn main
    area counts too, for a short run the browser received in one batch.
    """
    page.evaluate(_WATCH_RUNS)
    action()
    try:
        page.wait_for_function(_RUN_FINISHED, polling=50)
        settle(page)
    except PlaywrightTimeoutError:
        runs = page.evaluate("() => window.__stewardRuns")
        state = page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state")
        raise AssertionError(
            f"no finished script run after the action: {runs} run(s) seen, now {state}"
        ) from None


NAV_LINK = '[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]'
NAV_LABEL = '[data-testid="stMarkdownContainer"]'  # the title, without the icon's ligature text


def sidebar_pages(page: Page) -> list[str]:
    """The titles of the pages in the sidebar navigation, in order."""
    expect(page.locator(NAV_LINK).first).to_be_visible()
    return [text.strip() for text in page.locator(f"{NAV_LINK} {NAV_LABEL}").all_inner_texts()]


def click_nav(page: Page, title: str) -> None:
    """Switch page the way a person does: a click in the sidebar (same Streamlit session)."""
    label = page.locator(NAV_LABEL).filter(has_text=re.compile(f"^{re.escape(title)}$"))
    act(page, page.locator(NAV_LINK).filter(has=label).click)


def grid_cells(frame: Locator, *, containing: str | None = None) -> list[str]:
    """The texts of a ``st.dataframe``'s visible cells (waiting, if asked, until one reads ``containing``).

    The grid draws on a canvas; focusing it makes Glide fill its accessible
    table (one ``gridcell`` per visible cell), which is what a screen reader
    gets. New data reaches the grid a moment after the script run ends, hence
    the wait for an expected cell.
    """
    canvas = frame.locator('canvas[data-testid="data-grid-canvas"]')
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        canvas.focus()
        cells = canvas.locator('[role="gridcell"]')
        expect(cells.first).to_be_attached()
        texts = [text.strip() for text in cells.all_inner_texts()]
        if containing is None or containing in texts or time.monotonic() > deadline:
            return texts
        canvas.evaluate("element => element.blur()")
        frame.page.wait_for_timeout(100)


def sign_in_locally(page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Fill the login form; returns once the signed-in app (its sidebar) is drawn."""
    if not page.url.startswith(base_url):
        page.goto(base_url)
    form = page.locator('[data-testid="stForm"]')
    form.get_by_label("User name", exact=True).fill(username)
    form.get_by_label("Password", exact=True).fill(password)
    form.get_by_role("button", name="Sign in").click()
    expect(page.locator('[data-testid="stSidebarNav"]')).to_be_visible()
    settle(page)


_CONTENT_HEIGHT = """() => Math.max(...[...document.querySelectorAll(
  '[data-testid="stMain"], [data-testid="stAppViewContainer"], [data-testid="stSidebarContent"]'
)].map(el => el.scrollHeight), window.innerHeight)"""


def shot(page: Page, name: str) -> Path:
    """A whole-page screenshot for docs/screenshots, once every lazy widget has drawn.

    Streamlit scrolls inside its own container, so Playwright's ``full_page``
    sees one screen only: the window is stretched to the content instead.
    """
    expect(page.locator('[data-testid="stSkeleton"], [data-testid="stAppSkeleton"]')).to_have_count(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size or {"width": 1400, "height": 900}
    height = min(int(page.evaluate(_CONTENT_HEIGHT)), 4000)
    page.set_viewport_size({"width": size["width"], "height": height})
    try:
        settle(page)
        page.screenshot(path=str(path), animations="disabled")
    finally:
        page.set_viewport_size(size)
    return path


# ---- the identity provider ------------------------------------------------------------
@dataclass
class IdentityProvider:
    """A real OpenID Connect provider (oidc-provider-mock) on a loopback port, nonce required."""

    url: str
    server: werkzeug.serving.BaseWSGIServer

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def set_user(self, sub: str, claims: dict[str, Any]) -> None:
        """Register (or replace) the claims the provider puts in ``sub``'s ID token."""
        response = httpx.put(f"{self.url}/users/{sub}", json=claims, timeout=5)
        response.raise_for_status()


@contextmanager
def run_identity_provider() -> Iterator[IdentityProvider]:
    """Start oidc-provider-mock in a thread, bound to 127.0.0.1 only (it runs the Werkzeug debugger)."""
    import authlib.deprecate  # noqa: F401 - installs an "always show" filter when first imported

    with warnings.catch_warnings():  # the provider's Authlib imports are deprecated upstream
        warnings.simplefilter("ignore", DeprecationWarning)
        from oidc_provider_mock import app as provider_app

    server = werkzeug.serving.make_server(
        "127.0.0.1", free_port(), provider_app(require_nonce=True), threaded=True
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield IdentityProvider(f"http://127.0.0.1:{server.server_port}", server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def sso_secrets(app_port: int, provider: IdentityProvider, *, cookie_secret: str) -> str:
    """The ``[auth]`` section Streamlit's ``st.login`` reads, pointing at ``provider``."""
    return (
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"\n'
        f'cookie_secret = "{cookie_secret}"\n'
        'client_id = "steward-browser-test"\n'
        'client_secret = "browser-test-client-secret"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n'
        'client_kwargs = { scope = "openid profile email", prompt = "login" }\n'
    )
