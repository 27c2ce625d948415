"""Carrier invoices (freight settlement, LOG-3) and the seller's shipping charge policy.

An invoice's lines are matched to shipments by tracking number; each keeps what was
quoted and what is billed, and a difference above the invoice's tolerance is flagged for
review. Approving an invoice (transition ``approve``) is what finance books: freight
expense at the quoted amount, the difference as freight variance, the total payable.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_sdk import NON_NEGATIVE, Base, Money, Rate, RecordMixin, Transition, Workflow


class InvoiceState(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    CANCELLED = "cancelled"


INVOICE_WORKFLOW = Workflow(
    states=InvoiceState,
    initial=InvoiceState.DRAFT,
    transitions=[
        Transition("approve", [InvoiceState.DRAFT], InvoiceState.APPROVED, event="approved",
                   description="Accept the invoice for payment: refused while a flagged"
                               " line is not reviewed"),
        Transition("cancel", [InvoiceState.DRAFT], InvoiceState.CANCELLED, event="cancelled"),
    ],
)


class CarrierInvoice(RecordMixin, Base):
    __tablename__ = "logistics_carrier_invoice"
    __table_args__ = (sa.UniqueConstraint("carrier_account_id", "number"),)

    number: Mapped[str] = mapped_column(sa.String(60))
    carrier_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("logistics_carrier_account.id"), index=True)
    carrier: Mapped[str] = mapped_column(sa.String(60))
    currency: Mapped[str] = mapped_column(sa.String(3))
    invoice_date: Mapped[dt.date]
    total: Mapped[Money] = mapped_column(default=0)
    quoted_total: Mapped[Money] = mapped_column(default=0)
    tolerance: Mapped[Money] = mapped_column(default=0, info=NON_NEGATIVE)
    flagged_lines: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(sa.String(12), default=InvoiceState.DRAFT, index=True)
    lines: Mapped[list[CarrierInvoiceLine]] = relationship(
        order_by="CarrierInvoiceLine.id", viewonly=True)
    """What finance books, line by line (``shipment_id``, ``order_id``, ``billed_amount``,
    ``quoted_amount``)."""


class CarrierInvoiceLine(RecordMixin, Base):
    """``shipment_id`` is empty when no shipment has the tracking number (flagged)."""

    __tablename__ = "logistics_carrier_invoice_line"

    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("logistics_carrier_invoice.id", ondelete="CASCADE"), index=True)
    tracking_number: Mapped[str] = mapped_column(sa.String(60))
    shipment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("logistics_shipment.id"),
                                                    index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders_order.id"))
    billed_amount: Mapped[Money]
    quoted_amount: Mapped[Money | None]
    difference: Mapped[Money | None]
    flag: Mapped[str | None] = mapped_column(sa.String(40))
    reviewed: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str | None] = mapped_column(sa.String(200))


class ChargeKind(enum.StrEnum):
    FLAT = "flat"
    FREE_ABOVE = "free_above"
    COST_PLUS = "cost_plus"


class ShippingChargePolicy(RecordMixin, Base):
    """What the customer pays for shipping, per channel (blank: every channel): a flat
    amount, free at or above ``threshold`` (the flat amount below it), or the label cost
    plus ``margin`` (a fraction), applied once per order."""

    __tablename__ = "logistics_shipping_charge_policy"

    channel_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders_channel.id"),
                                                   unique=True)
    kind: Mapped[str] = mapped_column(sa.String(12), default=ChargeKind.FLAT)
    flat_amount: Mapped[Money] = mapped_column(default=0, info=NON_NEGATIVE)
    threshold: Mapped[Money | None] = mapped_column(info=NON_NEGATIVE)
    margin: Mapped[Rate] = mapped_column(default=0)


class OrderShippingCharge(Base):
    """The charge applied to an order, one row per order: its primary key is what makes
    the policy apply once, however many shipments or label purchases the order has."""

    __tablename__ = "logistics_order_shipping_charge"

    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("orders_order.id", ondelete="CASCADE"), primary_key=True)
    policy_kind: Mapped[str] = mapped_column(sa.String(12))
    cost: Mapped[Money | None]
    charged: Mapped[Money]
