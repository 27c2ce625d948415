"""Supplier bills, matched three ways against the purchase order: what was ordered, what
was received, what is billed.

A line matches when everything billed for its order line (this bill and the approved or
posted ones before it) is no more than what was received, within the supplier's quantity
tolerance, and its unit price is within the price tolerance of the ordered one. A bill
billing goods not yet received is never a match, even when it bills exactly what was
ordered. ``match_bill`` approves a matching bill and puts any other in the hold queue
(state ``on_hold``, with the reasons), which a manager may ``release``. Posting an
approved bill (``post``) is what finance books: Dr goods received not invoiced and input
tax, Cr payable.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_sdk import (
    NON_NEGATIVE,
    POSITIVE,
    Base,
    ConflictError,
    Context,
    Money,
    Quantity,
    Rate,
    RecordMixin,
    Transition,
    TransitionEvent,
    TransitionVetoed,
    ValidationError,
    Workflow,
    WriteEvent,
    on_transition,
    on_write,
)
from erp_supply.purchase_orders import PurchaseOrder, PurchaseOrderLine
from erp_supply.suppliers import Supplier

CENT = Decimal("0.01")
ZERO = Decimal(0)


class BillState(enum.StrEnum):
    DRAFT = "draft"
    ON_HOLD = "on_hold"
    APPROVED = "approved"
    POSTED = "posted"
    CANCELLED = "cancelled"


B = BillState
COUNTED_STATES = (B.APPROVED, B.POSTED)

BILL_WORKFLOW = Workflow(
    states=BillState,
    initial=B.DRAFT,
    transitions=[
        Transition("approve", [B.DRAFT], B.APPROVED, event="approved",
                   description="Refused unless the bill matches order and receipts"),
        Transition("hold", [B.DRAFT], B.ON_HOLD, event="held",
                   description="Outside tolerance: waits in the hold queue"),
        Transition("release", [B.ON_HOLD], B.APPROVED, event="released",
                   description="A manager accepts a held bill as it is"),
        Transition("revise", [B.ON_HOLD], B.DRAFT,
                   description="Back to draft to correct the lines"),
        Transition("post", [B.APPROVED], B.POSTED, event="posted",
                   description="Booked by finance: GRNI and input tax against payable"),
        Transition("cancel", [B.DRAFT, B.ON_HOLD, B.APPROVED], B.CANCELLED, event="cancelled"),
    ],
)


def bill_number(bill_id: int) -> str:
    return f"BILL-{bill_id:06d}"


class Bill(RecordMixin, Base):
    __tablename__ = "supply_bill"

    number: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_supplier.id"), index=True)
    purchase_order_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_purchase_order.id"),
                                                   index=True)
    supplier_reference: Mapped[str | None] = mapped_column(sa.String(64))
    currency: Mapped[str | None] = mapped_column(
        sa.String(3), info={"description": "Defaults to the purchase order's currency"})
    bill_date: Mapped[dt.date]
    due_date: Mapped[dt.date | None]
    untaxed_amount: Mapped[Money] = mapped_column(default=ZERO)
    tax_amount: Mapped[Money] = mapped_column(default=ZERO)
    total: Mapped[Money] = mapped_column(default=ZERO)
    state: Mapped[str] = mapped_column(sa.String(16), default=B.DRAFT, index=True)
    hold_reason: Mapped[str | None] = mapped_column(sa.String(2000))
    match_result: Mapped[list[Any] | None] = mapped_column(sa.JSON)


class BillLine(RecordMixin, Base):
    __tablename__ = "supply_bill_line"

    bill_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_bill.id", ondelete="CASCADE"),
                                         index=True)
    order_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("supply_purchase_order_line.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inventory_product.id"))
    quantity: Mapped[Quantity] = mapped_column(info=POSITIVE)
    unit_price: Mapped[Money] = mapped_column(info=NON_NEGATIVE)
    tax_rate: Mapped[Rate] = mapped_column(default=ZERO)
    amount: Mapped[Money] = mapped_column(default=ZERO)
    tax_amount: Mapped[Money] = mapped_column(default=ZERO)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@on_write("supply.bill", actions=("create", "update"), when="before")
def a_bill_is_for_its_suppliers_order(ctx: Context, event: WriteEvent) -> None:
    before = event.before or {}
    if event.action == "update" and before.get("state") != B.DRAFT:
        raise ConflictError(f"a bill in state {before.get('state')} cannot change")
    values = {**before, **event.changes}
    order = ctx.session.get(PurchaseOrder, values.get("purchase_order_id"))
    if order is None or order.supplier_id != values.get("supplier_id"):
        raise ValidationError("the purchase order is not one of this supplier's",
                              {"purchase_order_id": "not an order of the supplier"})


@on_write("supply.bill", actions=("create", "update"))
def fill_currency_and_due_date(ctx: Context, event: WriteEvent) -> None:
    bill = ctx.session.get(Bill, event.record_id)
    order = ctx.session.get(PurchaseOrder, bill.purchase_order_id)
    supplier = ctx.session.get(Supplier, bill.supplier_id)
    bill.currency = bill.currency or order.currency
    bill.due_date = bill.bill_date + dt.timedelta(days=supplier.payment_terms_days)
    ctx.session.flush()


@on_write("supply.bill_line", when="before")
def bill_lines_change_only_in_draft(ctx: Context, event: WriteEvent) -> None:
    values = {**(event.before or {}), **event.changes}
    bill = ctx.session.get(Bill, values.get("bill_id"))
    if bill is None:
        raise ValidationError("the bill does not exist", {"bill_id": "does not exist"})
    if bill.state != B.DRAFT:
        raise ConflictError(f"the lines of a bill in state {bill.state} cannot change")
    if event.action == "delete":
        return
    if (event.before or {}).get("bill_id", bill.id) != bill.id:
        raise ConflictError("a line cannot move to another bill")
    order_id = ctx.session.scalar(sa.select(PurchaseOrderLine.order_id).where(
        PurchaseOrderLine.id == values.get("order_line_id")))
    if order_id != bill.purchase_order_id:
        raise ValidationError("the line is not on the bill's purchase order",
                              {"order_line_id": "not a line of the bill's order"})


@on_write("supply.bill_line")
def keep_bill_amounts(ctx: Context, event: WriteEvent) -> None:
    record = event.after or event.before or {}
    if event.action != "delete":
        line = ctx.session.get(BillLine, event.record_id)
        line.product_id = ctx.session.scalar(sa.select(PurchaseOrderLine.product_id).where(
            PurchaseOrderLine.id == line.order_line_id))
        line.amount = cents(line.quantity * line.unit_price)
        line.tax_amount = cents(line.amount * line.tax_rate)
        ctx.session.flush()
    untaxed, tax = ctx.session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(BillLine.amount), 0),
        sa.func.coalesce(sa.func.sum(BillLine.tax_amount), 0)).where(
        BillLine.bill_id == record["bill_id"])).one()
    untaxed, tax = Decimal(str(untaxed)), Decimal(str(tax))
    ctx.session.execute(sa.update(Bill).where(Bill.id == record["bill_id"]).values(
        untaxed_amount=untaxed, tax_amount=tax, total=untaxed + tax))


def three_way_match(session: Session, bill_id: int) -> list[dict[str, Any]]:
    """Per bill line: ordered, received, billed before, billed now, prices, and the
    reasons it is outside tolerance (none: it matches)."""
    bill = session.get(Bill, bill_id)
    order = session.get(PurchaseOrder, bill.purchase_order_id)
    supplier = session.get(Supplier, bill.supplier_id)
    lines = list(session.scalars(sa.select(BillLine).where(BillLine.bill_id == bill_id)
                                 .order_by(BillLine.id)))
    billed_before = dict(session.execute(
        sa.select(BillLine.order_line_id, sa.func.sum(BillLine.quantity))
        .join(Bill, Bill.id == BillLine.bill_id)
        .where(Bill.purchase_order_id == order.id, Bill.id != bill_id,
               Bill.state.in_(COUNTED_STATES))
        .group_by(BillLine.order_line_id)).all())
    billed_now: dict[int, Decimal] = {}
    for line in lines:
        billed_now[line.order_line_id] = billed_now.get(line.order_line_id, ZERO) + line.quantity
    result = []
    for line in lines:
        ordered = session.get(PurchaseOrderLine, line.order_line_id)
        before = Decimal(str(billed_before.get(line.order_line_id) or 0))
        total_billed = before + billed_now[line.order_line_id]
        reasons = []
        allowed = ordered.received_quantity * (1 + supplier.bill_quantity_tolerance)
        if total_billed > allowed:
            reasons.append(f"billed {total_billed} (with earlier bills) but"
                           f" {ordered.received_quantity} received of {ordered.quantity}"
                           " ordered")
        price_gap = abs(line.unit_price - ordered.unit_price)
        if price_gap > ordered.unit_price * supplier.bill_price_tolerance:
            reasons.append(f"unit price {line.unit_price} differs from the ordered"
                           f" {ordered.unit_price} by more than"
                           f" {supplier.bill_price_tolerance * 100:.1f} %")
        result.append({
            "bill_line_id": line.id, "order_line_id": ordered.id,
            "product_id": ordered.product_id, "ordered": str(ordered.quantity),
            "received": str(ordered.received_quantity), "billed_before": str(before),
            "billed": str(line.quantity), "ordered_unit_price": str(ordered.unit_price),
            "billed_unit_price": str(line.unit_price), "matches": not reasons,
            "reasons": reasons})
    return result


def _mismatch(session: Session, bill_id: int) -> tuple[list[dict[str, Any]], list[str]]:
    bill = session.get(Bill, bill_id)
    order = session.get(PurchaseOrder, bill.purchase_order_id)
    result = three_way_match(session, bill_id)
    reasons = [f"line {row['order_line_id']}: {reason}" for row in result
               for reason in row["reasons"]]
    if not result:
        reasons.append("the bill has no lines")
    if bill.currency != order.currency:
        reasons.append(f"billed in {bill.currency}, ordered in {order.currency}")
    return result, reasons


def match_bill(ctx: Context, bill_id: int) -> dict[str, Any]:
    """Match a draft bill: approve it, or put it in the hold queue with its reasons."""
    bill = ctx.records("supply.bill").get(bill_id, lock=True)
    if bill["state"] != B.DRAFT:
        raise ConflictError(f"bill {bill['number']} is {bill['state']}: only a draft is matched")
    result, reasons = _mismatch(ctx.session, bill_id)
    ctx.session.execute(sa.update(Bill).where(Bill.id == bill_id).values(
        match_result=result, hold_reason="; ".join(reasons)[:2000] or None))
    return ctx.fire("supply.bill", bill_id, "hold" if reasons else "approve")


@on_transition("supply.bill", "approve", when="before")
def approve_only_a_match(ctx: Context, event: TransitionEvent) -> None:
    _, reasons = _mismatch(ctx.session, event.record_id)
    if reasons:
        raise TransitionVetoed("the bill does not match: " + "; ".join(reasons))
