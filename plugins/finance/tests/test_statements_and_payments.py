"""Statements over the documents' entries, payments and their matching, year-end closing,
bills and carrier invoices from the plugins that own them."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from helpers import balance

from conftest import TODAY
from erp_finance import statements
from erp_finance.accounts import account_by_code
from erp_finance.closing import close_fiscal_year
from erp_finance.currencies import set_rate
from erp_finance.invoices import Invoice, InvoiceState
from erp_finance.ledger import EntryDraft, LineDraft, post_entry
from erp_finance.payments import (
    PaymentDraft,
    auto_match,
    match,
    receivable_residuals,
    record_payment,
)
from erp_finance.periods import FiscalYear, PeriodState
from erp_finance.purchases import book_carrier_invoice, book_supplier_bill
from erp_inventory.catalogue import Product
from erp_sdk import ConflictError

D = Decimal
YEAR_START, YEAR_END = TODAY.replace(month=1, day=1), TODAY.replace(month=12, day=31)


@pytest.fixture
def sold(books, shop, place, ship):
    """Two shipped orders: 4 tea (19.99) and 2 mugs with shipping (29.75 + 4.90)."""
    first = place([(shop["tea"], "4", "4.20", "0.19")])
    second = place([(shop["mug"], "2", "12.50", "0.19")], shipping="4.90")
    ship(first["id"])
    ship(second["id"])
    return first, second


def _invoice(session, order_id):
    return session.scalar(sa.select(Invoice).where(Invoice.order_id == order_id))


def test_the_trial_balance_balances_and_the_balance_sheet_too(books, sold):
    with books.transaction() as session:
        trial = statements.trial_balance(session, YEAR_START, YEAR_END)
        sheet = statements.balance_sheet(session, YEAR_END)
        profit = statements.profit_and_loss(session, YEAR_START, YEAR_END)
    assert trial["totals"]["debit"] == trial["totals"]["credit"]
    assert trial["totals"]["closing"] == 0
    assert sheet["balanced"]
    # sales 16.80 + 25.00, shipping 4.90; cost 6.00 + 10.00
    assert profit["total_income"] == D("46.70")
    assert profit["total_expenses"] == D("16.00")
    assert sheet["unclosed_earnings"] == profit["net_profit"] == D("30.70")


def test_a_mid_period_range_reads_the_lines_of_its_partial_periods(books, sold):
    with books.transaction() as session:
        whole = statements.trial_balance(session, YEAR_START, YEAR_END)
        today = statements.trial_balance(session, TODAY, TODAY)
        before = statements.trial_balance(session, YEAR_START, TODAY - dt.timedelta(days=1)) \
            if TODAY != YEAR_START else {"rows": []}
    assert {r["account"]: r["debit"] for r in today["rows"]} == \
        {r["account"]: r["debit"] for r in whole["rows"]}
    assert all(not r["debit"] and not r["credit"] for r in before["rows"])


def test_statements_filter_by_analytic_dimensions_and_margins_per_order(books, sold):
    first, second = sold
    with books.transaction() as session:
        only_first = statements.profit_and_loss(session, YEAR_START, YEAR_END,
                                                statements.Filters(order_id=first["id"]))
        margins = statements.margins(session, YEAR_START, YEAR_END)
    assert only_first["net_profit"] == D("16.80") - D("6.00")
    rows = {row["order_id"]: row for row in margins["rows"]}
    assert rows[second["id"]]["revenue"] == D("29.90")
    assert rows[second["id"]]["cogs"] == D("10.00")
    assert rows[second["id"]]["margin"] == D("19.90")


def test_a_payment_by_reference_is_matched_and_the_invoice_is_paid(books, sold):
    first, _ = sold
    with books.transaction() as session:
        invoice = _invoice(session, first["id"])
        payment = record_payment(session, PaymentDraft(invoice.customer_id, D("19.99"), "EUR",
                                                       TODAY, reference=first["number"]))
        [matched] = auto_match(session, payment.id)
        assert matched.amount == D("19.99")
        assert invoice.state == InvoiceState.PAID and invoice.residual == 0
        assert balance(session, "1200") == receivable_residuals(session) == D("34.65")


def test_matching_never_takes_more_than_either_side_holds(books, sold):
    first, _ = sold
    with books.transaction() as session:
        invoice = _invoice(session, first["id"])
        payment = record_payment(session, PaymentDraft(invoice.customer_id, D("50.00"), "EUR",
                                                       TODAY))
        match(session, payment.id, invoice.id, D("10.00"))
        with pytest.raises(ConflictError, match=r"can match between 0 and 9\.99"):
            match(session, payment.id, invoice.id, D("10.00"))
        match(session, payment.id, invoice.id)
        assert (invoice.residual, payment.unmatched) == (0, D("30.01"))


def test_a_foreign_invoice_paid_at_another_rate_books_the_exchange_difference(books, shop,
                                                                             place, ship):
    with books.transaction() as session:
        set_rate(session, "USD", YEAR_START, D("0.90"))
        session.get(Product, shop["mug"]).currency = "USD"  # sold in dollars
    order = place([(shop["mug"], "1", "100.00", "0")], currency="USD")
    ship(order["id"])
    with books.transaction() as session:
        invoice = _invoice(session, order["id"])
        assert balance(session, "1200") == D("90.00")
        set_rate(session, "USD", TODAY, D("0.95"))
        payment = record_payment(session, PaymentDraft(invoice.customer_id, D("100.00"), "USD",
                                                       TODAY))
        match(session, payment.id, invoice.id)
        assert balance(session, "1200") == 0
        assert balance(session, "4900") == D("-5.00")  # a gain of 100 x (0.95 - 0.90)


def test_closing_the_year_moves_the_result_to_retained_earnings(books, sold, erp_principal):
    with books.context(erp_principal("finance.accountant")) as ctx:
        year = ctx.session.scalar(sa.select(FiscalYear))
        posted = close_fiscal_year(ctx, year.id)
        assert posted is not None
    with books.transaction() as session:
        assert balance(session, "3200") == D("-30.70")
        profit = statements.profit_and_loss(session, YEAR_START, YEAR_END)
        assert profit["net_profit"] == 0  # the closing entry cleared it
        assert statements.balance_sheet(session, YEAR_END)["balanced"]
        assert session.get(FiscalYear, year.id).state == PeriodState.CLOSED
    with pytest.raises(ConflictError, match="is closed"), books.transaction() as session:
        post_entry(session, EntryDraft("GEN", TODAY, [
            LineDraft(account_by_code(session, "1100").id, debit=D("1.00")),
            LineDraft(account_by_code(session, "3100").id, credit=D("1.00"))]))


def test_aging_puts_open_invoices_in_buckets_of_days_overdue(books, sold):
    with books.transaction() as session:
        aging = statements.receivable_aging(session, TODAY + dt.timedelta(days=45))
    [row] = aging["rows"]
    assert row["31-60"] == D("54.64") and row["total"] == D("54.64")


def test_a_supplier_bill_and_a_carrier_invoice_book_as_their_contract_says(books, sold, run):
    first, second = sold
    bill = {"id": 7, "number": "BILL-7", "supplier_id": 3, "currency": "EUR",
            "untaxed_amount": D("100.00"), "tax_amount": D("19.00"), "total": D("119.00"),
            "bill_date": TODAY}
    carrier = {"id": 9, "number": "CI-9", "carrier": "SwiftPost", "currency": "EUR",
               "total": D("13.00"), "invoice_date": TODAY.isoformat(),
               "lines": [{"shipment_id": 1, "order_id": first["id"], "billed_amount": D("6.50"),
                          "quoted_amount": D("6.00")},
                         {"shipment_id": 2, "order_id": second["id"],
                          "billed_amount": D("6.50"), "quoted_amount": D("6.90")}]}
    run(book_supplier_bill, bill)
    run(book_carrier_invoice, carrier)
    with books.transaction() as session:
        # the bill clears goods received not invoiced: the receipts credited it 80.00
        assert balance(session, "2150") == D("100.00") - D("80.00")
        assert balance(session, "1400") == D("19.00")
        assert balance(session, "2100") == D("-132.00")
        assert balance(session, "5300", order_id=first["id"]) == D("6.00")
        assert balance(session, "5310", order_id=first["id"]) == D("0.50")
        margins = {r["order_id"]: r for r in statements.margins(session, YEAR_START,
                                                                 YEAR_END)["rows"]}
    assert margins[second["id"]]["freight"] == D("6.50")
    assert margins[second["id"]]["margin"] == D("29.90") - D("10.00") - D("6.50")


def test_statements_and_exports_through_the_api(books, sold, erp_client):
    base = "/api/v1/finance/statements"
    trial = erp_client.get(f"{base}/trial-balance")
    assert trial.status_code == 200, trial.text
    assert trial.json()["totals"]["closing"] in ("0", "0.00", "0.0000")
    csv_file = erp_client.get(f"{base}/profit-and-loss", params={"format": "csv"})
    assert csv_file.status_code == 200
    assert csv_file.text.splitlines()[0] == "section,account,name,amount"
    xlsx = erp_client.get(f"{base}/balance-sheet", params={"format": "xlsx"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [cell.value for cell in sheet[1]] == ["section", "account", "name", "amount"]
    assert erp_client.get(f"{base}/nonsense").status_code == 404
    assert erp_client.get(f"{base}/trial-balance", params={"date_from": "2030-01-01",
                                                           "date_to": "2029-01-01"}
                          ).status_code == 422
    assert erp_client.get("/api/v1/finance/verify").json()["ok"] is True


def test_revaluation_reverses_the_next_day_and_the_difference_is_realized_once(
        books, shop, place, ship):
    from erp_finance.journals import ensure_sequences
    from erp_finance.periods import Period, create_fiscal_year
    from erp_finance.revaluation import revalue_open_items

    with books.transaction() as session:
        set_rate(session, "USD", YEAR_START, D(2))
        session.get(Product, shop["mug"]).currency = "USD"
        month_end = session.scalar(sa.select(Period.end_date).where(
            Period.start_date <= TODAY, Period.end_date >= TODAY))
        if month_end == YEAR_END:
            create_fiscal_year(session, TODAY.year + 1)
            ensure_sequences(session)
    order = place([(shop["mug"], "1", "100.00", "0")], currency="USD")
    ship(order["id"])
    next_day = month_end + dt.timedelta(days=1)
    with books.transaction() as session:
        set_rate(session, "USD", month_end, D(3))
        revalue_open_items(session, month_end)
        with pytest.raises(ConflictError, match="already revalued"):
            revalue_open_items(session, month_end)
        # 100 dollars carried at 2 are worth 300 at 3 on the month's last day ...
        assert balance(session, "1200", date=month_end) == D("100.00")
        upto = statements.balances_upto(session, month_end)[account_by_code(session, "1200").id]
        assert upto[0] - upto[1] == D("300.00")
        # ... and the revaluation is reversed on the next day
        assert balance(session, "1200", date=next_day) == D("-100.00")
        invoice = _invoice(session, order["id"])
        payment = record_payment(session, PaymentDraft(invoice.customer_id, D("100.00"), "USD",
                                                       next_day))
        match(session, payment.id, invoice.id)
        assert balance(session, "1200") == 0
        assert balance(session, "4900") == D("-100.00")  # gained once, not twice


def test_the_direct_cash_flow_classifies_bank_movements_by_counterpart(books, sold):
    first, _ = sold
    with books.transaction() as session:
        post_entry(session, EntryDraft("GEN", TODAY, [
            LineDraft(account_by_code(session, "1100").id, debit=D("1000.00")),
            LineDraft(account_by_code(session, "3100").id, credit=D("1000.00"))]))
        invoice = _invoice(session, first["id"])
        payment = record_payment(session, PaymentDraft(invoice.customer_id, D("19.99"), "EUR",
                                                       TODAY))
        match(session, payment.id, invoice.id)
        flow = statements.cash_flow(session, YEAR_START, YEAR_END)
    assert {row["category"]: row["amount"] for row in flow["rows"]} == {
        "financing": D("1000.00"), "from customers": D("19.99")}
    assert flow["closing_cash"] == flow["opening_cash"] + D("1019.99")
