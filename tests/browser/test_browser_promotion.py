"""A credit model goes from Test to Prod in a real browser, each person signed in as themselves.

Dana (data scientist) withdraws the demo's stale Prod request and asks again
with her reason; Sam (data scientist), Bea (business stakeholder) and Rick
(risk officer), the three roles the Prod policy names, sign on the Approvals
page; Otto (operator) deploys on the Deployments page and downloads the
release certificate, which names every one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browserkit import AppServer, Tab, act, click_nav, open_tab, run_app, settle, sign_in_locally, warm_up
from playwright.sync_api import Browser, Page, expect

from steward.core.domain.promotions import RequestStatus

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser_promotion")]
REASON = "Ready for customers: AUC 0.77 on the hold-out, passed Test <b>really</b>"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with run_app(tmp_path_factory.mktemp("promotion"), full_demo=True) as server:
        warm_up(browser, server)
        yield server


def as_user(browser: Browser, app: AppServer, username: str, page_title: str) -> Tab:
    tab = open_tab(browser)
    sign_in_locally(tab.page, app.url, username)
    click_nav(tab.page, page_title)
    expect(tab.page.get_by_role("heading", name=page_title, exact=True, level=1)).to_be_visible()
    settle(tab.page)  # every chart and button drawn before anyone clicks
    return tab


def choose(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``, the way a person does."""
    settle(page)  # a run still drawing (an expander just opened) closes the list as soon as it opens
    box = page.get_by_role("combobox", name=label, exact=True)
    if box.input_value() == option:  # already chosen: picking it again runs nothing
        return
    # The arrow button opens the list reliably; a click in the text field only focuses it at times.
    page.locator('[data-testid="stSelectbox"]').filter(has=box).get_by_role("button", name="Open").click()
    act(page, page.get_by_role("option", name=option, exact=True).click)


def click(page: Page, name: str) -> None:
    button = page.get_by_role("button", name=name, exact=True)
    expect(button).to_be_enabled()
    settle(page)
    act(page, button.click)


def flash(page: Page, text: str) -> None:
    expect(page.locator('[data-testid="stAlert"]').filter(has_text=text).first).to_be_visible()


def sign_off(browser: Browser, app: AppServer, username: str, request_id: int, comment: str) -> None:
    tab = as_user(browser, app, username, "Approvals")
    try:
        page = tab.page
        expect(page.get_by_text(f"(request #{request_id})").first).to_be_visible()
        page.locator('[data-testid="stForm"]').filter(
            has=page.get_by_role("button", name="Approve")
        ).get_by_role("textbox").fill(comment)
        page.get_by_text("Yes, approve credit-default v2 for Prod").click()  # the second look
        click(page, "Approve")
        flash(page, f"You approved request #{request_id}")
    finally:
        tab.close()
        assert tab.dialogs == []


def test_a_credit_model_goes_from_test_to_prod_and_the_certificate_names_everyone(
    app: AppServer, browser: Browser
) -> None:
    steward = app.steward
    stale = next(
        r for r in steward.promotions.list(status=RequestStatus.PENDING) if r.environment_name == "Prod"
    )

    # Dana: withdraw the demo's request, then ask again with her own reason.
    tab = as_user(browser, app, "dana", "Deployments")
    page = tab.page
    page.get_by_text("Withdraw one of your requests").click()
    click(page, "Withdraw")
    flash(page, f"Request #{stale.id} withdrawn")
    page.get_by_text("Request a promotion", exact=True).click()
    choose(page, "Pipeline", "credit-default")
    choose(page, "Version", "v2")
    choose(page, "To", "Prod")
    expect(
        page.get_by_text("Prod asks for 1 data scientist, 1 business stakeholder and 1 risk officer")
    ).to_be_visible()
    page.get_by_label("Why (the reviewers read this)").fill(REASON)
    click(page, "Request promotion")
    flash(page, "credit-default v2 to Prod")
    tab.close()
    request = next(
        r for r in steward.promotions.list(status=RequestStatus.PENDING) if r.environment_name == "Prod"
    )
    assert request.requested_by == "dana" and request.reason == REASON

    # The three roles the Prod policy names, each in their own browser.
    sign_off(browser, app, "sam", request.id, "Metrics and lineage verified.")
    sign_off(browser, app, "bea", request.id, "The business accepts the trade-offs.")
    sign_off(browser, app, "rick", request.id, "Risk accepted; review in three months.")
    assert steward.promotions.evidence(request.id).ready

    # Otto deploys and downloads the certificate.
    tab = as_user(browser, app, "otto", "Deployments")
    page = tab.page
    expect(page.get_by_role("button", name="Deploy credit-default v2 to Prod", exact=True)).to_be_disabled()
    page.get_by_text("Yes, make credit-default v2 serve Prod").click()
    click(page, "Deploy credit-default v2 to Prod")
    flash(page, "now serves in Prod")
    [prod] = steward.deployments.serving("Prod")
    assert prod.version_number == 2 and prod.request_id == request.id
    entry = page.get_by_role("combobox", name="Entry", exact=True)  # the page selects what it just wrote
    expect(entry).to_have_value(re.compile(rf"^#{prod.ledger_entry_id} Prod: credit-default v2 \(promotion"))
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Release certificate (HTML)").click()
    download = download_info.value
    assert re.fullmatch(r"release-certificate-credit-default-v2-Prod-\d+\.html", download.suggested_filename)
    html = download.path().read_text(encoding="utf-8")
    for name in ("Dana Scientist", "Sam Scientist", "Bea Business", "Rick Risk", "Otto Operator"):
        assert name in html, name
    for role in ("Data scientist", "Business stakeholder", "Risk officer"):
        assert role in html
    version = steward.pipelines.version("credit-default", 2)
    assert version.artifact_sha256 in html and version.data_digest in html
    assert "&lt;b&gt;really&lt;/b&gt;" in html and "<b>really" not in html  # the reason is escaped
    with page.expect_download() as pdf_info:
        page.get_by_role("button", name="Release certificate (PDF)").click()
    assert pdf_info.value.path().read_bytes().startswith(b"%PDF")
    tab.close()
    assert tab.dialogs == []
