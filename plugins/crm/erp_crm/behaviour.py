"""Behaviour summaries: what each customer buys, how often and how much, per currency.

One row per customer and currency in which they bought (amounts in different currencies
are never added up: the CRM converts nothing). The rows are a cache of the purchases,
kept in the same transaction as every purchase change for that customer (see
``erp_crm.purchases``) and by ``erp crm recompute-tiers``, so they never disagree with
the purchases a committed transaction left.

They are kept two ways. A new purchase, the common case, is added to its summary in a
few statements whatever the customer's history (``add_purchase``): count, total,
average and first and last times follow from the summary itself, and the favourite
categories from ``CategoryCount``, a per-category tally kept beside the summaries.
Everything else (re-recording, cancelling, merging, recomputing) rewrites the summaries
of the customers involved from all their purchases (``refresh_behaviour``): those are
rare, and the full rewrite is also what repairs a summary, so both paths must agree to
the last digit and the last tie (a property test checks they do).
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

from erp_crm.purchase_records import Purchase, PurchaseCategory
from erp_sdk import Base, Entity, Money, Upsert, UtcDateTime, utcnow

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


class CategoryCount(Base):
    """How many of a customer's counted purchases in one currency had a category.

    The favourite categories of a summary are its three highest counts here (ties by
    name); the tally lets a new purchase move them without counting every purchase again.
    Internal to the summaries: not an entity, rebuilt with them by ``refresh_behaviour``.
    """

    __tablename__ = "crm_behaviour_category"

    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_customer.id", ondelete="CASCADE"), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    purchase_count: Mapped[int]


BEHAVIOUR = Entity(
    "behaviour", Behaviour,
    filterable=["customer_id", "currency", "purchase_count", "total_spend", "last_purchase_at"],
    sortable=["purchase_count", "total_spend", "last_purchase_at"],
    operations={"list", "get"},
    description="What a customer buys, how often and how much, in one currency: kept up to"
                " date from the purchases recorded by erp_crm.services.record_purchase.",
)


def _favourites(counts: Mapping[str, int]) -> list[str]:
    # Ranked in Python, never by the database: its collation may order ties differently.
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [category for category, _count in ranked[:FAVOURITE_CATEGORIES]]


@attrs.frozen
class Summary:
    """A stored summary, as ``add_purchase`` needs it."""

    row_id: int
    figures: SpendFigures
    favourite_categories: tuple[str, ...]


_BEHAVIOUR = Behaviour.__table__
_COUNTS = CategoryCount.__table__
_SUMMARIES = sa.select(
    _BEHAVIOUR.c.id, _BEHAVIOUR.c.currency, _BEHAVIOUR.c.purchase_count,
    _BEHAVIOUR.c.total_spend, _BEHAVIOUR.c.first_purchase_at, _BEHAVIOUR.c.last_purchase_at,
    _BEHAVIOUR.c.favourite_categories,
).where(_BEHAVIOUR.c.customer_id == sa.bindparam("customer_id"))
_SUMMARY_VALUES = ("purchase_count", "total_spend", "average_spend", "first_purchase_at",
                   "last_purchase_at", "favourite_categories", "updated_at")
# executemany parameters may not share the names of the columns they set: hence new_*.
_UPDATE_SUMMARY = sa.update(_BEHAVIOUR).where(_BEHAVIOUR.c.id == sa.bindparam("row_id")).values(
    {name: sa.bindparam(f"new_{name}") for name in _SUMMARY_VALUES})
_INSERT_SUMMARY = sa.insert(_BEHAVIOUR)
_DELETE_COUNTS = sa.delete(_COUNTS).where(
    _COUNTS.c.customer_id.in_(sa.bindparam("customer_ids", expanding=True)))
_INSERT_COUNTS = sa.insert(_COUNTS)


def _add_to_counts(insert: Any) -> Any:
    statement = insert(_COUNTS)
    return statement.on_conflict_do_update(
        index_elements=[_COUNTS.c.customer_id, _COUNTS.c.currency, _COUNTS.c.category],
        set_={"purchase_count": _COUNTS.c.purchase_count + statement.excluded.purchase_count},
    ).returning(_COUNTS.c.category, _COUNTS.c.purchase_count)


_ADD_TO_COUNTS = Upsert(_add_to_counts)


def summaries(session: Session, customer_id: int) -> dict[str, Summary]:
    """The customer's stored summaries by currency, in one statement.

    Read them only while holding the customer's lock (see ``erp_crm.purchases``), and in
    a statement after the one that took it: a statement that waited for the lock reads
    what was committed before it waited.
    """
    return {row.currency: Summary(row.id, SpendFigures(row.purchase_count, row.total_spend,
                                                       row.first_purchase_at,
                                                       row.last_purchase_at),
                                  tuple(row.favourite_categories))
            for row in session.execute(_SUMMARIES, {"customer_id": customer_id})}


def add_purchase(session: Session, customer_id: int, summary: Summary | None,
                 amount: Decimal, currency: str, occurred_at: dt.datetime,
                 categories: Collection[str]) -> SpendFigures:
    """Add one new purchase to the customer's summary in its currency; return its figures.

    ``summary`` is the stored one in that currency (``None`` if they never bought in it),
    read under the customer's lock; ``categories`` are distinct. Two statements at most
    whatever the customer's history: the category tally, then the summary. The favourites
    can only change among the old three and this purchase's categories: a category in
    neither kept its count while the old three only grew, so it still ranks below them.
    The tally is bumped by one for this purchase's categories and by nothing for the old
    favourites, so that one statement returns every count the ranking needs.
    """
    before = summary.figures if summary is not None else NO_PURCHASES
    figures = SpendFigures(
        before.purchase_count + 1, before.total_spend + amount,
        min(before.first_purchase_at or occurred_at, occurred_at),
        max(before.last_purchase_at or occurred_at, occurred_at))
    favourites = list(summary.favourite_categories) if summary is not None else []
    if categories:
        bumps = dict.fromkeys(favourites, 0) | dict.fromkeys(categories, 1)
        counts = session.execute(_ADD_TO_COUNTS.on(session), [
            {"customer_id": customer_id, "currency": currency, "category": category,
             "purchase_count": bump} for category, bump in bumps.items()])
        favourites = _favourites({category: count for category, count in counts})
    values = {"purchase_count": figures.purchase_count, "total_spend": figures.total_spend,
              "average_spend": figures.average_spend,
              "first_purchase_at": figures.first_purchase_at,
              "last_purchase_at": figures.last_purchase_at,
              "favourite_categories": favourites, "updated_at": utcnow()}
    if summary is None:
        session.execute(_INSERT_SUMMARY, {"customer_id": customer_id, "currency": currency,
                                          **values})
    else:
        session.execute(_UPDATE_SUMMARY, {"row_id": summary.row_id,
                                          **{f"new_{k}": v for k, v in values.items()}})
    return figures


def spend_figures(session: Session, customer_ids: Collection[int]
                  ) -> dict[int, dict[str, SpendFigures]]:
    """The figures of each customer per currency, straight from the purchases."""
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

    The full path (see the module's docstring): it reads every purchase of these
    customers. A handful of statements whatever the number of customers: one aggregate
    query, one for categories, one for the existing rows, then batched updates, inserts
    and deletes (rows keep their ids while their customer keeps buying in that
    currency), and the category tallies deleted and written again.
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
                updates.append({"row_id": row_id, **{f"new_{k}": v for k, v in values.items()}})
    if updates:
        session.execute(_UPDATE_SUMMARY, updates)
    if inserts:
        session.execute(_INSERT_SUMMARY, inserts)
    if existing:
        session.execute(sa.delete(_BEHAVIOUR).where(_BEHAVIOUR.c.id.in_(existing.values())))
    session.execute(_DELETE_COUNTS, {"customer_ids": ids})
    tallies = [{"customer_id": customer_id, "currency": currency, "category": category,
                "purchase_count": count}
               for (customer_id, currency), counts in categories.items()
               for category, count in counts.items()]
    if tallies:
        session.execute(_INSERT_COUNTS, tallies)
    return figures
