"""Saved reports shared with roles; CSV and XLSX exports streamed as they are read, in the
report's time zone and under the user's record rules; long exports run by the worker."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from sales_data import at

from erp_reports.export_jobs import run_exports

SAVED = "/api/v1/reports/saved-reports"
BY_CHANNEL = {"metrics": ["orders.net_sales", "orders.orders"], "dimensions": ["channel"],
              "order_by": "orders.net_sales"}


@pytest.fixture
def two_channels(shop):
    shop.order(at("2026-03-02 10:00"), "web", "Ada", [("TEA-1", "2", "5")])
    shop.order(at("2026-03-02 23:30"), "market", "Bo", [("MUG-1", "1", "30")])
    return shop


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_a_saved_report_is_seen_by_its_owner_and_the_roles_it_is_shared_with(
        shop, client_for):
    owner = client_for("reports.viewer", "orders.manager")
    saved = owner.post("/api/v1/reports/saved", json={
        "name": "Sales by channel", "definition": BY_CHANNEL, "chart": "bar",
        "shared_with": ["orders.manager"]})
    assert saved.status_code == 201, saved.text
    report = saved.json()
    assert report["owner"] is not None
    colleague = client_for("reports.viewer", "orders.manager")
    stranger = client_for("reports.viewer", "orders.clerk")
    assert [r["id"] for r in colleague.get(SAVED).json()["items"]] == [report["id"]]
    assert stranger.get(SAVED).json()["items"] == []
    assert stranger.get(f"{SAVED}/{report['id']}").status_code == 404
    changed = colleague.patch(f"{SAVED}/{report['id']}", json={"name": "Mine now"},
                              headers={"If-Match": f'"{report["version"]}"'})
    assert changed.status_code == 403
    rows = colleague.get(f"/api/v1/reports/saved/{report['id']}/rows").json()
    assert rows["report"]["chart"] == "bar" and rows["columns"][0]["name"] == "channel"


@pytest.mark.parametrize(("definition", "field"), [
    ({"metrics": ["orders.nothing"]}, "definition"),
    ({"metrics": ["orders.net_sales"], "time_grain": "fortnight"}, "definition"),
])
def test_a_saved_report_must_be_a_report_the_query_api_takes(admin, definition, field):
    response = admin.post("/api/v1/reports/saved", json={"name": "Broken",
                                                          "definition": definition})
    assert response.status_code == 422, response.text
    assert any(key.startswith(field) for key in response.json()["errors"])


def test_a_report_is_exported_as_csv_in_its_time_zone(two_channels, admin):
    rows = read_csv(admin.post("/api/v1/reports/export", json={"report": {
        "metrics": ["orders.net_sales"], "time_grain": "day", "time_zone": "Asia/Shanghai"}}))
    assert rows[0] == ["day (Asia/Shanghai)", "Net sales (EUR)"]
    # 23:30 UTC on 2 March is 07:30 on 3 March in Shanghai
    assert rows[1:] == [["2026-03-02", "10.0000"], ["2026-03-03", "30.0000"]]


def test_a_scoped_users_export_holds_only_its_rows(two_channels, client_for):
    agent = client_for("channel_scope.agent", scope={"channel_id": [two_channels.channels["web"]]})
    rows = read_csv(agent.post("/api/v1/reports/export", json={"report": BY_CHANNEL}))
    assert rows[1:] == [[str(two_channels.channels["web"]), "Web", "10.0000", "1"]]


def test_a_saved_report_exports_as_an_xlsx_workbook(two_channels, admin):
    report = admin.post("/api/v1/reports/saved",
                        json={"name": "By channel", "definition": BY_CHANNEL}).json()
    response = admin.get(f"/api/v1/reports/saved/{report['id']}/export",
                         params={"format": "xlsx"})
    assert response.status_code == 200, response.text
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["Channel", "Channel name", "Net sales (EUR)", "Orders"]
    assert [(row[1], Decimal(str(row[2])), row[3]) for row in values[1:]] == [
        ("Market", 30, 1), ("Web", 10, 1)]


def test_an_xlsx_past_its_row_limit_says_so_and_offers_csv(two_channels, admin, monkeypatch):
    monkeypatch.setenv("ERP_REPORTS_XLSX_ROW_LIMIT", "1")
    response = admin.post("/api/v1/reports/export", json={"report": BY_CHANNEL,
                                                          "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(values) == 3 and values[1][1] == "Market"
    assert "stops at 1 rows" in values[2][0] and '"format": "csv"' in values[2][0]


def test_a_long_export_is_queued_run_by_the_worker_and_downloaded(
        two_channels, client_for, kernel, tmp_path, monkeypatch):
    monkeypatch.setenv("ERP_REPORTS_EXPORT_DIR", str(tmp_path))
    web = {"channel_id": [two_channels.channels["web"]]}
    agent = client_for("channel_scope.agent", "reports.viewer", scope=web)
    other = client_for("channel_scope.agent", "reports.viewer", scope=web)
    queued = agent.post("/api/v1/reports/exports", json={"report": BY_CHANNEL})
    assert queued.status_code == 202, queued.text
    export_id = queued.json()["id"]
    not_yet = agent.get(f"/api/v1/reports/exports/{export_id}/file")
    assert not_yet.status_code == 409
    assert "1 exports written" in run_exports(kernel)
    status = agent.get(f"/api/v1/reports/export-jobs/{export_id}").json()
    assert status["state"] == "done" and status["row_count"] == 1
    rows = read_csv(agent.get(f"/api/v1/reports/exports/{export_id}/file"))
    assert rows[1:] == [[str(two_channels.channels["web"]), "Web", "10.0000", "1"]]
    assert other.get(f"/api/v1/reports/exports/{export_id}/file").status_code == 404
