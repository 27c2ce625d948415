"""Finance over HTTP: set-up, manual entries, periods, payments, and who may do what."""

from __future__ import annotations

import pytest
from finance_helpers import TODAY

SETUP = {"template": "generic", "currency": "EUR", "year": TODAY.year}
ENTRY = {"journal": "GEN", "date": TODAY.isoformat(),
         "lines": [{"account": "1100", "debit": "100.00"},
                   {"account": "3100", "credit": "100.00"}]}


@pytest.fixture
def api(kernel, erp_client):
    answer = erp_client.post("/api/v1/finance/setup", json=SETUP)
    assert answer.status_code == 201, answer.text
    return erp_client


def test_the_books_are_set_up_once_through_the_api(api):
    assert api.post("/api/v1/finance/setup", json=SETUP).status_code == 409
    accounts = api.get("/api/v1/finance/accounts", params={"code": "1200"}).json()["items"]
    assert accounts[0]["kind"] == "receivable"


def test_a_manual_entry_is_posted_numbered_and_reversed(api):
    posted = api.post("/api/v1/finance/entries/post", json=ENTRY)
    assert posted.status_code == 201, posted.text
    assert posted.json()["name"] == f"GEN/{TODAY.year}/000001"
    reversed_ = api.post(f"/api/v1/finance/entries/{posted.json()['id']}/reverse",
                         json={"date": TODAY.isoformat()})
    assert reversed_.status_code == 201
    assert reversed_.json()["reversal_of_id"] == posted.json()["id"]


BAD_ENTRIES = [
    ({"lines": [{"account": "1100", "debit": "100.00"},
                {"account": "3100", "credit": "99.00"}]}, 422),
    ({"lines": [{"account": "1100", "debit": "100.001"},
                {"account": "3100", "credit": "100.001"}]}, 422),
    ({"lines": [{"account": "1000", "debit": "1.00"},
                {"account": "3100", "credit": "1.00"}]}, 422),
    ({"lines": [{"account": "9999", "debit": "1.00"},
                {"account": "3100", "credit": "1.00"}]}, 404),
    ({"date": "2001-01-01"}, 422),
    ({"date": "yesterday"}, 422),
    ({"journal": "NOPE"}, 422),
    ({"currency": "US1"}, 422),
]


def test_bad_entries_are_refused_with_a_problem_and_nothing_is_written(api):
    for change, status in BAD_ENTRIES:
        refused = api.post("/api/v1/finance/entries/post", json={**ENTRY, **change})
        assert refused.status_code == status, (change, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert api.get("/api/v1/finance/entries").json()["items"] == []


def test_a_closed_period_refuses_entries_until_reopened(api):
    [period] = api.get("/api/v1/finance/periods", params={
        "start_date": TODAY.replace(day=1).isoformat()}).json()["items"]
    assert api.post(f"/api/v1/finance/periods/{period['id']}/close").status_code == 200
    refused = api.post("/api/v1/finance/entries/post", json=ENTRY)
    assert refused.status_code == 409
    assert "is closed" in refused.json()["detail"]
    assert api.post(f"/api/v1/finance/periods/{period['id']}/reopen").status_code == 200
    assert api.post("/api/v1/finance/entries/post", json=ENTRY).status_code == 201


MATRIX = [  # (method, path, body, viewer, accountant, manager)
    ("GET", "/api/v1/finance/statements/trial-balance", None, 200, 200, 200),
    ("GET", "/api/v1/finance/verify", None, 200, 200, 200),
    ("GET", "/api/v1/finance/entries", None, 200, 200, 200),
    ("POST", "/api/v1/finance/entries/post", ENTRY, 403, 201, 201),
    ("POST", "/api/v1/finance/rates", {"currency": "USD", "date": TODAY.isoformat(),
                                       "rate": "0.9"}, 403, 201, 201),
    ("POST", "/api/v1/finance/lock-date", {"date": "2000-01-01"}, 403, 200, 200),
    ("POST", "/api/v1/finance/setup", SETUP, 403, 403, 409),
]


@pytest.mark.parametrize("role, column", [("finance.viewer", 3), ("finance.accountant", 4),
                                          ("finance.manager", 5)])
def test_the_permission_matrix(api, erp_client_for, role, column):
    client = erp_client_for(role)
    for row in MATRIX:
        method, path, body = row[:3]
        answer = client.request(method, path, json=body)
        assert answer.status_code == row[column], (role, path, answer.text)


def test_only_a_manager_reopens_a_closed_period(api, erp_client_for):
    [period] = api.get("/api/v1/finance/periods", params={
        "start_date": TODAY.replace(day=1).isoformat()}).json()["items"]
    accountant = erp_client_for("finance.accountant")
    assert accountant.post(f"/api/v1/finance/periods/{period['id']}/close").status_code == 200
    assert accountant.post(f"/api/v1/finance/periods/{period['id']}/reopen").status_code == 403
    assert accountant.post(f"/api/v1/finance/periods/{period['id']}/lock").status_code == 403
    manager = erp_client_for("finance.manager")
    assert manager.post(f"/api/v1/finance/periods/{period['id']}/reopen").status_code == 200


@pytest.mark.parametrize(("order_id", "statuses"), [
    (-1, {404}), (424242, {404}),
    (2**31, {404, 422}),  # PostgreSQL refuses an integer out of its range: 422
])
def test_the_billing_of_an_order_that_does_not_exist_is_a_4xx(api, order_id, statuses):
    answer = api.get(f"/api/v1/finance/orders/{order_id}/billing")
    assert answer.status_code in statuses, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
