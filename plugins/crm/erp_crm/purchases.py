"""Purchases: what customers bought, fed by whoever sells (the orders plugin, an import).

The CRM does not depend on orders: a selling plugin calls ``record_purchase`` when an
order completes and ``cancel_purchase`` when it is cancelled or refunded, inside its own
transaction. A purchase is identified by the seller's ``reference`` (an order number),
which makes both calls idempotent: recording a reference again replaces what was
recorded, and cancelling twice, or cancelling what was never recorded, changes nothing.
Each call rewrites the customer's behaviour summary and tier in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_crm.customers import Customer, customer_row
from erp_crm.tiers import CURRENCY, TierReason, refresh_customers
from erp_sdk import (
    Base,
    Context,
    Entity,
    Money,
    UtcDateTime,
    ValidationError,
    utcnow,
)

_MONEY_QUANTUM = Decimal("0.0001")


class Purchase(Base):
    __tablename__ = "crm_purchase"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(120), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("crm_customer.id"), index=True)
    amount: Mapped[Money]
    currency: Mapped[str] = mapped_column(sa.String(3))
    occurred_at: Mapped[UtcDateTime]
    cancelled_at: Mapped[UtcDateTime | None]
    recorded_at: Mapped[UtcDateTime] = mapped_column(default=utcnow)
    updated_at: Mapped[UtcDateTime] = mapped_column(default=utcnow, onupdate=utcnow)


class PurchaseCategory(Base):
    """The product categories of a purchase, one row each (for favourites and analysis)."""

    __tablename__ = "crm_purchase_category"

    purchase_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_purchase.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(80), primary_key=True)


PURCHASE = Entity(
    "purchase", Purchase,
    filterable=["customer_id", "reference", "currency", "occurred_at", "cancelled_at"],
    sortable=["occurred_at", "amount"],
    operations={"list", "get"},
    description="A purchase of a customer, recorded by the plugin that sold it through"
                " erp_crm.services.record_purchase (idempotent by reference).",
)


@attrs.frozen
class RecordedPurchase:
    """The outcome of ``record_purchase`` or ``cancel_purchase``."""

    purchase_id: int
    customer_id: int
    cancelled: bool
    tier: str | None


def _checked(reference: str, amount: Decimal, currency: str, occurred_at: dt.datetime,
             categories: Iterable[str]) -> list[str]:
    errors: dict[str, str] = {}
    if not isinstance(reference, str) or not 1 <= len(reference) <= 120:
        errors["reference"] = "must be a text of 1 to 120 characters"
    if (not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0
            or amount != amount.quantize(_MONEY_QUANTUM)):
        errors["amount"] = "must be a non-negative Decimal with at most 4 decimal places"
    if not isinstance(currency, str) or not CURRENCY.match(currency):
        errors["currency"] = "must be an ISO 4217 code such as EUR"
    if not isinstance(occurred_at, dt.datetime) or occurred_at.utcoffset() is None:
        errors["occurred_at"] = "must be a timezone-aware datetime"
    names = list(dict.fromkeys(categories))
    if any(not isinstance(n, str) or not 1 <= len(n) <= 80 for n in names):
        errors["categories"] = "must be texts of 1 to 80 characters"
    if errors:
        summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
        raise ValidationError(f"invalid purchase: {summary}", errors)
    return names


def _survivor(session: Session, customer_id: int) -> int:
    """The customer that now stands for ``customer_id`` (following merges)."""
    seen = set()
    while True:
        customer = customer_row(session, customer_id)
        if customer.merged_into_id is None or customer_id in seen:
            return customer_id
        seen.add(customer_id)
        customer_id = customer.merged_into_id


def _lock_customers(session: Session, *customer_ids: int) -> None:
    """Lock in id order, so two purchases moving between the same customers never deadlock."""
    for customer_id in sorted(set(customer_ids)):
        customer_row(session, customer_id, lock=True)


def _tier(session: Session, customer_id: int) -> str | None:
    return session.scalar(sa.select(Customer.tier).where(Customer.id == customer_id))


def record_purchase(ctx: Context, customer_id: int, reference: str, amount: Decimal,
                    currency: str, occurred_at: dt.datetime, categories: Iterable[str] = ()
                    ) -> RecordedPurchase:
    """Record (or re-record) the purchase ``reference`` of a customer.

    The same reference recorded again replaces the amount, currency, time, categories
    and customer, and revives it if it was cancelled: a purchase is never counted twice.
    A customer merged into another records on the one that stayed. The customers
    involved are rewritten (summary, tier) in this transaction and the event
    ``crm.purchase.recorded`` is written. Raises ``ValidationError`` for bad values and
    ``NotFoundError`` for an unknown customer. Checks no permission: the caller is a
    plugin acting on its own, already authorised, business.
    """
    names = _checked(reference, amount, currency, occurred_at, categories)
    session = ctx.session
    customer_id = _survivor(session, customer_id)
    earlier = session.scalar(sa.select(Purchase.customer_id).where(Purchase.reference == reference))
    _lock_customers(session, customer_id, *(() if earlier is None else (earlier,)))
    values = {"customer_id": customer_id, "amount": amount, "currency": currency,
              "occurred_at": occurred_at, "cancelled_at": None}
    purchase_id = session.scalar(sa.select(Purchase.id).where(Purchase.reference == reference)
                                 .with_for_update())
    if purchase_id is None:
        purchase_id = session.execute(sa.insert(Purchase).values(reference=reference, **values)
                                      .returning(Purchase.id)).scalar_one()
    else:
        session.execute(sa.update(Purchase).where(Purchase.id == purchase_id).values(values))
        session.execute(sa.delete(PurchaseCategory)
                        .where(PurchaseCategory.purchase_id == purchase_id))
    if names:
        session.execute(sa.insert(PurchaseCategory),
                        [{"purchase_id": purchase_id, "category": n} for n in names])
    refresh_customers(ctx, {customer_id, earlier or customer_id}, TierReason.PURCHASE)
    ctx.emit("crm.purchase.recorded", "crm.purchase", purchase_id, {
        "reference": reference, "customer_id": customer_id, "amount": str(amount),
        "currency": currency, "occurred_at": occurred_at.isoformat(), "categories": names})
    return RecordedPurchase(purchase_id, customer_id, False, _tier(session, customer_id))


def cancel_purchase(ctx: Context, reference: str) -> RecordedPurchase | None:
    """Cancel the purchase ``reference``: it stays on record but no longer counts.

    Returns ``None`` when nothing was recorded under that reference (an order cancelled
    before it completed). Cancelling twice changes nothing the second time. Otherwise the
    customer's summary and tier are rewritten in this transaction and the event
    ``crm.purchase.cancelled`` is written. Checks no permission (see ``record_purchase``).
    """
    session = ctx.session
    found = session.execute(sa.select(Purchase.id, Purchase.customer_id)
                            .where(Purchase.reference == reference)).first()
    if found is None:
        return None
    purchase_id, customer_id = found
    _lock_customers(session, customer_id)
    cancelled = session.execute(
        sa.update(Purchase).where(Purchase.id == purchase_id, Purchase.cancelled_at.is_(None))
        .values(cancelled_at=utcnow())).rowcount
    if cancelled:
        refresh_customers(ctx, {customer_id}, TierReason.CANCELLATION)
        ctx.emit("crm.purchase.cancelled", "crm.purchase", purchase_id,
                 {"reference": reference, "customer_id": customer_id})
    return RecordedPurchase(purchase_id, customer_id, True, _tier(session, customer_id))
