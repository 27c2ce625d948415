"""What the company owes: bills and carrier invoices open payables, paying them lowers
what is open (realizing the exchange difference of a foreign one), and the payable aging
puts what is open in buckets of days overdue, through the API and its exports."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from finance_helpers import TODAY, balance

from erp_finance import statements
from erp_finance.currencies import set_rate
from erp_finance.payables import Payable, pay_payable
from erp_finance.purchases import book_carrier_invoice, book_supplier_bill
from erp_sdk import ConflictError

D = Decimal
YEAR = TODAY.year


def day(month: int, day_of_month: int):
    return TODAY.replace(month=month, day=day_of_month)


def _bill(bill_id, number, total, tax, bill_date, due_date, currency="EUR", supplier=3):
    return {"id": bill_id, "number": number, "supplier_id": supplier,
            "currency": currency, "untaxed_amount": total - tax, "tax_amount": tax,
            "total": total, "bill_date": bill_date, "due_date": due_date}


@pytest.fixture
def owed(books, run):
    """Supplier 3: BILL-1 119.00 (1 Jan, due 31 Jan) and BILL-2 238.00 (10 Jan, due
    11 Mar); SwiftPost: CI-9 13.00 (1 Feb, due at once); BILL-3 50.00 dated 1 May."""
    run(book_supplier_bill, _bill(1, "BILL-1", D("119.00"), D("19.00"), day(1, 1), day(1, 31)))
    run(book_supplier_bill, _bill(2, "BILL-2", D("238.00"), D("38.00"), day(1, 10), day(3, 11)))
    run(book_carrier_invoice, {"id": 9, "number": "CI-9", "carrier": "SwiftPost",
                               "currency": "EUR", "total": D("13.00"),
                               "invoice_date": day(2, 1).isoformat(), "lines": []})
    run(book_supplier_bill, _bill(3, "BILL-3", D("50.00"), D("0"), day(5, 1), day(5, 31)))
    with books.transaction() as session:
        return {p.number: p.id for p in session.scalars(sa.select(Payable))}


def test_bills_and_carrier_invoices_open_payables_for_their_totals(books, owed):
    with books.transaction() as session:
        payables = {p.number: p for p in session.scalars(sa.select(Payable))}
        assert balance(session, "2100") == -(D("119.00") + D("238.00") + D("13.00")
                                             + D("50.00"))
    assert payables["BILL-1"].creditor == "supplier 3"
    assert payables["BILL-1"].supplier_id == 3
    assert payables["BILL-1"].due_date == day(1, 31)
    assert payables["CI-9"].creditor == "SwiftPost" and payables["CI-9"].due_date == day(2, 1)
    assert all(p.residual == p.total for p in payables.values())


def test_the_payable_aging_worked_example(books, owed):
    """On 15 April, after 19.00 of BILL-1 was paid on 5 February: BILL-1's 100.00 is 74
    days overdue, BILL-2's 238.00 35 days, CI-9's 13.00 73 days; BILL-3 is not yet."""
    with books.transaction() as session:
        pay_payable(session, owed["BILL-1"], D("19.00"), day(2, 5))
    with books.transaction() as session:
        aging = statements.payable_aging(session, day(4, 15))
        # what the payable account holds on that day is what the aging shows
        assert balance(session, "2100") + D("50.00") == -D("351.00")
    rows = {row["creditor"]: row for row in aging["rows"]}
    assert rows["supplier 3"]["61-90"] == D("100.00")
    assert rows["supplier 3"]["31-60"] == D("238.00")
    assert rows["supplier 3"]["total"] == D("338.00")
    assert rows["supplier 3"]["supplier_id"] == 3
    assert rows["SwiftPost"]["61-90"] == D("13.00") and rows["SwiftPost"]["total"] == D("13.00")
    assert aging["totals"] == {"EUR": D("351.00")}
    with books.transaction() as session:
        early = statements.payable_aging(session, day(1, 20))
    [row] = early["rows"]  # only BILL-1 and BILL-2 are dated by then, neither due
    assert row["current"] == D("100.00") + D("238.00") and row["total"] == D("338.00")


def test_paying_more_than_is_open_is_refused_and_nothing_is_posted(books, owed):
    with books.transaction() as session:
        pay_payable(session, owed["CI-9"], None, day(2, 2))
    with books.transaction() as session, pytest.raises(ConflictError, match=r"has 0[.0]* open"):
        pay_payable(session, owed["CI-9"], D("0.01"), day(2, 3))
    with books.transaction() as session:
        assert session.get(Payable, owed["CI-9"]).residual == 0
        assert balance(session, "1100") == -D("13.00")


def test_a_foreign_bill_paid_at_another_rate_realizes_the_difference(books, run):
    """100.00 USD booked at 0.90 (90.00 EUR) and paid at 0.95 (95.00 EUR): a 5.00 loss."""
    with books.transaction() as session:
        set_rate(session, "USD", day(1, 10), D("0.90"))
        set_rate(session, "USD", day(2, 10), D("0.95"))
    run(book_supplier_bill, _bill(4, "BILL-4", D("100.00"), D("0"), day(1, 10), day(2, 9),
                                  currency="USD", supplier=5))
    with books.transaction() as session:
        payable = session.scalar(sa.select(Payable).where(Payable.number == "BILL-4"))
        pay_payable(session, payable.id, None, day(2, 10))
    with books.transaction() as session:
        assert balance(session, "2100") == 0
        assert balance(session, "1100") == -D("95.00")
        assert balance(session, "6900") == D("5.00")


def test_payables_are_paid_and_aged_through_the_api_with_exports(books, owed, erp_client,
                                                                erp_client_for):
    paid = erp_client.post(f"/api/v1/finance/payables/{owed['BILL-1']}/pay",
                           json={"amount": "19.00", "date": day(2, 5).isoformat()})
    assert paid.status_code == 201, paid.text
    assert D(paid.json()["residual"]) == D("100.00")
    too_much = erp_client.post(f"/api/v1/finance/payables/{owed['BILL-1']}/pay",
                               json={"amount": "100.01", "date": day(2, 6).isoformat()})
    assert too_much.status_code == 409
    assert too_much.headers["content-type"].startswith("application/problem+json")
    assert erp_client.post("/api/v1/finance/payables/999999/pay",
                           json={"date": day(2, 6).isoformat()}).status_code == 404
    viewer = erp_client_for("finance.viewer")
    assert viewer.post(f"/api/v1/finance/payables/{owed['BILL-2']}/pay",
                       json={"date": day(2, 6).isoformat()}).status_code == 403

    url = "/api/v1/finance/statements/payable-aging"
    aging = viewer.get(url, params={"date_to": day(4, 15).isoformat()})
    assert aging.status_code == 200, aging.text
    rows = {row["creditor"]: row for row in aging.json()["rows"]}
    assert D(rows["supplier 3"]["total"]) == D("338.00")
    exported = viewer.get(url, params={"date_to": day(4, 15).isoformat(), "format": "csv"})
    assert exported.status_code == 200
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert {row["creditor"]: D(row["total"]) for row in table} == {
        "SwiftPost": D("13.00"), "supplier 3": D("338.00")}
    assert 'filename="payable-aging.csv"' in exported.headers["content-disposition"]
    xlsx = viewer.get(url, params={"date_to": day(4, 15).isoformat(), "format": "xlsx"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [cell.value for cell in sheet[1]][:3] == ["creditor", "supplier_id", "currency"]
    assert viewer.get("/api/v1/finance/payables").json()["items"][0]["number"] == "BILL-1"
