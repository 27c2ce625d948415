"""After-sales tickets (AFS-1): a customer's question or complaint about an order.

A ticket is tied to an order and has a reason, a subject, messages and a status:
``open -> waiting`` (on the customer) ``-> resolved -> closed``; ``resume`` takes a
waiting ticket back to open (a message from the customer does it by itself), ``reopen``
takes a resolved or closed ticket back to open. The customer's satisfaction score (1 to
5) is given only when closing (``{"satisfaction": 4}`` as the data of ``close``), and
is cleared by ``reopen``.

Opening a ticket and every message are also logged as CRM interactions (kind
``ticket``) on the order's customer, authored by whoever did it, so the customer's CRM
timeline shows the after-sales history next to calls and notes.
"""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_crm.customers import Customer
from erp_crm.services import log_interaction
from erp_orders.order import Order
from erp_sdk import (
    Base,
    ConflictError,
    Context,
    Entity,
    Principal,
    RecordMixin,
    Transition,
    TransitionEvent,
    ValidationError,
    Workflow,
    WriteEvent,
    on_transition,
    on_write,
)

TICKET = "orders.ticket"
TICKET_MESSAGE = "orders.ticket_message"


class TicketState(enum.StrEnum):
    OPEN = "open"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TicketReason(enum.StrEnum):
    DELIVERY = "delivery"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    MISSING_ITEM = "missing_item"
    RETURN = "return"
    BILLING = "billing"
    OTHER = "other"


T = TicketState
TICKET_WORKFLOW = Workflow(
    states=TicketState,
    initial=T.OPEN,
    transitions=[
        Transition("wait", [T.OPEN], T.WAITING, event="waiting",
                   description="Waiting on the customer"),
        Transition("resume", [T.WAITING], T.OPEN, event="resumed",
                   description="Back to work (a message from the customer does it too)"),
        Transition("resolve", [T.OPEN, T.WAITING], T.RESOLVED, event="resolved"),
        Transition("close", [T.RESOLVED], T.CLOSED, event="closed",
                   description="Close, optionally with the customer's satisfaction:"
                               " {\"satisfaction\": 1..5}"),
        Transition("reopen", [T.RESOLVED, T.CLOSED], T.OPEN, event="reopened",
                   description="Open again; clears the satisfaction score"),
    ],
)


class Ticket(RecordMixin, Base):
    __tablename__ = "orders_ticket"
    __table_args__ = (sa.CheckConstraint("satisfaction BETWEEN 1 AND 5",
                                         name="satisfaction_1_to_5"),)

    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order.id"), index=True)
    reason: Mapped[str] = mapped_column(
        sa.Enum(*(reason.value for reason in TicketReason), native_enum=False, length=20))
    subject: Mapped[str] = mapped_column(sa.String(200))
    state: Mapped[str] = mapped_column(sa.String(20), default=T.OPEN, index=True)
    satisfaction: Mapped[int | None]


class TicketMessage(RecordMixin, Base):
    """One message of a ticket; ``from_customer`` tells the customer's words from ours."""

    __tablename__ = "orders_ticket_message"

    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_ticket.id", ondelete="CASCADE"),
                                           index=True)
    author: Mapped[str] = mapped_column(sa.String(80))
    body: Mapped[str] = mapped_column(sa.Text)
    from_customer: Mapped[bool] = mapped_column(default=False)


ENTITIES = [
    Entity("ticket", Ticket, workflow=TICKET_WORKFLOW, read_only=["satisfaction"],
           filterable=["order_id", "reason", "state", "satisfaction"], sortable=["created_at"],
           operations={"list", "get", "create", "update"},
           description="An after-sales ticket about an order; opening it logs a CRM"
                       " interaction on the order's customer."),
    Entity("ticket_message", TicketMessage,
           filterable=["ticket_id", "author", "from_customer"], sortable=["created_at"],
           operations={"list", "get"},
           description="A message of a ticket. Post one with POST"
                       " /api/v1/orders/tickets/{id}/messages (its author is the caller)."),
]


def _as_author(ctx: Context) -> Context:
    """The system acting under the caller's name: the CRM interaction's author and the
    audit rows name the caller, who needs no CRM permission of their own."""
    return ctx.as_principal(Principal.system(ctx.principal.name))


def _customer_of(ctx: Context, order_id: int) -> tuple[int, str | None]:
    """The order's customer (or the one it was merged into) and the order's number."""
    customer_id, number = ctx.session.execute(
        sa.select(Order.customer_id, Order.number).where(Order.id == order_id)).one()
    for _hop in range(10):  # merges chain rarely; a bound keeps a bad loop finite
        merged_into = ctx.session.scalar(
            sa.select(Customer.merged_into_id).where(Customer.id == customer_id))
        if merged_into is None:
            break
        customer_id = merged_into
    return customer_id, number


def _log(ctx: Context, order_id: int, summary: str, outcome: str) -> None:
    customer_id, _number = _customer_of(ctx, order_id)
    log_interaction(_as_author(ctx), customer_id, {
        "kind": "ticket", "channel": "orders", "outcome": outcome, "summary": summary})


@on_write(TICKET, actions=("update",), when="before")
def tickets_stay_with_their_order(ctx: Context, event: WriteEvent) -> None:
    if "order_id" in event.changes and event.changes["order_id"] != event.before["order_id"]:
        raise ValidationError("a ticket stays with its order", {"order_id": "cannot change"})


@on_write(TICKET, actions=("create",), when="after")
def log_the_new_ticket(ctx: Context, event: WriteEvent) -> None:
    ticket = event.after
    _customer_id, number = _customer_of(ctx, ticket["order_id"])
    _log(ctx, ticket["order_id"], f"Ticket {ticket['id']} on order {number}"
         f" ({ticket['reason']}): {ticket['subject']}", outcome="opened")


@on_transition(TICKET, "close", when="before")
def satisfaction_is_1_to_5(ctx: Context, event: TransitionEvent) -> None:
    score = event.data.get("satisfaction")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int)
                              or not 1 <= score <= 5):
        raise ValidationError("satisfaction is a whole number from 1 to 5",
                              {"satisfaction": "must be 1, 2, 3, 4 or 5"})


@on_transition(TICKET, None, when="before")
def satisfaction_only_when_closing(ctx: Context, event: TransitionEvent) -> None:
    if event.transition != "close" and "satisfaction" in event.data:
        raise ValidationError("a satisfaction score is given only when closing a ticket",
                              {"satisfaction": "only with close"})


@on_transition(TICKET, "close", when="after")
def record_the_satisfaction(ctx: Context, event: TransitionEvent) -> None:
    """Kept on the ticket; the ``closed`` event carries it in its ``data``."""
    ctx.session.execute(sa.update(Ticket).where(Ticket.id == event.record_id)
                        .values(satisfaction=event.data.get("satisfaction")))


@on_transition(TICKET, "reopen", when="after")
def forget_the_satisfaction(ctx: Context, event: TransitionEvent) -> None:
    ctx.session.execute(sa.update(Ticket).where(Ticket.id == event.record_id)
                        .values(satisfaction=None))


def post_message(ctx: Context, ticket_id: int, body: str, *,
                 from_customer: bool = False) -> dict[str, Any]:
    """Add a message to a ticket as the acting principal (its ``author``) and log it on
    the customer in CRM. Needs ``orders.ticket_message.create`` and read access to the
    ticket; a closed ticket takes no message (reopen it first), and a customer's message
    takes a waiting ticket back to open."""
    ctx.principal.require(f"{TICKET_MESSAGE}.create")
    ticket = ctx.records(TICKET).get(ticket_id)
    if not isinstance(body, str) or not body.strip():
        raise ValidationError("a message needs a body", {"body": "required"})
    if not isinstance(from_customer, bool):
        raise ValidationError("from_customer must be true or false",
                              {"from_customer": "must be a boolean"})
    if ticket["state"] == T.CLOSED:
        raise ConflictError(f"ticket {ticket_id} is closed: reopen it to add a message")
    message = _as_author(ctx).records(TICKET_MESSAGE).create({
        "ticket_id": ticket_id, "author": ctx.principal.name, "body": body,
        "from_customer": from_customer})
    who = "customer" if from_customer else ctx.principal.name
    _log(ctx, ticket["order_id"], f"Ticket {ticket_id}, message from {who}: {body}",
         outcome="customer message" if from_customer else "answered")
    if from_customer and ticket["state"] == T.WAITING:
        _as_author(ctx).fire(TICKET, ticket_id, "resume", {"reason": "the customer wrote"})
    return message
