"""Hostile text people type (names, group names, audit details) shows as text and exports safely.

Markup that would run (``<img onerror>``), Markdown links to ``javascript:``,
a right-to-left override that reorders what the eye reads, a 10 kB string and
spreadsheet formulas go in through the real ways in (the Admin page's forms,
the login form, the services) and are then looked at in a real browser: no
JavaScript dialog may open, no element may be made of them, and the literal
text must be what is shown. The audit CSV is downloaded through the page's own
button and read back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from browserkit import (
    SYSTEM,
    AppServer,
    Tab,
    act,
    click_nav,
    grid_cells,
    run_app,
    sign_in_locally,
    warm_up,
)
from playwright.sync_api import Browser, Locator, Page, expect

from steward.core.domain.accounts import Actor
from steward.core.errors import InvalidInput
from steward.core.services.uow import UnitOfWork
from testkit import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser_hostile")]

IMG = "<img src=x onerror=alert(1)>"
LINK = "[x](javascript:alert(1))"
RLO = "invoice\u202egnp.exe"  # shows as "invoiceexe.png" when the override is obeyed
REPLACEMENT = "invoice\ufffdgnp.exe"  # how Steward's pages defuse it (app.ui.text.plain)
BIG = ((IMG + LINK) * 200)[:10_000]  # 10 kB of markup: the audit detail's whole allowance
FORMULA = '=HYPERLINK("http://evil.example","click")'
AT_FORMULA = "@SUM(1+1)"
HOSTILE_NAME = f"{IMG} {LINK}"  # a display name: markup is allowed in labels, shown as text
NOTE_ACTOR = "system:hostile-note"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with run_app(tmp_path_factory.mktemp("hostile")) as server:
        steward = server.steward
        steward.users.create(SYSTEM, "hank", roles=["viewer"], password=PASSWORD, display_name=HOSTILE_NAME)
        # An SSO group named with markup (group names are labels: printable text is allowed).
        steward.group_mappings.add(SYSTEM, IMG, "viewer")
        steward.group_mappings.add(SYSTEM, LINK, "viewer")
        # An audit event carrying everything at once, as a stored comment would.
        with UnitOfWork(steward.ctx) as uow:
            uow.record(
                Actor.system_actor("hostile-note"),
                "note.hostile",
                object_type="note",
                object_id=FORMULA,
                after={"comment": BIG, "file": RLO, "name": IMG},
                detail=RLO + " " + BIG,
            )
            uow.commit()
        warm_up(browser, server)
        yield server


def no_live_markup(page: Page) -> None:
    """Nothing the hostile strings describe became an element, and no bidi override reached the screen."""
    expect(page.locator('img[src="x"], img[onerror]')).to_have_count(0)
    expect(page.locator('a[href^="javascript"]')).to_have_count(0)
    text = page.locator("body").inner_text()
    assert "\u202e" not in text, "a right-to-left override reached the page as a control character"


def frame(page: Page, index: int = 0) -> Locator:
    return page.locator('[data-testid="stDataFrame"]:visible').nth(index)


def only_user(page: Page, name: str, expected_cell: str | None) -> list[str]:
    """Filter the audit log to one user, picked from the filter's list; the table's cells."""
    filters = page.locator('[data-testid="stExpander"]')
    filters.get_by_role("combobox", name="User").click()
    option = page.get_by_role("option", name=name, exact=True)
    expect(option).to_be_visible()  # the option list shows the name as text
    act(page, option.click)
    return grid_cells(frame(page), containing=expected_cell)


def test_markup_in_a_user_name_is_refused_by_the_admin_form_with_one_clear_line(
    app: AppServer, tab: Tab
) -> None:
    page = tab.page
    before = {u.username for u in app.steward.users.list(SYSTEM)}
    sign_in_locally(page, app.url, "admin")
    click_nav(page, "Admin")
    form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("button", name="Add user"))
    form.get_by_label("User name", exact=True).fill(IMG)
    form.get_by_label("Display name", exact=True).fill(HOSTILE_NAME)
    form.get_by_label("Initial password (12+ characters)", exact=True).fill(PASSWORD)
    act(page, form.get_by_role("button", name="Add user").click)
    error = page.locator('[data-testid="stAlert"]').filter(has_text="user name contains markup character")
    expect(error).to_be_visible()
    assert error.inner_text().strip().count("\n") == 0, "the refusal is one line"
    assert {u.username for u in app.steward.users.list(SYSTEM)} == before, "nothing was created"
    no_live_markup(page)

    # The same form accepts the markup as a display name (a label), with a normal user name.
    form.get_by_label("User name", exact=True).fill("hugo")
    form.get_by_label("Display name", exact=True).fill(HOSTILE_NAME)
    form.locator('[data-testid="stMultiSelect"] input').fill("viewer")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    form.get_by_label("Initial password (12+ characters)", exact=True).fill(PASSWORD)
    act(page, form.get_by_role("button", name="Add user").click)
    expect(page.get_by_text("Added hugo")).to_be_visible()
    assert app.steward.users.get(SYSTEM, "hugo").display_name == HOSTILE_NAME
    assert grid_cells(frame(page)).count(HOSTILE_NAME) == 2  # hank's and hugo's
    no_live_markup(page)

    # Refused at the service too: a bidi override or 10 kB in a display name or a group name.
    for refused in (RLO, BIG):
        with pytest.raises(InvalidInput):
            app.steward.users.create(
                SYSTEM, "rhonda", roles=["viewer"], password=PASSWORD, display_name=refused
            )
        with pytest.raises(InvalidInput):
            app.steward.group_mappings.add(SYSTEM, refused, "viewer")


def test_hostile_names_show_as_text_on_the_admin_page(app: AppServer, tab: Tab) -> None:
    page = tab.page
    sign_in_locally(page, app.url, "admin")
    click_nav(page, "Admin")
    assert HOSTILE_NAME in grid_cells(frame(page))  # hank's display name in the Users table
    page.get_by_role("tab", name="Single sign-on").click()
    panel = page.get_by_role("tabpanel", name="Single sign-on")
    groups = grid_cells(panel.locator('[data-testid="stDataFrame"]'))
    assert IMG in groups and LINK in groups
    # The removal picker shows them as plain option text.
    panel.get_by_role("combobox", name="Remove mapping").click()
    expect(page.get_by_role("option", name=f"{IMG} -> viewer")).to_be_visible()
    expect(page.get_by_role("option", name=f"{LINK} -> viewer")).to_be_visible()
    page.keyboard.press("Escape")
    no_live_markup(page)


def test_a_hostile_display_name_shows_as_text_in_the_sidebar(app: AppServer, tab: Tab) -> None:
    page = tab.page
    sign_in_locally(page, app.url, "hank", PASSWORD)
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text(HOSTILE_NAME, exact=True)).to_be_visible()
    no_live_markup(page)


def test_hostile_audit_entries_show_as_text_and_the_csv_export_is_safe(app: AppServer, tab: Tab) -> None:
    page = tab.page
    # Failed sign-ins typed with markup and a formula land in the audit log under those names.
    page.goto(app.url)
    form = page.locator('[data-testid="stForm"]')
    for typed in (IMG, AT_FORMULA):
        form.get_by_label("User name", exact=True).fill(typed)
        form.get_by_label("Password", exact=True).fill("wrong-password-here")
        act(page, form.get_by_role("button", name="Sign in").click)
        expect(page.get_by_text("User name or password is incorrect.")).to_be_visible()
    no_live_markup(page)

    sign_in_locally(page, app.url, "rick")
    recent = grid_cells(page.locator('[data-testid="stDataFrame"]:visible').last)  # Overview: Recent activity
    assert IMG in recent and AT_FORMULA in recent
    no_live_markup(page)
    click_nav(page, "Audit log")
    cells = only_user(page, IMG, f"user:{IMG}")
    assert IMG in cells and f"user:{IMG}" in cells
    no_live_markup(page)

    cells = only_user(page, NOTE_ACTOR, f"note:{FORMULA}")
    assert f"note:{FORMULA}" in cells
    detail = next(cell for cell in cells if cell.startswith(REPLACEMENT[:7]))
    assert detail.startswith(REPLACEMENT + " " + IMG), "the override is defused, the markup kept as text"
    assert detail.endswith("…") and len(detail) <= 302, "10 kB is cut for the table, not the export"
    only_user(page, "(any)", None)  # the export follows the filters

    # The CSV export: every hostile string verbatim, every formula neutralised.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="CSV", exact=True).click()
    data = download_info.value.path().read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "a BOM, so spreadsheets read UTF-8"
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    note = next(r for r in rows if r["action"] == "note.hostile")
    assert note["object_id"] == "'" + FORMULA
    assert note["detail"] == RLO + " " + BIG[: 10_000 - len(RLO) - 1]
    assert BIG in note["after"] and IMG in note["after"]
    failed = [r for r in rows if r["action"] == "auth.login_failed"]
    assert IMG in {r["actor"] for r in failed}
    assert "'" + AT_FORMULA in {r["actor"] for r in failed}
    dangerous = [cell for row in rows for cell in row.values() if cell and cell[0] in "=+-@\t\r"]
    assert dangerous == [], f"cells a spreadsheet would run: {dangerous[:3]}"
    assert tab.dialogs == []


def test_an_events_detail_panel_shows_a_bidi_override_defused(app: AppServer, tab: Tab) -> None:
    page = tab.page
    sign_in_locally(page, app.url, "rick")
    click_nav(page, "Audit log")
    only_user(page, NOTE_ACTOR, f"note:{FORMULA}")
    scroller = frame(page).locator(".dvn-scroller")  # the grid's own layer over its canvas
    act(page, lambda: scroller.click(position={"x": 16, "y": 52}))  # the first row's selection box
    expect(page.get_by_role("heading", name="Event #")).to_be_visible()
    expect(page.locator('[data-testid="stCode"]').filter(has_text=IMG).first).to_be_visible()
    no_live_markup(page)
