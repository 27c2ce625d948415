"""The dashboard in a real headless Chromium (Debian's ``chromium`` driven by Playwright),
on the demo data, served for real: sign in, tiles, filter, language switch, drill-down,
export, sign out; screenshots at desktop and phone widths are kept as test artefacts
(``ERP_TEST_ARTEFACTS``, default ``.ci/artefacts``), and every request the page makes
must go to the server itself."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from reports_testing import new_token

from erp_core.api import create_app
from erp_core.kernel import Kernel
from erp_core.settings import Settings
from erp_sdk.testing import serve

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parents[3]
ARTEFACTS = Path(os.environ.get("ERP_TEST_ARTEFACTS") or ROOT / ".ci" / "artefacts") / "dashboard"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian: apt-get install"
                                                 " chromium); .ci/run installs it"),
]


@pytest.fixture(scope="module")
def demo(module_database_url: str) -> Iterator[tuple[Kernel, str]]:
    """Orders and reports with their demo data (a year of orders), served for real."""
    kernel = Kernel(Settings.from_env({}, database_url=module_database_url))
    kernel.initialise()
    kernel.enable(["orders", "reports"])
    kernel.boot()
    with kernel.transaction() as session:
        kernel.contribute("erp_load_demo_data", session=session, kernel=kernel)
    with serve(create_app(kernel)) as url:
        yield kernel, url
    kernel.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-dev-shm-usage",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, demo) -> Iterator[Any]:
    """A page whose every request outside the server is refused and remembered."""
    _kernel, url = demo
    server = urlparse(url).netloc
    context = chromium.new_context(viewport=DESKTOP, accept_downloads=True,
                                   locale="en-US")
    outside: list[str] = []

    def only_the_server(route: Any) -> None:
        if urlparse(route.request.url).netloc == server:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_server)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert outside == [], f"the page reached beyond the server: {outside}"
    assert errors == [], f"script errors: {errors}"


def sign_in(page: Any, url: str, token: str) -> None:
    page.goto(f"{url}/dashboard")
    assert page.url.endswith("/dashboard/sign-in")
    page.fill("#token", token)
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#tile-sales_by_channel")


def shoot(page: Any, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def test_a_seller_signs_in_reads_the_tiles_filters_switches_language_drills_down_and_exports(
        page, demo, tmp_path):
    kernel, url = demo
    sign_in(page, url, new_token(kernel, "admin"))
    channels = page.locator("#tile-sales_by_channel tr")
    assert channels.count() == 3  # the demo's web shop, marketplace and store
    assert page.locator("#tile-top_products tr").count() == 5
    page.wait_for_selector("canvas[data-chart=sales_by_channel][data-drawn=true]")
    assert page.locator("canvas[data-drawn=true]").count() == 3  # the served Chart.js drew
    shoot(page, "desktop-en")

    page.select_option("#channel", label="Marketplace")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**channel=*")
    assert page.locator("#tile-sales_by_channel tr").count() == 1
    assert "Marketplace" in page.inner_text("#tile-sales_by_channel")

    page.click("a[data-language=zh_CN]")
    page.wait_for_selector("html[lang=zh-CN]")
    assert "今日销售额" in page.inner_text("#tile-sales_today")
    assert page.input_value("select#channel") != ""  # the filter stayed
    shoot(page, "desktop-zh-CN")

    page.locator("#tile-top_products a.drill").first.click()
    page.wait_for_selector("#records")
    links = page.locator("#records a[href*='/api/v1/orders/orders/']")
    assert links.count() > 0

    page.goto(f"{url}/dashboard")
    page.locator("#saved-reports a", has_text="Top 20 products").click()
    page.wait_for_selector("canvas[data-chart=saved][data-drawn=true]")
    with page.expect_download() as download:
        page.click("#download-csv")
    saved = tmp_path / "top.csv"
    download.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("商品") or lines[0].startswith("Product")
    assert len(lines) == 21

    page.click(".sign-out button")
    page.wait_for_url("**/dashboard/sign-in")
    page.goto(f"{url}/dashboard")
    assert page.url.endswith("/dashboard/sign-in")


def test_the_dashboard_fits_a_390_pixel_phone(page, demo):
    kernel, url = demo
    page.set_viewport_size(PHONE)
    sign_in(page, url, new_token(kernel, "admin"))
    page.wait_for_selector("canvas[data-drawn=true]")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a 390 px screen"
    tile = page.locator("#tile-sales_by_channel").bounding_box()
    assert tile["width"] <= PHONE["width"]
    shoot(page, "phone-en")
    page.click("a[data-language=zh_CN]")
    page.wait_for_selector("html[lang=zh-CN]")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "phone-zh-CN")
