"""Purchases: what customers bought, fed by whoever sells (the orders plugin, an import).

The CRM does not depend on orders: a selling plugin calls ``record_purchase`` when an
order completes and ``cancel_purchase`` when it is cancelled or refunded, inside its own
transaction. A purchase is identified by the seller's ``reference`` (an order number),
which makes both calls idempotent: recording a reference again replaces what was
recorded, and cancelling twice, or cancelling what was never recorded, changes nothing.
Each call brings the customer's behaviour summary and tier up to date in the same
transaction.

Recording a new reference for a customer that was not merged is what every completed
order does, so it costs a fixed handful of statements, whatever the customer's history:
one that locks the customer and reads, with it, their tier and merge, whether the
reference exists and the tier rules; the purchase (and its categories); the summaries,
read and then written with the purchase added (``erp_crm.behaviour.add_purchase``); and
the tier, evaluated from those figures and written only if it changed. Anything else
(the reference was recorded before, the customer was merged) takes the full path, which
rewrites the summaries from every purchase of the customers involved: it is rare.

Customers are locked in id order by everyone who writes summaries (merges, recomputes,
purchases), so that two of them never wait for each other. A purchase may involve three
kinds of customer: the one named, the customers it was merged into (the last of which
records the purchase) and the one that holds the reference. The first statement locks
all of them at once, in id order, following the merges as it reads them. If a merge or
a re-record of the reference commits between that statement's read and its locks, the
locks miss a customer that change added; locking it after the others could take a lower
id after a higher one and deadlock with a merge. Recording then raises
``TransientConflict`` instead, which runs the whole unit of work again (``Kernel.run``,
every HTTP request): a window of a few milliseconds in a path that is already rare.
Cancelling does the same when the purchase moved to another customer while it waited
for the lock of the one it read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_crm.behaviour import add_purchase, summaries
from erp_crm.customers import Customer
from erp_crm.purchase_records import Purchase, PurchaseCategory
from erp_crm.tiers import (
    CURRENCY,
    RULE_COLUMNS,
    RULES_BEST_FIRST,
    Thresholds,
    TierReason,
    TierRule,
    refresh_customers,
    rules_from_rows,
    settle_tier,
)
from erp_sdk import (
    Context,
    Entity,
    NotFoundError,
    TransientConflict,
    Upsert,
    ValidationError,
    utcnow,
)

_MONEY_QUANTUM = Decimal("0.0001")


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


_CUSTOMER = Customer.__table__
_PURCHASE = Purchase.__table__
_EARLIER_CUSTOMER = (sa.select(_PURCHASE.c.customer_id)
                     .where(_PURCHASE.c.reference == sa.bindparam("reference"))
                     .scalar_subquery())
# The customer and, following merged_into_id, every customer it was merged into (the
# last one is the survivor). UNION, not UNION ALL: it ends even on a cycle of merges,
# which merge_customers never makes.
_MERGED_INTO = _CUSTOMER.alias("merged_into")
_MERGE_CHAIN = (sa.select(_CUSTOMER.c.id, _CUSTOMER.c.merged_into_id)
                .where(_CUSTOMER.c.id == sa.bindparam("customer_id"))
                .cte("merge_chain", recursive=True))
_MERGE_CHAIN = _MERGE_CHAIN.union(
    sa.select(_MERGED_INTO.c.id, _MERGED_INTO.c.merged_into_id)
    .where(_MERGED_INTO.c.id == _MERGE_CHAIN.c.merged_into_id))
# The customer, each customer it was merged into and the customer that holds the
# reference, if others, locked once each in id order (as every other writer of summaries
# locks them; PostgreSQL locks above the sort) in a WITH part of their own: locking them
# in the joined rows below would visit each customer once per tier rule, and a row
# visited again while other transactions queue for it and hold key-share locks on it
# (inserting orders of that customer) deadlocks. FOR NO KEY UPDATE leaves those free.
# The merged_into_id of a row is read as it is once locked, even if a merge committed
# while this waited for the lock. Then one row per tier rule (at least one) for the
# customer, and one more for each of the others.
_LOCKED = (sa.select(_CUSTOMER.c.id, _CUSTOMER.c.merged_into_id, _CUSTOMER.c.tier)
           .where(sa.or_(_CUSTOMER.c.id.in_(sa.select(_MERGE_CHAIN.c.id)),
                         _CUSTOMER.c.id == _EARLIER_CUSTOMER))
           .order_by(_CUSTOMER.c.id)
           .with_for_update(key_share=True)
           .cte("locked_customers"))
_LOCK_FOR_RECORDING = (
    sa.select(_LOCKED.c.id, _LOCKED.c.merged_into_id, _LOCKED.c.tier,
              _PURCHASE.c.id.label("purchase_id"), *RULE_COLUMNS)
    .select_from(_LOCKED
                 .outerjoin(_PURCHASE, _PURCHASE.c.reference == sa.bindparam("reference"))
                 .outerjoin(TierRule.__table__, _LOCKED.c.id == sa.bindparam("customer_id")))
    .order_by(_LOCKED.c.id, RULES_BEST_FIRST))
# DO NOTHING: a transaction that waited for the customer's lock may have recorded the
# reference meanwhile; that is then a re-record (the full path), not an error.
_INSERT_NEW_PURCHASE = Upsert(
    lambda insert: insert(_PURCHASE)
    .on_conflict_do_nothing(index_elements=[_PURCHASE.c.reference])
    .returning(_PURCHASE.c.id))
_PURCHASE_FOR_UPDATE = (sa.select(_PURCHASE.c.id, _PURCHASE.c.customer_id)
                        .where(_PURCHASE.c.reference == sa.bindparam("reference"))
                        .with_for_update(key_share=True))
_LOCK_CUSTOMER = (sa.select(_CUSTOMER.c.id).where(_CUSTOMER.c.id == sa.bindparam("customer_id"))
                  .with_for_update(key_share=True))
_INSERT_CATEGORIES = sa.insert(PurchaseCategory.__table__)


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


def _survivor(merged_into: Mapping[int, int | None], customer_id: int) -> int | None:
    """The customer that now stands for ``customer_id``, following the merges of the
    customers in ``merged_into`` (id: the customer it was merged into, or ``None``);
    ``None`` when the merges lead to a customer not in it."""
    seen = set()
    while customer_id in merged_into:
        target = merged_into[customer_id]
        if target is None or customer_id in seen:
            return customer_id
        seen.add(customer_id)
        customer_id = target
    return None


def _tier(session: Session, customer_id: int) -> str | None:
    return session.scalar(sa.select(Customer.tier).where(Customer.id == customer_id))


def record_purchase(ctx: Context, customer_id: int, reference: str, amount: Decimal,
                    currency: str, occurred_at: dt.datetime, categories: Iterable[str] = ()
                    ) -> RecordedPurchase:
    """Record (or re-record) the purchase ``reference`` of a customer.

    The same reference recorded again replaces the amount, currency, time, categories
    and customer, and revives it if it was cancelled: a purchase is never counted twice.
    A customer merged into another records on the one that stayed. The customers
    involved get their summary and tier updated in this transaction and the event
    ``crm.purchase.recorded`` is written. Raises ``ValidationError`` for bad values and
    ``NotFoundError`` for an unknown customer. Checks no permission: the caller is a
    plugin acting on its own, already authorised, business.

    A new reference for a customer that was not merged adds the purchase to the stored
    summary (a constant number of statements); any other case rewrites the summaries
    from every purchase (see the module's docstring).
    """
    names = _checked(reference, amount, currency, occurred_at, categories)
    rows = ctx.session.execute(_LOCK_FOR_RECORDING,
                               {"customer_id": customer_id, "reference": reference}).all()
    mine = [row for row in rows if row.id == customer_id]
    if not mine:
        raise NotFoundError(f"crm.customer {customer_id} does not exist")
    if mine[0].merged_into_id is None and mine[0].purchase_id is None:
        recorded = _record_new(ctx, customer_id, mine[0].tier, rules_from_rows(mine), reference,
                               amount, currency, occurred_at, names)
        if recorded is not None:
            return recorded
    locked = {row.id: row.merged_into_id for row in rows}
    return _record_again(ctx, customer_id, locked, reference, amount, currency, occurred_at,
                         names)


def _record_new(ctx: Context, customer_id: int, tier: str | None, rules: list[Thresholds],
                reference: str, amount: Decimal, currency: str, occurred_at: dt.datetime,
                names: list[str]) -> RecordedPurchase | None:
    """The common case, under the customer's lock: insert the purchase and add it to the
    summary; ``None`` if the reference turned out to exist (left to the full path)."""
    session = ctx.session
    purchase_id = session.scalar(_INSERT_NEW_PURCHASE.on(session), {
        "reference": reference, "customer_id": customer_id, "amount": amount,
        "currency": currency, "occurred_at": occurred_at, "cancelled_at": None})
    if purchase_id is None:
        return None
    if names:
        session.execute(_INSERT_CATEGORIES,
                        [{"purchase_id": purchase_id, "category": n} for n in names])
    stored = summaries(session, customer_id)
    figures = {c: summary.figures for c, summary in stored.items()}
    figures[currency] = add_purchase(session, customer_id, stored.get(currency), amount,
                                     currency, occurred_at, names)
    tier = settle_tier(ctx, customer_id, tier, rules, figures, TierReason.PURCHASE)
    _announce(ctx, purchase_id, reference, customer_id, amount, currency, occurred_at, names)
    return RecordedPurchase(purchase_id, customer_id, False, tier)


def _announce(ctx: Context, purchase_id: int, reference: str, customer_id: int,
              amount: Decimal, currency: str, occurred_at: dt.datetime, names: list[str]
              ) -> None:
    ctx.emit("crm.purchase.recorded", "crm.purchase", purchase_id, {
        "reference": reference, "customer_id": customer_id, "amount": str(amount),
        "currency": currency, "occurred_at": occurred_at.isoformat(), "categories": names})


def _record_again(ctx: Context, customer_id: int, locked: dict[int, int | None],
                  reference: str, amount: Decimal, currency: str, occurred_at: dt.datetime,
                  names: list[str]) -> RecordedPurchase:
    """The full path: a reference recorded before, or a merged customer; rewrites the
    summaries and tiers of the customers involved from all their purchases.

    ``locked`` are the customers ``_LOCK_FOR_RECORDING`` locked, each with the customer
    it was merged into. They are enough unless a merge or another record of the
    reference committed after that statement read them: then this raises
    ``TransientConflict`` (see the module's docstring).
    """
    session = ctx.session
    while True:
        survivor = _survivor(locked, customer_id)
        earlier = session.execute(_PURCHASE_FOR_UPDATE, {"reference": reference}).first()
        if survivor is None or (earlier is not None and earlier.customer_id not in locked):
            raise TransientConflict(
                f"crm.customer {customer_id} or the purchase {reference!r} moved to another"
                " customer while this transaction waited for their locks; run it again")
        values = {"customer_id": survivor, "amount": amount, "currency": currency,
                  "occurred_at": occurred_at, "cancelled_at": None}
        if earlier is None:
            purchase_id = session.scalar(_INSERT_NEW_PURCHASE.on(session),
                                         {"reference": reference, **values})
            if purchase_id is None:  # recorded meanwhile by another transaction
                continue
            involved = {survivor}
        else:
            purchase_id = earlier.id
            session.execute(sa.update(Purchase).where(Purchase.id == purchase_id).values(values))
            session.execute(sa.delete(PurchaseCategory)
                            .where(PurchaseCategory.purchase_id == purchase_id))
            involved = {survivor, earlier.customer_id}
        break
    if names:
        session.execute(sa.insert(PurchaseCategory),
                        [{"purchase_id": purchase_id, "category": n} for n in names])
    refresh_customers(ctx, involved, TierReason.PURCHASE)
    customer_id = survivor
    _announce(ctx, purchase_id, reference, customer_id, amount, currency, occurred_at, names)
    return RecordedPurchase(purchase_id, customer_id, False, _tier(session, customer_id))


def cancel_purchase(ctx: Context, reference: str) -> RecordedPurchase | None:
    """Cancel the purchase ``reference``: it stays on record but no longer counts.

    Returns ``None`` when nothing was recorded under that reference (an order cancelled
    before it completed). Cancelling twice changes nothing the second time. Otherwise the
    customer's summary and tier are rewritten from all their purchases (the full path:
    cancellations are rare) in this transaction and the event ``crm.purchase.cancelled``
    is written. Checks no permission (see ``record_purchase``).
    """
    session = ctx.session
    found = session.execute(sa.select(Purchase.id, Purchase.customer_id)
                            .where(Purchase.reference == reference)).first()
    if found is None:
        return None
    # Lock its customer, then check the purchase is still theirs: a re-record or a merge
    # may have moved it while this waited for the lock.
    session.execute(_LOCK_CUSTOMER, {"customer_id": found.customer_id})
    holder = session.execute(_PURCHASE_FOR_UPDATE, {"reference": reference}).one()
    if holder.customer_id != found.customer_id:
        raise TransientConflict(
            f"the purchase {reference!r} moved to another customer while this transaction"
            " waited for its customer's lock; run it again")
    purchase_id, customer_id = found
    cancelled = session.execute(
        sa.update(Purchase).where(Purchase.id == purchase_id, Purchase.cancelled_at.is_(None))
        .values(cancelled_at=utcnow())).rowcount
    if cancelled:
        refresh_customers(ctx, {customer_id}, TierReason.CANCELLATION)
        ctx.emit("crm.purchase.cancelled", "crm.purchase", purchase_id,
                 {"reference": reference, "customer_id": customer_id})
    return RecordedPurchase(purchase_id, customer_id, True, _tier(session, customer_id))
