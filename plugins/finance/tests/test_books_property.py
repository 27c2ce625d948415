"""A property: whatever sequence of sales, partial shipments, returns, payments in two
currencies, rate changes, receipts, adjustments, late freight and period closes runs, the
books hold.

After every step: every entry balances, the trial balance sums to zero, assets equal
liabilities plus equity, the receivable account equals the open documents' residuals,
the stock accounts equal the inventory's valuation, and a closed period took nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from finance_helpers import TODAY, balance, stock_in_the_books
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from erp_finance import statements
from erp_finance.accounts import account_by_code
from erp_finance.currencies import set_rate
from erp_finance.invoices import Invoice, InvoiceKind
from erp_finance.ledger import EntryDraft, EntryLine, LineDraft, post_entry
from erp_finance.payments import PaymentDraft, match, receivable_residuals, record_payment
from erp_finance.periods import Period, PeriodState, set_period_state
from erp_finance.stock import book_pending_moves, inventory_valuation
from erp_inventory.catalogue import Product
from erp_inventory.exceptions import InsufficientStock
from erp_inventory.movements import add_cost_to_stock, adjust, receive
from erp_orders.order import Order, OrderLine
from erp_orders.returns import ReturnLineRequest, request_return
from erp_sdk import ConflictError, ValidationError

D = Decimal
steps = st.lists(st.one_of(
    st.tuples(st.just("sale"), st.integers(0, 2), st.integers(1, 3), st.sampled_from(
        ["0", "0.07", "0.19"])),
    st.tuples(st.just("ship"), st.booleans()),
    st.tuples(st.just("return"), st.booleans()),
    st.tuples(st.just("pay"), st.sampled_from(["all", "part"])),
    st.tuples(st.just("rate"), st.sampled_from(["2", "3"])),
    st.tuples(st.just("receive"), st.integers(0, 2), st.integers(1, 9),
              st.sampled_from(["0.70", "1.13", "2.50"])),
    st.tuples(st.just("adjust"), st.integers(0, 2), st.integers(-3, 3)),
    st.tuples(st.just("freight"), st.integers(0, 2), st.sampled_from(["0.15", "-0.05"])),
    st.tuples(st.just("close")),
), min_size=1, max_size=12)


@pytest.fixture
def world(books, shop, make_product):
    """Three products: TEA-1 and MUG-1 in EUR, GIZMO in USD (a dollar is 2 euros)."""
    gizmo = make_product("GIZMO", price="9.99")
    with books.context() as ctx:
        ctx.session.get(Product, gizmo).currency = "USD"
        set_rate(ctx.session, "USD", TODAY.replace(month=1, day=1), D(2))
        receive(ctx, shop["warehouse"], gizmo, D(20), D("3.10"))
        book_pending_moves(ctx.session)
    return {**shop, "products": [shop["tea"], shop["mug"], gizmo], "prices":
            ["4.20", "12.50", "9.99"], "currencies": ["EUR", "EUR", "USD"]}


def _check(kernel) -> None:
    with kernel.transaction() as session:
        book_pending_moves(session)
    with kernel.transaction() as session:
        unbalanced = session.execute(sa.select(EntryLine.entry_id).group_by(EntryLine.entry_id)
                                     .having(sa.func.sum(EntryLine.debit)
                                             != sa.func.sum(EntryLine.credit))).all()
        assert unbalanced == []
        first, last = TODAY.replace(month=1, day=1), TODAY.replace(month=12, day=31)
        trial = statements.trial_balance(session, first, last)
        assert trial["totals"]["closing"] == 0
        assert trial["totals"]["debit"] == trial["totals"]["credit"]
        assert statements.balance_sheet(session, last)["balanced"]
        assert balance(session, "1200") == receivable_residuals(session)
        assert stock_in_the_books(session) == inventory_valuation(session)


def _latest(session, model, *conditions):
    return session.scalar(sa.select(model).where(*conditions).order_by(model.id.desc()).limit(1))


def _step(ctx, world, step) -> None:
    session = ctx.session
    kind = step[0]
    if kind == "sale":
        from erp_orders.placing import LineRequest, OrderRequest, place_order

        _, index, quantity, rate = step
        order_id, _ = place_order(ctx, OrderRequest(
            channel_id=world["channel"], customer_id=world["customer"],
            currency=world["currencies"][index],
            lines=[LineRequest(world["products"][index], D(quantity),
                               unit_price=D(world["prices"][index]), tax_rate=D(rate))]))
        ctx.fire("orders.order", order_id, "confirm")
    elif kind == "ship":
        order = _latest(session, Order, Order.state.in_(["confirmed", "partially_shipped"]))
        if order is not None:
            line = session.scalar(sa.select(OrderLine).where(OrderLine.order_id == order.id))
            left = line.quantity - line.quantity_shipped
            data = {"lines": [{"line_id": line.id, "quantity": "1"}]} \
                if step[1] and left > 1 else None
            ctx.fire("orders.order", order.id, "ship", data)
    elif kind == "return":
        line = _latest(session, OrderLine, OrderLine.quantity_shipped
                       > OrderLine.quantity_returned)
        if line is not None:
            returned = request_return(ctx, line.order_id, [ReturnLineRequest(line.id, D(1))])
            for transition in ("approve", "receive", *(("refund",) if step[1] else ())):
                ctx.fire("orders.return_request", returned["id"], transition)
    elif kind == "pay":
        invoice = _latest(session, Invoice, Invoice.kind == InvoiceKind.INVOICE,
                          Invoice.residual > 0)
        if invoice is not None:
            amount = invoice.residual if step[1] == "all" else \
                max(D("0.01"), (invoice.residual / 2).quantize(D("0.01")))
            payment = record_payment(session, PaymentDraft(invoice.customer_id, amount,
                                                           invoice.currency, TODAY))
            match(session, payment.id, invoice.id)
    elif kind == "rate":
        set_rate(session, "USD", TODAY, D(step[1]))
    elif kind == "receive":
        _, index, quantity, cost = step
        receive(ctx, world["warehouse"], world["products"][index], D(quantity), D(cost))
    elif kind == "adjust":
        adjust(ctx, world["warehouse"], world["products"][step[1]], D(step[2]), "property")
    elif kind == "freight":  # late freight for 10 units received, some of them maybe sold
        add_cost_to_stock(ctx, world["products"][step[1]], D(10), D(step[2]))
    else:
        period = session.scalar(sa.select(Period).where(Period.start_date <= TODAY,
                                                        Period.end_date >= TODAY))
        set_period_state(ctx, period.id, PeriodState.CLOSED)
        session.flush()
        try:
            with session.begin_nested():
                post_entry(session, EntryDraft("GEN", TODAY, [
                    LineDraft(account_by_code(session, "1100").id, debit=D("1.00")),
                    LineDraft(account_by_code(session, "3100").id, credit=D("1.00"))]))
            raise AssertionError("a closed period took an entry")
        except ConflictError:
            pass
        set_period_state(ctx, period.id, PeriodState.OPEN)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=steps)
def test_random_sequences_keep_the_books_whole(books, world, sequence):
    for step in sequence:
        try:
            with books.context() as ctx:
                _step(ctx, world, step)
        except (InsufficientStock, ConflictError, ValidationError):
            pass  # a refused step changes nothing; the checks below prove it
        _check(books)
