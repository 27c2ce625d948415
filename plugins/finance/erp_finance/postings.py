"""The documents of other plugins that post themselves, in their own transactions.

Each subscriber runs after the transition, in its transaction: if posting is refused (a
closed period, a missing rate), the shipment, the return or the count is refused with
it, and nothing is half-written. Until the books are set up, nothing is posted (the
``finance.book_stock_moves`` job books the stock moves made meanwhile once they are).
"""

from __future__ import annotations

import sqlalchemy as sa

from erp_finance.accounts import book_settings
from erp_finance.invoices import (
    InvoiceOn,
    InvoicePolicy,
    credit_note_for_return,
    invoice_order,
    invoice_policy,
    prepare_order_invoice,
)
from erp_finance.ledger import post_prepared
from erp_finance.stock import book_cost_adjustments, book_moves_of, prepare_moves_of
from erp_inventory.cost_adjustments import CostAdjustment
from erp_orders.order import Order
from erp_orders.returns import ReturnLine
from erp_sdk import (
    Context,
    TransitionEvent,
    ValidationError,
    WriteEvent,
    on_transition,
    on_write,
)

AFTER_THE_OWNER = 600
"""After the owning plugin's own reactions (priority 500), which make the stock moves."""


_ORDER_AND_POLICY = (sa.select(Order, InvoicePolicy.invoice_on, InvoicePolicy.due_days)
                     .outerjoin(InvoicePolicy, InvoicePolicy.channel_id == Order.channel_id)
                     .where(Order.id == sa.bindparam("order")))


def _books_set_up(ctx: Context) -> bool:
    """Whether the books are set up: from the process's copy of their settings once they
    are (books once set up stay), from the table until then."""
    try:
        book_settings(ctx.session)
    except ValidationError:
        return False
    return True


@on_transition("orders.order", "ship", priority=AFTER_THE_OWNER)
def invoice_and_cost_the_shipment(ctx: Context, event: TransitionEvent) -> None:
    """Book the shipment's cost of goods sold and, by the channel's policy (on shipment
    by default), invoice what it shipped."""
    if not _books_set_up(ctx):
        return
    session = ctx.session
    # Everything read and the invoice written first; the two postings, which take the
    # numbers of the stock and sales journals (where concurrent shipments queue until
    # commit), are the last statements, back to back. The order (which the moves' lines
    # and the invoice read from the session) comes with its channel's policy.
    _, invoice_on, due_days = session.execute(_ORDER_AND_POLICY, {"order": event.record_id}
                                              ).one()
    postings = [(entry, None) for entry in prepare_moves_of(
        session, [f"orders.order:{event.record_id}"])]
    invoice = None
    if invoice_on in (None, InvoiceOn.SHIPMENT):
        invoice = prepare_order_invoice(session, event.record_id, shipped_only=True,
                                        due_days=due_days or 0)
    if invoice is not None:
        postings.append(invoice.posting)
    post_prepared(session, postings)


@on_transition("orders.order", "approve", priority=AFTER_THE_OWNER)
def invoice_on_confirmation(ctx: Context, event: TransitionEvent) -> None:
    """Channels whose policy says so invoice the whole order once it is approved."""
    if not _books_set_up(ctx):
        return
    policy = invoice_policy(ctx.session, event.record["channel_id"])
    if policy is not None and policy.invoice_on == InvoiceOn.CONFIRMATION:
        invoice_order(ctx.session, event.record_id, shipped_only=False)


@on_transition("orders.return_request", "receive", priority=AFTER_THE_OWNER)
def cost_the_returned_goods(ctx: Context, event: TransitionEvent) -> None:
    """Goods back: stock up at the move's cost, cost of goods sold down at the cost they
    went out at (see ``stock``)."""
    if not _books_set_up(ctx):
        return
    lines = ctx.session.scalars(sa.select(ReturnLine.id).where(
        ReturnLine.return_id == event.record_id)).all()
    book_moves_of(ctx.session, [f"orders.return_line:{line}" for line in lines])


@on_transition("orders.return_request", "refund", priority=AFTER_THE_OWNER)
def credit_the_refund(ctx: Context, event: TransitionEvent) -> None:
    if _books_set_up(ctx):
        credit_note_for_return(ctx.session, event.record_id)


@on_transition("inventory.count", "post", priority=AFTER_THE_OWNER)
def book_the_count_variance(ctx: Context, event: TransitionEvent) -> None:
    if _books_set_up(ctx):
        book_moves_of(ctx.session, [f"inventory.count:{event.record_id}"])


@on_transition("inventory.transfer", None, priority=AFTER_THE_OWNER)
def book_the_transfer(ctx: Context, event: TransitionEvent) -> None:
    if event.transition in ("ship", "receive") and _books_set_up(ctx):
        book_moves_of(ctx.session, [f"inventory.transfer:{event.record_id}"])


@on_write("inventory.cost_adjustment", actions=("create",))
def book_the_cost_adjustment(ctx: Context, event: WriteEvent) -> None:
    """Freight or duty that reached goods after their receipt: the stock's share and the
    share of the goods already sold, booked in the transaction that re-costed them."""
    if _books_set_up(ctx):
        book_cost_adjustments(ctx.session, [ctx.session.get(CostAdjustment, event.record_id)])
