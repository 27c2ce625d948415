"""The dashboard over HTTP: sign-in by token for an HttpOnly session cookie, CSRF-checked
forms, sign-out and expiry; tiles of the signed-in user's figures; English and Chinese."""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources

import pytest
from litestar.testing import TestClient
from reports_testing import new_token
from sales_data import at

from erp_reports.i18n import LANGUAGES, catalogue

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def sign_in(client: TestClient, token: str, **headers: str):
    page = client.get("/dashboard/sign-in", headers=headers)
    csrf = CSRF.search(page.text).group(1)
    return client.post("/dashboard/sign-in", data={"csrf": csrf, "token": token},
                       headers=headers, follow_redirects=False)


@pytest.fixture
def browser(app):
    with TestClient(app=app) as client:
        yield client


@pytest.fixture
def today_sales(shop):
    now = dt.datetime.now(dt.UTC)
    shop.order(now - dt.timedelta(minutes=5), "web", "Ada", [("TEA-1", "2", "5")])
    shop.order(now - dt.timedelta(minutes=5), "market", "Bo", [("MUG-1", "1", "30")])
    return shop


def test_every_message_has_both_languages():
    english = catalogue("en")
    for language in LANGUAGES:
        messages = catalogue(language)
        assert messages.keys() == english.keys(), language
        assert all(text.strip() for text in messages.values()), language
    templates = resources.files("erp_reports").joinpath("templates")
    used = set()
    for template in templates.iterdir():
        used |= set(re.findall(r"""t\(["']([a-z_]+)["']""", template.read_text("utf-8")))
    assert used <= english.keys(), used - english.keys()


def test_the_dashboard_sends_a_visitor_without_a_session_to_sign_in(browser):
    response = browser.get("/dashboard", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].endswith("/dashboard/sign-in")


def test_signing_in_sets_an_httponly_session_cookie_and_shows_the_tiles(
        today_sales, kernel, browser):
    response = sign_in(browser, new_token(kernel, "admin"))
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie")
                  if c.startswith("erp_dashboard_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    page = browser.get("/dashboard")
    assert page.status_code == 200
    for tile in ("tile-sales_today", "tile-sales_by_channel", "tile-top_products",
                 "tile-orders_by_state", "tile-low_stock", "tile-open_tickets",
                 "tile-tier_distribution"):
        assert f'id="{tile}"' in page.text, tile
    assert "€40.00" in page.text  # today's net sales over both channels
    assert "Green tea" in page.text and "Market" in page.text


def test_the_channel_filter_narrows_the_tiles(today_sales, kernel, browser):
    sign_in(browser, new_token(kernel, "admin"))
    page = browser.get("/dashboard", params={"channel": today_sales.channels["web"]})
    today = page.text.split('id="tile-sales_today"')[1].split("</section>")[0]
    assert "€10.00" in today and "€40.00" not in today


def test_a_wrong_token_or_a_forged_form_does_not_sign_in(kernel, browser):
    assert sign_in(browser, "erp_not-a-token").status_code == 401
    browser.get("/dashboard/sign-in")
    forged = browser.post("/dashboard/sign-in", data={"csrf": "guess",
                                                      "token": new_token(kernel, "admin")},
                          follow_redirects=False)
    assert forged.status_code == 403
    assert browser.get("/dashboard", follow_redirects=False).status_code != 200


def test_signing_out_ends_the_session_and_needs_the_forms_csrf_token(kernel, browser):
    sign_in(browser, new_token(kernel, "admin"))
    page = browser.get("/dashboard")
    kept = browser.post("/dashboard/sign-out", data={"csrf": "forged"}, follow_redirects=False)
    assert browser.get("/dashboard", follow_redirects=False).status_code == 200, kept
    cookie = browser.cookies.get("erp_dashboard_session")
    csrf = CSRF.search(page.text).group(1)
    browser.post("/dashboard/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert browser.get("/dashboard", follow_redirects=False).status_code != 200
    browser.cookies.set("erp_dashboard_session", cookie, path="/dashboard")
    assert browser.get("/dashboard", follow_redirects=False).status_code != 200


def test_a_session_expires(kernel, browser, monkeypatch):
    monkeypatch.setenv("ERP_REPORTS_SESSION_HOURS", "0.0003")  # about a second
    sign_in(browser, new_token(kernel, "admin"))
    cookie = browser.cookies.get("erp_dashboard_session")
    import time

    time.sleep(1.5)
    browser.cookies.set("erp_dashboard_session", cookie, path="/dashboard")
    response = browser.get("/dashboard", follow_redirects=False)
    assert "expired=1" in response.headers["location"]


def test_the_language_follows_accept_language_and_the_switch(today_sales, kernel, browser):
    sign_in(browser, new_token(kernel, "admin"))
    chinese = browser.get("/dashboard", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in chinese.text and "今日销售额" in chinese.text
    english = browser.get("/dashboard", params={"lang": "en"},
                          headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in english.text and "Sales today" in english.text
    remembered = browser.get("/dashboard", headers={"Accept-Language": "zh-CN"})
    assert "Sales today" in remembered.text


def test_a_tile_drills_down_to_the_records_behind_it(today_sales, kernel, browser):
    sign_in(browser, new_token(kernel, "admin"))
    page = browser.get("/dashboard")
    link = re.search(r'href="(/dashboard/records\?[^"]*dimension=channel[^"]*)"', page.text)
    records = browser.get(link.group(1).replace("&amp;", "&"))
    assert records.status_code == 200
    assert records.text.count("/api/v1/orders/orders/") == 1


def test_a_scoped_user_sees_only_its_channels_figures(today_sales, kernel, browser):
    web = {"channel_id": [today_sales.channels["web"]]}
    sign_in(browser, new_token(kernel, "channel_scope.agent", "reports.viewer", scope=web))
    page = browser.get("/dashboard")
    assert "€10.00" in page.text and "€40.00" not in page.text
    assert 'id="tile-low_stock"' not in page.text  # no permission on stock


def test_a_saved_report_is_a_page_with_its_chart_and_downloads(today_sales, kernel, browser,
                                                                admin):
    report = admin.post("/api/v1/reports/saved", json={
        "name": "Sales by channel", "chart": "bar", "shared_with": ["admin"],
        "definition": {"metrics": ["orders.net_sales"], "dimensions": ["channel"]}}).json()
    sign_in(browser, new_token(kernel, "admin"))
    page = browser.get(f"/dashboard/reports/{report['id']}")
    assert page.status_code == 200 and 'data-chart="saved"' in page.text
    data = json.loads(re.search(r'id="chart-data">(.*?)</script>', page.text).group(1))
    assert sorted(data["saved"]["labels"]) == ["Market", "Web"]
    csv = browser.get(f"/dashboard/reports/{report['id']}/export/csv")
    assert csv.status_code == 200 and "Market" in csv.text


def test_the_charting_library_is_served_by_the_server(browser):
    script = browser.get("/dashboard/static/chart.umd.min.js")
    assert script.status_code == 200 and "Chart" in script.text[:2000]
    assert browser.get("/dashboard/static/..%2Fplugin.py").status_code == 404
    assert browser.get("/dashboard/static/LICENSE-chartjs.md").text.startswith("The MIT")


def test_orders_a_minute_before_midnight_count_for_the_local_day(shop, kernel, browser,
                                                                  monkeypatch):
    monkeypatch.setenv("ERP_REPORTS_TIME_ZONE", "Asia/Shanghai")
    shop.order(at("2026-03-01 16:30"), "web", "Ada", [("TEA-1", "1", "8")])  # 00:30 on the 2nd
    sign_in(browser, new_token(kernel, "admin"))
    page = browser.get("/dashboard", params={"from": "2026-03-02", "to": "2026-03-02"})
    assert "Green tea" in page.text
