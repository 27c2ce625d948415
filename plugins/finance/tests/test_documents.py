"""Documents that post themselves: shipments invoice and cost, returns credit and reverse
the cost at what the goods went out at, counts post their variance."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from finance_helpers import balance, stock_in_the_books

from erp_finance.invoices import Invoice, InvoiceKind, InvoicePolicy
from erp_finance.stock import book_pending_moves, inventory_valuation
from erp_finance.taxes import TaxRule
from erp_inventory.catalogue import Category, Product
from erp_inventory.movements import receive
from erp_orders.returns import ReturnLineRequest, request_return

D = Decimal


def _invoices(kernel, order_id):
    with kernel.transaction() as session:
        return session.scalars(sa.select(Invoice).where(Invoice.order_id == order_id)
                               .order_by(Invoice.id)).all()


def test_a_shipment_invoices_what_it_shipped_and_books_its_cost(books, shop, place, ship):
    order = place([(shop["tea"], "4", "4.20", "0.19")])
    ship(order["id"])

    [invoice] = _invoices(books, order["id"])
    assert (invoice.untaxed, invoice.tax, invoice.total) == (D("16.80"), D("3.19"), D("19.99"))
    with books.transaction() as session:
        assert balance(session, "1200", partner_id=shop["customer"]) == D("19.99")
        assert balance(session, "4100", order_id=order["id"]) == D("-16.80")
        assert balance(session, "2200") == D("-3.19")
        # 4 tea at the moving average of 1.50 (10 at 1.00, 10 at 2.00)
        assert balance(session, "5100", order_id=order["id"]) == D("6.00")
        assert stock_in_the_books(session) == inventory_valuation(session) == D("74.00")


def test_freight_after_the_receipt_books_the_stocks_share_and_the_sold_goods_share(
        books, shop, place, ship):
    """20 tea received (average 1.50), 4 shipped; then 0.25 more freight for each of the
    20: the 16 on hand carry 4.00 (cost 1.75), the 4 sold 1.00 of cost of goods sold, and
    goods received not invoiced waits for the 5.00 bill. Booked once, in its transaction."""
    from erp_inventory.movements import add_cost_to_stock

    order = place([(shop["tea"], "4", "4.20", "0.19")])
    ship(order["id"])
    with books.context() as ctx:
        add_cost_to_stock(ctx, shop["tea"], D(20), D("0.25"), origin="supply.purchase_order:7")

    for _ in range(2):  # the job finds nothing more to book
        with books.transaction() as session:
            assert stock_in_the_books(session) == inventory_valuation(session) == D("78.00")
            on_hand = session.get(Product, shop["tea"]).cost * 16 + D("50.00")
            assert stock_in_the_books(session) == on_hand
            assert balance(session, "5100") == D("6.00") + D("1.00")
            assert balance(session, "2150") == D("-30.00") - D("50.00") - D("5.00")
        with books.context() as ctx:
            book_pending_moves(ctx.session)


def test_a_freight_credit_after_the_receipt_lowers_stock_and_cost_of_goods_sold(
        books, shop, place, ship):
    from erp_inventory.movements import add_cost_to_stock

    order = place([(shop["mug"], "5", "12.50", "0.19")])
    ship(order["id"])
    with books.context() as ctx:
        add_cost_to_stock(ctx, shop["mug"], D(10), D("-0.40"))
    with books.transaction() as session:
        assert stock_in_the_books(session) == inventory_valuation(session) == D("53.00")
        assert balance(session, "5100") == D("25.00") - D("2.00")
        assert balance(session, "2150") == D("-80.00") + D("4.00")


def test_partial_shipments_invoice_shares_that_add_up_to_the_order(books, shop, place, ship):
    order = place([(shop["tea"], "3", "3.33", "0.19")], shipping="4.90")
    with books.context() as ctx:
        [line] = ctx.records("orders.order_line").list([("order_id", str(order["id"]))])["items"]
    ship(order["id"], [{"line_id": line["id"], "quantity": "1"}])
    ship(order["id"], [{"line_id": line["id"], "quantity": "1"}])
    ship(order["id"])

    invoices = _invoices(books, order["id"])
    assert len(invoices) == 3
    assert sum(i.untaxed for i in invoices) == D("9.99") + D("4.90")
    assert sum(i.tax for i in invoices) == D("1.90")  # 9.99 x 19 % on the order
    assert sum(i.total for i in invoices) == D(order["total"])


def test_a_channel_may_invoice_on_confirmation(books, shop, place, ship):
    with books.context() as ctx:
        ctx.records("finance.invoice_policy").create(
            {"channel_id": shop["channel"], "invoice_on": "confirmation", "due_days": 30})
    order = place([(shop["mug"], "2", "12.50", "0.19")])
    [invoice] = _invoices(books, order["id"])
    assert invoice.total == D("29.75")
    assert (invoice.due_date - invoice.date).days == 30
    ship(order["id"])
    assert len(_invoices(books, order["id"])) == 1  # nothing left to invoice


def test_a_tax_rule_for_the_category_and_destination_sets_the_invoice_tax(books, shop, place,
                                                                         ship):
    with books.transaction() as session:
        category = Category(name="Books", version=1)
        session.add(category)
        session.flush()
        session.get(Product, shop["tea"]).category_id = category.id
        session.add_all([TaxRule(name="FR reduced", rate=D("0.055"), category_id=category.id,
                                 country="FR", version=1),
                         TaxRule(name="Books anywhere", rate=D("0.10"),
                                 category_id=category.id, version=1)])
    order = place([(shop["tea"], "10", "3.60", "0.20")])
    ship(order["id"])
    [invoice] = _invoices(books, order["id"])
    assert (invoice.untaxed, invoice.tax) == (D("36.00"), D("1.98"))


def test_a_return_credits_the_refund_and_reverses_cost_at_what_went_out(books, shop, place,
                                                                        ship):
    order = place([(shop["tea"], "4", "4.20", "0.19")])
    ship(order["id"])
    with books.context() as ctx:
        # the average moves on after the sale: 16 left at 1.50 plus 16 at 3.00 = 2.25
        receive(ctx, shop["warehouse"], shop["tea"], D(16), D("3.00"))
        book_pending_moves(ctx.session)
        [line] = ctx.records("orders.order_line").list([("order_id", str(order["id"]))])["items"]
        returned = request_return(ctx, order["id"], [ReturnLineRequest(line["id"], D(2))])
        for transition in ("approve", "receive", "refund"):
            ctx.fire("orders.return_request", returned["id"], transition)

    invoice, credit_note = _invoices(books, order["id"])
    assert credit_note.kind == InvoiceKind.CREDIT_NOTE
    assert credit_note.refers_to_id == invoice.id
    assert (credit_note.untaxed, credit_note.tax, credit_note.total) == (
        D("8.40"), D("1.60"), D("10.00"))
    with books.transaction() as session:
        assert balance(session, "1200") == D("9.99")
        assert balance(session, "5100", order_id=order["id"]) == D("3.00")  # 2 of 4 at 1.50
        assert balance(session, "5150", order_id=order["id"]) == D("-1.50")  # back at 2.25
        assert stock_in_the_books(session) == inventory_valuation(session)


def test_a_count_posts_its_variance_and_the_books_follow_the_stock(books, shop):
    with books.context() as ctx:
        count = ctx.records("inventory.count").create({"warehouse_id": shop["warehouse"]})
        line = ctx.records("inventory.count_line").create(
            {"count_id": count["id"], "product_id": shop["mug"]})
        ctx.fire("inventory.count", count["id"], "start")
        ctx.records("inventory.count_line").update(line["id"], {"counted": "7"})
        ctx.fire("inventory.count", count["id"], "post")
    with books.transaction() as session:
        assert balance(session, "5200") == D("15.00")  # 3 mugs lost at 5.00
        assert stock_in_the_books(session) == inventory_valuation(session) == D("65.00")


def test_a_policy_is_one_per_channel(books, shop):
    with books.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(InvoicePolicy)) == 0
