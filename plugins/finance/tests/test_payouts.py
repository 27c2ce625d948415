"""Payouts of a provider or marketplace, split into sales, refunds, fees and reserves,
posted, and their sales matched to the invoices they pay: worked examples to the cent."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from finance_helpers import TODAY, balance

from erp_finance.accounts import Account, AccountRole, RoleAccount, role_accounts
from erp_finance.charts import add_missing_role_accounts
from erp_finance.invoices import Invoice, InvoiceKind, InvoiceState
from erp_finance.payouts import ProviderPayoutLine
from erp_orders.returns import ReturnLineRequest, request_return
from erp_payment_tillpoint import FakeTillpoint

D = Decimal


@pytest.fixture
def tillpoint() -> Iterator[FakeTillpoint]:
    with FakeTillpoint(fee_percent=D("1.4"), fee_fixed=D("0.25"),
                       reserve_percent=D("10")) as api:
        yield api


@pytest.fixture
def cards(books, erp_client, tillpoint) -> str:
    created = erp_client.post("/api/v1/finance/payment-accounts", json={
        "name": "cards", "driver": "tillpoint", "settings": {"base_url": tillpoint.url},
        "secrets": {"api_key": tillpoint.api_key, "webhook_secret": tillpoint.webhook_secret}})
    assert created.status_code == 201, created.text
    return "cards"


def _invoice(books, order_id):
    with books.transaction() as session:
        invoice = session.scalar(sa.select(Invoice).where(Invoice.order_id == order_id))
        session.expunge(invoice)
    return invoice


def _refund_one(books, order):
    with books.context() as ctx:
        [line] = ctx.records("orders.order_line").list([("order_id", str(order["id"]))])["items"]
        returned = request_return(ctx, order["id"], [ReturnLineRequest(line["id"], D(1))])
        for transition in ("approve", "receive", "refund"):
            ctx.fire("orders.return_request", returned["id"], transition)
    with books.transaction() as session:
        return session.scalar(sa.select(Invoice.id).where(
            Invoice.kind == InvoiceKind.CREDIT_NOTE, Invoice.order_id == order["id"]))


def test_a_provider_payout_is_split_posted_and_its_sales_matched_to_the_cent(
        books, shop, place, ship, erp_client, tillpoint, cards):
    """Invoice A 19.99 paid through finance (take-payment), 1 tea of it returned and 5.00
    refunded through the provider; invoice B 29.75 paid at the provider without finance
    seeing it (by its number). The payout: sales 49.74, refund -5.00, fees -0.53 (1.4 % of
    19.99 = 0.28, + 0.25) and -0.67 (0.42 + 0.25), reserve -4.97 (10 % of 49.74): 38.57
    reaches the bank. A week later 4.97 of reserve is released."""
    a = place([(shop["tea"], "4", "4.20", "0.19")])
    b = place([(shop["mug"], "2", "12.50", "0.19")])
    ship(a["id"])
    ship(b["id"])
    invoice_a, invoice_b = _invoice(books, a["id"]), _invoice(books, b["id"])
    assert (invoice_a.total, invoice_b.total) == (D("19.99"), D("29.75"))
    taken = erp_client.post(f"/api/v1/finance/invoices/{invoice_a.id}/take-payment",
                            json={"account": cards})
    assert taken.status_code == 201, taken.text
    credit_note = _refund_one(books, a)
    assert erp_client.post(f"/api/v1/finance/invoices/{credit_note}/refund").status_code == 201
    tillpoint.create_payment({"reference": invoice_b.number, "amount": "29.75",
                              "currency": "EUR", "capture": True})
    tillpoint.pay_out(TODAY)

    imported = erp_client.post("/api/v1/finance/payouts/import",
                               json={"account": cards, "since": TODAY.isoformat()})
    assert imported.status_code == 201, imported.text
    [payout] = imported.json()["imported"]
    assert {key: D(payout[key]) for key in ("amount", "sales", "refunds", "fees", "reserves",
                                            "unmatched")} == {
        "amount": D("38.57"), "sales": D("49.74"), "refunds": D("-5.00"),
        "fees": D("-1.20"), "reserves": D("-4.97"), "unmatched": D("0")}
    sales = {line["invoice_id"]: D(line["amount"]) for line in payout["lines"]
             if line["kind"] == "sale"}
    assert sales == {invoice_a.id: D("19.99"), invoice_b.id: D("29.75")}
    assert [line["invoice_id"] for line in payout["lines"] if line["kind"] == "refund"] == [
        credit_note]

    with books.transaction() as session:
        assert balance(session, "1100") == D("38.57")  # bank
        assert balance(session, "6100") == D("1.20")  # fees, an expense
        assert balance(session, "1160") == D("4.97")  # the reserve the provider holds
        assert balance(session, "1150") == 0  # clearing: everything explained
        assert balance(session, "1200") == 0  # both invoices and the credit note settled
        assert session.get(Invoice, invoice_b.id).state == InvoiceState.PAID

    again = erp_client.post("/api/v1/finance/payouts/import",
                            json={"account": cards, "since": TODAY.isoformat()})
    assert again.json() == {"imported": [], "already_imported": [payout["payout_id"]]}

    tillpoint.pay_out(TODAY, release_reserves=True)
    released = erp_client.post("/api/v1/finance/payouts/import",
                               json={"account": cards, "since": TODAY.isoformat()})
    [second] = released.json()["imported"]
    assert D(second["amount"]) == D(second["reserves"]) == D("4.97")
    with books.transaction() as session:
        assert balance(session, "1100") == D("38.57") + D("4.97")
        assert balance(session, "1160") == 0
    listed = erp_client.get("/api/v1/finance/payouts").json()["items"]
    assert [item["payout_id"] for item in listed] == [payout["payout_id"],
                                                      second["payout_id"]]


MARKETPLACE_CSV = """\
payout_id,arrival_date,currency,kind,amount,payment_reference,order_reference,description
MP-7,{day},EUR,sale,19.99,,{order_a},order {order_a}
MP-7,{day},EUR,fee,-2.40,,{order_a},12% commission
MP-7,{day},EUR,sale,20.00,,{order_b},part of order {order_b}
MP-7,{day},EUR,fee,-2.40,,{order_b},12% commission
MP-7,{day},EUR,sale,3.00,,SO-UNKNOWN,an order these books do not have
MP-7,{day},EUR,reserve,-4.30,,,held 14 days
"""


def test_a_marketplace_csv_payout_pays_the_orders_it_names_and_reports_the_rest(
        books, shop, place, ship, erp_client, cards):
    """Sales 19.99 (order A, all of it), 20.00 (of order B's 29.75) and 3.00 for an order
    unknown here; commissions 4.80; a reserve of 4.30: 33.89 reaches the bank, 3.00 stays
    on the clearing account as unmatched, order B has 9.75 still open."""
    a = place([(shop["tea"], "4", "4.20", "0.19")])
    b = place([(shop["mug"], "2", "12.50", "0.19")])
    ship(a["id"])
    ship(b["id"])
    invoice_a, invoice_b = _invoice(books, a["id"]), _invoice(books, b["id"])
    report = MARKETPLACE_CSV.format(day=TODAY.isoformat(), order_a=a["number"],
                                    order_b=invoice_b.number)
    imported = erp_client.post("/api/v1/finance/payouts/import-csv",
                               json={"account": cards, "csv": report})
    assert imported.status_code == 201, imported.text
    [payout] = imported.json()["imported"]
    assert (D(payout["amount"]), D(payout["fees"]), D(payout["reserves"]),
            D(payout["unmatched"])) == (D("33.89"), D("-4.80"), D("-4.30"), D("3.00"))
    with books.transaction() as session:
        assert balance(session, "1100") == D("33.89")
        assert balance(session, "6100") == D("4.80")
        assert balance(session, "1160") == D("4.30")
        assert balance(session, "1150") == D("-3.00")  # the sale nobody can place yet
        assert session.get(Invoice, invoice_a.id).residual == 0
        assert session.get(Invoice, invoice_b.id).residual == D("9.75")
        lines = session.scalars(sa.select(ProviderPayoutLine).where(
            ProviderPayoutLine.kind == "sale").order_by(ProviderPayoutLine.id)).all()
        assert [line.invoice_id for line in lines] == [invoice_a.id, invoice_b.id, None]


def test_a_payout_that_does_not_add_up_or_a_bad_row_is_refused_naming_it(books, erp_client,
                                                                         cards):
    bad = ("payout_id,arrival_date,currency,kind,amount\n"
           f"MP-8,{TODAY.isoformat()},EUR,sale,10.00\n"
           f"MP-8,{TODAY.isoformat()},EUR,fee,1.00\n"
           f"MP-8,{TODAY.isoformat()},EUR,bonus,1.00\n")
    refused = erp_client.post("/api/v1/finance/payouts/import-csv",
                              json={"account": cards, "csv": bad})
    assert refused.status_code == 422
    assert "row 4" in refused.json()["errors"]
    wrong_sign = bad.rsplit("\n", 2)[0] + "\n"
    refused = erp_client.post("/api/v1/finance/payouts/import-csv",
                              json={"account": cards, "csv": wrong_sign})
    assert refused.status_code == 422
    assert "wrong sign" in refused.json()["errors"]["lines[1].amount"]
    header = "payout_id,arrival_date,currency,kind,amount,description\n"
    day = TODAY.isoformat()
    for row in (f"MP-9,{day},EUR,sale,1e400", f"{'M' * 121},{day},EUR,sale,1.00",
                f"MP-9,{day},EUR,sale,1.00,\x1b"):
        refused = erp_client.post("/api/v1/finance/payouts/import-csv",
                                  json={"account": cards, "csv": header + row + "\n"})
        assert refused.status_code == 422 and "row 2" in refused.json()["errors"], row
    fine = bad.rsplit("\n", 3)[0] + "\n"
    unknown = erp_client.post("/api/v1/finance/payouts/import-csv",
                              json={"account": "nobody", "csv": fine})
    assert unknown.status_code == 404
    no_columns = erp_client.post("/api/v1/finance/payouts/import-csv",
                                 json={"account": cards, "csv": "payout_id\n"})
    assert no_columns.status_code == 422 and "lacks the columns" in no_columns.json()["detail"]
    assert erp_client.get("/api/v1/finance/payouts").json()["items"] == []


def test_books_set_up_before_the_reserve_account_get_it_when_needed(books):
    with books.transaction() as session:
        session.execute(sa.delete(RoleAccount).where(
            RoleAccount.role == AccountRole.PROVIDER_RESERVE))
        session.execute(sa.delete(Account).where(Account.code == "1160"))
    with books.transaction() as session:
        assert add_missing_role_accounts(session) == [AccountRole.PROVIDER_RESERVE]
        reserve = session.get(Account, role_accounts(session)[AccountRole.PROVIDER_RESERVE])
        assert (reserve.code, reserve.type) == ("1160", "asset")
        assert session.get(Account, reserve.parent_id).code == "1000"
        assert add_missing_role_accounts(session) == []
