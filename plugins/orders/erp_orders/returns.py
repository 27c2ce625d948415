"""Returns and exchanges (ORD-6): goods that come back from a customer.

A return request names shipped lines of one order and the quantity of each that comes
back. It goes ``requested -> approved -> received -> refunded | exchanged`` (or is
rejected, with a reason, or cancelled):

- A line may ask for no more than the order line's shipped quantity minus what was
  already returned (``quantity_returned``, raised when goods are received) minus what
  other open (requested or approved) returns ask for. That is checked when the line is
  written, and again when the request is approved, against the other *approved*
  requests, with the order lines locked, so two approvals cannot promise the same units.
- ``receive`` moves every line's goods from the customer into the order's warehouse
  storage, or to the damaged location for a line flagged ``damaged``, through the
  inventory plugin, and raises the order lines' ``quantity_returned``.
- ``refund`` records what the customer gets back, on the request and its lines, and
  announces it as ``orders.return_request.refund_recorded`` (amount, tax, currency and
  lines; finance posts it later from that event): per line, the returned quantity's share of the
  line's total (net of its discount, tax included), rounded half up to the cent,
  *cumulatively*: a line's refunds are ``share(already refunded + this) -
  share(already refunded)``, so the refunds of a line, however split, never exceed its
  total and add up to exactly its total once it is all returned. The tax part is
  computed the same way from the line's tax. Shipping is not refunded.
- ``exchange`` places a replacement order for the same customer, channel, warehouse,
  currency and addresses with the returned products and quantities at unit price 0
  (the customer paid for these goods already), linked from the request as
  ``replacement_order_id`` and announced as ``orders.return_request.replacement_placed``;
  the replacement is confirmed at once (so its stock is reserved; a shortfall refuses
  the exchange) unless the transition's data says ``{"confirm": false}``.

The kernel writes a transition's event before the reactions run, so the ``refunded`` and
``exchanged`` events carry the state change only; the amounts and the replacement order
travel in the two events above, written by the reactions in the same transaction.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_inventory.catalogue import Product
from erp_inventory.movements import return_to_stock
from erp_orders.money import to_cents
from erp_orders.order import ADDRESS_FIELDS, Order, OrderLine, OrderState
from erp_orders.placing import LineRequest, OrderRequest, place_order
from erp_sdk import (
    POSITIVE,
    Base,
    ConflictError,
    Context,
    Entity,
    FieldValueError,
    Money,
    NotFoundError,
    Principal,
    Quantity,
    RecordMixin,
    Transition,
    TransitionEvent,
    TransitionVetoed,
    ValidationError,
    Workflow,
    WriteEvent,
    boolean,
    check_quantity,
    identifier,
    on_transition,
    on_write,
    typed_field,
)
from erp_sdk import quantity as quantity_type

RETURN = "orders.return_request"
RETURN_LINE = "orders.return_line"
ZERO = Decimal(0)


class ReturnState(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    RECEIVED = "received"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


R = ReturnState
RETURN_WORKFLOW = Workflow(
    states=ReturnState,
    initial=R.REQUESTED,
    transitions=[
        Transition("approve", [R.REQUESTED], R.APPROVED, event="approved",
                   description="Accept the return; quantities are checked again"),
        Transition("reject", [R.REQUESTED], R.REJECTED, event="rejected",
                   description="Refuse the return, with a reason"),
        Transition("receive", [R.APPROVED], R.RECEIVED, event="received",
                   description="The goods are back: into storage, or to the damaged location"
                               " for damaged lines"),
        Transition("refund", [R.RECEIVED], R.REFUNDED, event="refunded",
                   description="Record the refund amount (posted later by finance)"),
        Transition("exchange", [R.RECEIVED], R.EXCHANGED, event="exchanged",
                   description="Place a replacement order at price 0 ({\"confirm\": false}"
                               " leaves it in draft)"),
        Transition("cancel", [R.REQUESTED, R.APPROVED], R.CANCELLED, event="cancelled"),
    ],
)

OPEN_STATES = (R.REQUESTED, R.APPROVED)
RETURNABLE_ORDER_STATES = {OrderState.PARTIALLY_SHIPPED, OrderState.SHIPPED,
                           OrderState.DELIVERED, OrderState.COMPLETED}


class ReturnRequest(RecordMixin, Base):
    __tablename__ = "orders_return_request"

    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(20), default=R.REQUESTED, index=True)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    refund_amount: Mapped[Money | None]
    refund_tax: Mapped[Money | None]
    replacement_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders_order.id"))


class ReturnLine(RecordMixin, Base):
    __tablename__ = "orders_return_line"
    __table_args__ = (
        sa.UniqueConstraint("return_id", "order_line_id"),
        sa.CheckConstraint("quantity > 0", name="positive_quantity"),
    )

    return_id: Mapped[int] = mapped_column(
        sa.ForeignKey("orders_return_request.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order_line.id"),
                                               index=True)
    quantity: Mapped[Quantity] = mapped_column(info=POSITIVE)
    damaged: Mapped[bool] = mapped_column(default=False)
    refund_amount: Mapped[Money | None]
    refund_tax: Mapped[Money | None]


ENTITIES = [
    Entity("return_request", ReturnRequest, workflow=RETURN_WORKFLOW,
           read_only=["currency", "refund_amount", "refund_tax", "replacement_order_id"],
           filterable=["order_id", "state", "replacement_order_id"],
           sortable=["created_at"], operations={"list", "get", "create", "update"},
           description="A return of shipped goods; refunds are the returned share of each"
                       " line's total, rounded half up per line (see the orders README)."),
    Entity("return_line", ReturnLine, read_only=["refund_amount", "refund_tax"],
           filterable=["return_id", "order_line_id", "damaged"],
           description="A shipped order line and the quantity of it that comes back;"
                       " ``damaged`` sends it to the damaged location on receipt."),
]


@attrs.frozen
class ReturnLineRequest:
    """A shipped order line and how much of it comes back."""

    order_line_id: int = typed_field(identifier())
    quantity: Decimal = typed_field(quantity_type("positive"))
    damaged: bool = typed_field(boolean(), default=False)


def _system(ctx: Context) -> Context:
    return ctx.as_principal(Principal.system(f"orders for {ctx.principal.name}"))


def return_lines(ctx: Context, return_id: int) -> list[ReturnLine]:
    return list(ctx.session.scalars(sa.select(ReturnLine).where(ReturnLine.return_id == return_id)
                                    .order_by(ReturnLine.id)))


def _claimed(ctx: Context, order_line_id: int, states: Iterable[str],
             excluding_line_id: int | None = None) -> Decimal:
    """Quantity of an order line that return requests in ``states`` ask for."""
    statement = (sa.select(ReturnLine.quantity)
                 .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
                 .where(ReturnLine.order_line_id == order_line_id,
                        ReturnRequest.state.in_([str(s) for s in states])))
    if excluding_line_id is not None:
        statement = statement.where(ReturnLine.id != excluding_line_id)
    # summed in Python: exact on SQLite and PostgreSQL alike, and a line has few returns
    return sum(ctx.session.scalars(statement), ZERO)


def returnable_quantity(ctx: Context, order_line: OrderLine, *, states: Iterable[str] = OPEN_STATES,
                        excluding_line_id: int | None = None) -> Decimal:
    """Shipped, minus already returned, minus what other returns in ``states`` ask for."""
    return (order_line.quantity_shipped - order_line.quantity_returned
            - _claimed(ctx, order_line.id, states, excluding_line_id))


def _show(quantity: Decimal) -> str:
    return f"{quantity.normalize():f}"


def _refuse_over_return(ctx: Context, order_line: OrderLine, quantity: Decimal, *,
                        states: Iterable[str], excluding_line_id: int | None) -> None:
    if quantity <= 0:
        raise ValidationError("a returned quantity must be positive", {"quantity": "must be > 0"})
    if quantity != quantity.to_integral_value():  # whole units fit every unit of measure
        try:
            check_quantity(quantity, ctx.session.get(Product, order_line.product_id).unit)
        except FieldValueError as exc:
            raise ValidationError(f"quantity: {exc}", {"quantity": str(exc)}) from None
    left = returnable_quantity(ctx, order_line, states=states,
                               excluding_line_id=excluding_line_id)
    if quantity > left:
        raise ValidationError(
            f"order line {order_line.id} ({order_line.sku}): {_show(quantity)} cannot be"
            f" returned; {_show(order_line.quantity_shipped)} shipped,"
            f" {_show(order_line.quantity_returned)} already returned, {_show(max(left, ZERO))}"
            f" left to return after other {' or '.join(states)} returns",
            {"quantity": "more than can be returned"})


def _locked_request(ctx: Context, return_id: int) -> ReturnRequest:
    request = ctx.session.scalar(sa.select(ReturnRequest).where(ReturnRequest.id == return_id)
                                 .with_for_update(key_share=True))
    if request is None:
        raise ValidationError(f"return request {return_id} does not exist",
                              {"return_id": "does not exist"})
    return request


def _locked_order_lines(ctx: Context, ids: Sequence[int]) -> list[OrderLine]:
    """Order lines locked in id order (no deadlock), with their committed values."""
    return list(ctx.session.scalars(
        sa.select(OrderLine).where(OrderLine.id.in_(ids)).order_by(OrderLine.id)
        .with_for_update(key_share=True).execution_options(populate_existing=True)))


@on_write(RETURN, when="before")
def check_return_request(ctx: Context, event: WriteEvent) -> None:
    """A return is for an order that shipped something, and stays with that order."""
    if event.action == "update":
        if "order_id" in event.changes and event.changes["order_id"] != event.before["order_id"]:
            raise ValidationError("a return request stays with its order",
                                  {"order_id": "cannot change"})
        return
    if event.action != "create":
        return
    order = ctx.session.get(Order, event.changes["order_id"])
    if order.state not in RETURNABLE_ORDER_STATES:
        raise ConflictError(f"order {order.number} is {order.state}: only shipped goods can be"
                            " returned")


@on_write(RETURN_LINE, when="before")
def check_return_line(ctx: Context, event: WriteEvent) -> None:
    """Lines change while the request is ``requested`` (``damaged`` also once approved),
    belong to the request's order, and never ask for more than can be returned."""
    current = {**(event.before or {}), **event.changes}
    request = _locked_request(ctx, current["return_id"])
    if event.action == "update":
        for field in ("return_id", "order_line_id"):
            if field in event.changes and event.changes[field] != event.before[field]:
                raise ValidationError(f"a return line's {field} does not change; delete the"
                                      " line and add another", {field: "cannot change"})
    changed = {k for k, v in event.changes.items()
               if k != "version" and (event.before is None or event.before.get(k) != v)}
    if request.state == R.APPROVED and event.action == "update" and changed <= {"damaged"}:
        return
    if request.state != R.REQUESTED:
        raise ConflictError(f"return request {request.id} is {request.state}: its lines can no"
                            " longer change" + (" (except damaged)" if request.state == R.APPROVED
                                                else ""))
    if event.action == "delete":
        return
    order_line = ctx.session.get(OrderLine, current["order_line_id"])
    if order_line is None or order_line.order_id != request.order_id:
        raise ValidationError(f"order line {current['order_line_id']} is not on the order of"
                              f" return request {request.id}",
                              {"order_line_id": "not on the order"})
    if event.action == "create" or "quantity" in event.changes:
        _refuse_over_return(ctx, order_line, current["quantity"], states=OPEN_STATES,
                            excluding_line_id=event.record_id)


@on_transition(RETURN, "approve", when="before")
def recheck_quantities_on_approval(ctx: Context, event: TransitionEvent) -> None:
    """Approval promises the units: checked against the other approved returns, with the
    order lines locked so that concurrent approvals of one line take turns."""
    lines = return_lines(ctx, event.record_id)
    if not lines:
        raise TransitionVetoed(f"return request {event.record_id} has no lines")
    order_lines = {ol.id: ol for ol in _locked_order_lines(
        ctx, [line.order_line_id for line in lines])}
    for line in lines:
        order_line = order_lines[line.order_line_id]
        _refuse_over_return(ctx, order_line, line.quantity, states=(R.APPROVED,),
                            excluding_line_id=line.id)


@on_transition(RETURN, "reject", when="before")
def rejecting_a_return_needs_a_reason(ctx: Context, event: TransitionEvent) -> None:
    if not str(event.data.get("reason") or "").strip():
        raise ValidationError("rejecting a return needs a reason: {\"reason\": \"...\"}",
                              {"reason": "required"})


@on_transition(RETURN, "receive", when="after")
def receive_returned_goods(ctx: Context, event: TransitionEvent) -> None:
    """Goods back in the order's warehouse (or damaged), counted as returned on the order."""
    order = ctx.session.get(Order, event.record["order_id"])
    system = _system(ctx)
    order_lines = system.records("orders.order_line")
    lines = return_lines(ctx, event.record_id)
    locked = {ol.id: ol for ol in _locked_order_lines(ctx, [ln.order_line_id for ln in lines])}
    for line in lines:
        order_line = locked[line.order_line_id]
        if order_line.quantity_returned + line.quantity > order_line.quantity_shipped:
            raise ConflictError(f"order line {order_line.id} ({order_line.sku}): returning"
                                f" {_show(line.quantity)} more would exceed the"
                                f" {_show(order_line.quantity_shipped)} shipped")
        before = order_lines.get(order_line.id)
        order_line.quantity_returned += line.quantity
        order_line.version += 1
        ctx.session.flush()
        return_to_stock(system, order.warehouse_id, order_line.product_id, line.quantity,
                        damaged=line.damaged, origin=f"orders.return_line:{line.id}")
        ctx.audit("orders.order_line", order_line.id, "returned", before,
                  order_lines.get(order_line.id))


def _share(amount: Decimal, quantity: Decimal, part: Decimal) -> Decimal:
    return to_cents(amount * part / quantity)


@attrs.frozen
class Refund:
    """A line's refund: ``amount`` tax included, of which ``tax``."""

    amount: Decimal
    tax: Decimal


def line_refund(order_line: OrderLine, quantity: Decimal, already_refunded: Decimal) -> Refund:
    """The refund of ``quantity`` units of ``order_line`` when ``already_refunded`` units of
    it were refunded before (the cumulative rule of the module docstring)."""
    done, now = already_refunded, already_refunded + quantity

    def share(amount: Decimal) -> Decimal:
        return (_share(amount, order_line.quantity, now)
                - _share(amount, order_line.quantity, done))

    return Refund(share(order_line.line_total), share(order_line.line_tax))


@on_transition(RETURN, "refund", when="after")
def record_the_refund(ctx: Context, event: TransitionEvent) -> None:
    """Amounts on the lines and the request, announced as ``refund_recorded``."""
    request = ctx.session.get(ReturnRequest, event.record_id)
    order = ctx.session.get(Order, request.order_id)
    amount = tax = ZERO
    announced = []
    for line in return_lines(ctx, request.id):
        order_line = ctx.session.get(OrderLine, line.order_line_id)
        refund = line_refund(order_line, line.quantity,
                             _claimed(ctx, order_line.id, (R.REFUNDED,), line.id))
        line.refund_amount, line.refund_tax = refund.amount, refund.tax
        amount, tax = amount + refund.amount, tax + refund.tax
        announced.append({"return_line_id": line.id, "order_line_id": order_line.id,
                          "product_id": order_line.product_id, "quantity": str(line.quantity),
                          "amount": str(refund.amount), "tax": str(refund.tax)})
    request.refund_amount, request.refund_tax, request.currency = amount, tax, order.currency
    ctx.session.flush()
    ctx.emit(f"{RETURN}.refund_recorded", RETURN, request.id, {
        "id": request.id, "order_id": order.id, "order_number": order.number,
        "customer_id": order.customer_id, "currency": order.currency, "amount": str(amount),
        "tax": str(tax), "lines": announced})


@on_transition(RETURN, "exchange", when="before")
def confirm_is_true_or_false(ctx: Context, event: TransitionEvent) -> None:
    if not isinstance(event.data.get("confirm", True), bool):
        raise ValidationError("confirm must be true or false", {"confirm": "must be a boolean"})


@on_transition(RETURN, "exchange", when="after")
def place_the_replacement_order(ctx: Context, event: TransitionEvent) -> None:
    """The replacement, linked from the request and announced as ``replacement_placed``;
    confirmed at once (reserving its stock) unless the data says ``"confirm": false``."""
    request = ctx.session.get(ReturnRequest, event.record_id)
    order = ctx.session.get(Order, request.order_id)
    lines = []
    for line in return_lines(ctx, request.id):
        order_line = ctx.session.get(OrderLine, line.order_line_id)
        lines.append(LineRequest(order_line.product_id, line.quantity, unit_price=ZERO,
                                 tax_rate=order_line.tax_rate))
    system = _system(ctx)
    replacement_id, _created = place_order(system, OrderRequest(
        channel_id=order.channel_id, customer_id=order.customer_id, lines=lines,
        warehouse_id=order.warehouse_id, currency=order.currency,
        shipping_address={f: getattr(order, f"ship_{f}") for f in ADDRESS_FIELDS},
        billing_address={f: getattr(order, f"bill_{f}") for f in ADDRESS_FIELDS},
        notes=f"Replacement for return {request.id} of order {order.number}"))
    request.replacement_order_id = replacement_id
    ctx.session.flush()
    if event.data.get("confirm", True):
        system.fire("orders.order", replacement_id, "confirm")
    ctx.emit(f"{RETURN}.replacement_placed", RETURN, request.id, {
        "id": request.id, "order_id": order.id, "replacement_order_id": replacement_id})


def request_return(ctx: Context, order_id: int, lines: Sequence[ReturnLineRequest],
                   reason: str | None = None) -> dict[str, Any]:
    """Create a return request with its lines in the caller's transaction; returns the
    request with ``lines``. Needs ``orders.return_request.create`` and
    ``orders.return_line.create``; every line is checked as if written on its own."""
    if not lines:
        raise ValidationError("a return needs at least one line", {"lines": "empty"})
    ctx.principal.require("orders.return_line.create")
    if ctx.session.get(Order, order_id) is None:
        raise NotFoundError(f"order {order_id} does not exist")
    request = ctx.records(RETURN).create({"order_id": order_id, "reason": reason})
    service = ctx.records(RETURN_LINE)
    created = [service.create({"return_id": request["id"], "order_line_id": line.order_line_id,
                               "quantity": str(line.quantity), "damaged": line.damaged})
               for line in lines]
    return {**request, "lines": created}
