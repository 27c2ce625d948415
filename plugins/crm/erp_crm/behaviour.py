"""Behaviour summaries: what each customer buys, how often and how much, per currency.

One row per customer and currency in which they bought (amounts in different currencies
are never added up: the CRM converts nothing). The rows are a cache of the purchases,
rewritten in the same transaction as every purchase change for that customer (see
``erp_crm.purchases``) and by ``erp crm recompute-tiers``, so they never disagree with
the purchases a committed transaction left.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_sdk import Base, Entity, Money, UtcDateTime, utcnow

FAVOURITE_CATEGORIES = 3
_CENT_FRACTION = Decimal("0.0001")


@attrs.frozen
class SpendFigures:
    """A customer's non-cancelled purchases in one currency, summed up."""

    purchase_count: int = 0
    total_spend: Decimal = Decimal(0)
    first_purchase_at: dt.datetime | None = None
    last_purchase_at: dt.datetime | None = None

    @property
    def average_spend(self) -> Decimal:
        if not self.purchase_count:
            return Decimal(0)
        return (self.total_spend / self.purchase_count).quantize(_CENT_FRACTION)


NO_PURCHASES = SpendFigures()


class Behaviour(Base):
    __tablename__ = "crm_behaviour"
    __table_args__ = (sa.UniqueConstraint("customer_id", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_customer.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    purchase_count: Mapped[int]
    total_spend: Mapped[Money]
    average_spend: Mapped[Money]
    first_purchase_at: Mapped[UtcDateTime]
    last_purchase_at: Mapped[UtcDateTime]
    favourite_categories: Mapped[list[str]] = mapped_column(sa.JSON)
    updated_at: Mapped[UtcDateTime]


BEHAVIOUR = Entity(
    "behaviour", Behaviour,
    filterable=["customer_id", "currency", "purchase_count", "total_spend", "last_purchase_at"],
    sortable=["purchase_count", "total_spend", "last_purchase_at"],
    operations={"list", "get"},
    description="What a customer buys, how often and how much, in one currency: kept up to"
                " date from the purchases recorded by erp_crm.services.record_purchase.",
)


def _favourites(counts: Counter[str]) -> list[str]:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [category for category, _count in ranked[:FAVOURITE_CATEGORIES]]


def spend_figures(session: Session, customer_ids: Collection[int]
                  ) -> dict[int, dict[str, SpendFigures]]:
    """The figures of each customer per currency, straight from the purchases."""
    # imported here: erp_crm.purchases imports this module (through erp_crm.tiers)
    from erp_crm.purchases import Purchase

    rows = session.execute(
        sa.select(Purchase.customer_id, Purchase.currency, sa.func.count(),
                  sa.func.sum(Purchase.amount), sa.func.min(Purchase.occurred_at),
                  sa.func.max(Purchase.occurred_at))
        .where(Purchase.customer_id.in_(customer_ids), Purchase.cancelled_at.is_(None))
        .group_by(Purchase.customer_id, Purchase.currency))
    figures: dict[int, dict[str, SpendFigures]] = defaultdict(dict)
    for customer_id, currency, count, total, first, last in rows:
        figures[customer_id][currency] = SpendFigures(count, total, first, last)
    return figures


def _category_counts(session: Session, customer_ids: Collection[int]
                     ) -> dict[tuple[int, str], Counter[str]]:
    from erp_crm.purchases import Purchase, PurchaseCategory

    rows = session.execute(
        sa.select(Purchase.customer_id, Purchase.currency, PurchaseCategory.category,
                  sa.func.count())
        .join(PurchaseCategory, PurchaseCategory.purchase_id == Purchase.id)
        .where(Purchase.customer_id.in_(customer_ids), Purchase.cancelled_at.is_(None))
        .group_by(Purchase.customer_id, Purchase.currency, PurchaseCategory.category))
    counts: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    for customer_id, currency, category, count in rows:
        counts[customer_id, currency][category] = count
    return counts


def refresh_behaviour(session: Session, customer_ids: Iterable[int]
                      ) -> Mapping[int, Mapping[str, SpendFigures]]:
    """Rewrite the summaries of these customers from their purchases; return the figures.

    A handful of statements whatever the number of customers: one aggregate query, one
    for categories, one for the existing rows, then batched updates, inserts and deletes
    (rows keep their ids while their customer keeps buying in that currency).
    """
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    figures = spend_figures(session, ids)
    categories = _category_counts(session, ids)
    existing = {(customer_id, currency): row_id for row_id, customer_id, currency in
                session.execute(sa.select(Behaviour.id, Behaviour.customer_id, Behaviour.currency)
                                .where(Behaviour.customer_id.in_(ids)))}
    now = utcnow()
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for customer_id, by_currency in figures.items():
        for currency, figure in by_currency.items():
            values = {
                "purchase_count": figure.purchase_count, "total_spend": figure.total_spend,
                "average_spend": figure.average_spend,
                "first_purchase_at": figure.first_purchase_at,
                "last_purchase_at": figure.last_purchase_at,
                "favourite_categories": _favourites(categories.get((customer_id, currency),
                                                                   Counter())),
                "updated_at": now,
            }
            row_id = existing.pop((customer_id, currency), None)
            if row_id is None:
                inserts.append({"customer_id": customer_id, "currency": currency, **values})
            else:
                # executemany parameters may not share the names of the columns they set
                updates.append({"row_id": row_id, **{f"new_{k}": v for k, v in values.items()}})
    table = Behaviour.__table__
    if updates:
        session.execute(
            sa.update(table).where(table.c.id == sa.bindparam("row_id"))
            .values({name.removeprefix("new_"): sa.bindparam(name)
                     for name in updates[0] if name != "row_id"}),
            updates)
    if inserts:
        session.execute(sa.insert(table), inserts)
    if existing:
        session.execute(sa.delete(table).where(table.c.id.in_(existing.values())))
    return figures
