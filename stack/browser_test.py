"""The gateway's docs in a real browser (headless Chromium, driven by Playwright).

The page offers both merged documents, OpenAPI 3.1 first and Swagger 2.0;
under each it must list the operations of every service, and "Try it out"
must work through the gateway: a query (GET /api/math/sum) and a body (POST
/api/entities). A screenshot is saved to ``$SCREENSHOT_DIR`` (or a temporary
folder). Needs Debian's ``chromium`` (``.ci/run`` installs it); without it
the test is skipped, unless ``REQUIRE_BROWSER=1`` makes that a failure.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from core.auth import mint_token
from stack.conftest import APP_ORIGIN, SECRET

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# No background traffic: this machine reaches nothing outside.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium; the tests skip without it (fail with ``REQUIRE_BROWSER=1``)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but chromium is not installed")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return CHROMIUM


DOCUMENTS = {"OpenAPI 3.1": "OAS 3.1", "Swagger 2.0": "OAS 2.0"}
"""The documents the page offers, by name, and the version the UI shows for each."""
# What the user types in "Authorize": the token alone for OpenAPI 3.1's
# http/bearer scheme (the UI adds "Bearer "), the whole header value for
# Swagger 2.0's apiKey.
CREDENTIALS = {"OAS 3.1": "{token}", "OAS 2.0": "Bearer {token}"}


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module", params=list(DOCUMENTS))
def page(browser: Browser, stack: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """The docs page showing one document (the first is shown at first)."""
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.goto(f"{stack}/")
    page.wait_for_selector(".opblock")
    picker = page.locator(".topbar select")
    assert picker.locator("option").all_inner_texts() == list(DOCUMENTS)
    if request.param != picker.input_value():
        picker.select_option(label=request.param)
    expect(page.locator(".info .version-stamp")).to_have_text(DOCUMENTS[request.param])
    page.wait_for_selector(".opblock")
    yield page
    page.close()


def operation(page: Page, method: str, path: str) -> Any:
    block = page.locator(f".opblock-{method}").filter(
        has=page.locator(".opblock-summary-path", has_text=path)
    )
    return block.first


def test_the_docs_list_every_service_operation(page: Page) -> None:
    paths = set(page.locator(".opblock-summary-path").all_inner_texts())
    paths = {p.replace("\u200b", "").strip() for p in paths}
    assert {"/api/entities", "/api/entities/{entity_id}", "/api/math/sum"} <= paths
    methods = page.locator(".opblock-summary-method").all_inner_texts()
    assert len(methods) >= 7  # list, create, get, put, patch, delete, sum


def test_try_it_out_sends_a_query_through_the_gateway(page: Page) -> None:
    block = operation(page, "get", "/api/math/sum")
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    block.locator("input[placeholder='a']").fill("19")
    block.locator("input[placeholder='b']").fill("23")
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table tr.response .response-col_status").first
    expect(status).to_have_text("200")
    expect(block.locator(".live-responses-table tr.response .microlight").first).to_contain_text(
        '"result": 42'
    )


def test_authorize_then_try_it_out_with_a_body_through_the_gateway(page: Page) -> None:
    token = mint_token(SECRET, "browser", "entity:read entity:write")
    page.locator("button.authorize").first.click()
    dialog = page.locator(".modal-ux")
    version = page.locator(".info .version-stamp").inner_text()
    dialog.locator("input").first.fill(CREDENTIALS[version].format(token=token))
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()
    block = operation(page, "post", "/api/entities")
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    block.locator("textarea.body-param__text").fill('{"name": "From the browser"}')
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table tr.response .response-col_status").first
    expect(status).to_have_text("201")
    body = block.locator(".live-responses-table tr.response .microlight").first
    expect(body).to_contain_text("From the browser")
    expect(body).to_contain_text('"ownerId": "browser"')
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / f"gateway-docs-{version.replace(' ', '-')}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


# A web app of its own origin, the one the gateway allows, and another; the
# browser loads each page from the test, then calls the gateway as any page would.
OTHER_ORIGIN = "http://localhost:5174"
CALLS = """async ([api, token, name]) => {
  const auth = {"Authorization": "Bearer " + token};
  try {
    const made = await fetch(api + "/api/entities", {
      method: "POST",
      headers: {...auth, "Content-Type": "application/json", "Idempotency-Key": name},
      body: JSON.stringify({name}),
    });
    const location = made.headers.get("Location");
    const changed = await fetch(location, {
      method: "PATCH",
      headers: {...auth, "Content-Type": "application/json", "If-Match": made.headers.get("ETag")},
      body: JSON.stringify({purpose: "cross-origin"}),
    });
    return {
      made: made.status, location, requestId: made.headers.get("X-Request-ID"),
      changed: changed.status, purpose: (await changed.json()).data.purpose,
    };
  } catch (error) {
    return {error: String(error)};
  }
}"""


def page_of(browser: Browser, origin: str) -> Page:
    """A page of *origin*, played by the test. The gateway here is on this
    machine's loopback, which Chromium lets a page reach only with the user's
    leave (Local Network Access): given, as for an API on any other host."""
    context = browser.new_context()
    context.grant_permissions(["local-network-access"])
    page = context.new_page()
    page.route(
        f"{origin}/",
        lambda route: route.fulfill(
            content_type="text/html", body="<!doctype html><title>app</title>"
        ),
    )
    page.goto(f"{origin}/")
    # Playwright answers CORS preflights itself while it intercepts requests:
    # no more interception, so the gateway's own preflight answers count.
    page.unroute_all()
    return page


def test_a_page_of_another_origin_calls_the_api_through_the_gateway(
    browser: Browser, stack: str
) -> None:
    token = mint_token(SECRET, "browser", "entity:read entity:write")
    allowed = page_of(browser, APP_ORIGIN).evaluate(CALLS, [stack, token, "Cross origin"])
    refused = page_of(browser, OTHER_ORIGIN).evaluate(CALLS, [stack, token, "Refused"])
    assert allowed.get("error") is None, allowed
    assert allowed["made"] == 201 and allowed["location"].startswith(f"{stack}/api/entities/")
    assert allowed["requestId"] and allowed["changed"] == 200
    assert allowed["purpose"] == "cross-origin"
    # The other origin's POST never left the browser: its preflight got no grant.
    assert "Failed to fetch" in refused["error"]
    headers = {"Authorization": f"Bearer {token}"}
    found = httpx.get(f"{stack}/api/entities", params={"filter[name]": "Refused"}, headers=headers)
    assert found.status_code == 200 and found.json()["data"] == []
