"""Customer tiers from recency, frequency and monetary value (RFM).

The seller configures the tiers as ``crm.tier_rule`` records: a name, a rank (higher is
better) and three thresholds in one currency: bought within ``max_recency_days`` (none:
any time), at least ``min_frequency`` purchases, at least ``min_monetary`` spent. A
customer's tier is the best-ranked rule all of whose thresholds their figures in that
currency meet, or none. Boundaries are inclusive: a purchase exactly
``max_recency_days`` days ago still counts, and so does a total exactly equal to
``min_monetary``.

A tier is recomputed for one customer whenever their purchases change, and for every
customer by ``erp crm recompute-tiers`` (recency decays with time alone, so run it
daily). Every change of tier is kept in ``crm.tier_change`` and announced as the event
``crm.customer.tier_changed``.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_crm.behaviour import NO_PURCHASES, SpendFigures, refresh_behaviour
from erp_crm.customers import Customer
from erp_sdk import (
    Base,
    Context,
    Entity,
    Job,
    Kernel,
    Money,
    RecordMixin,
    UtcDateTime,
    ValidationError,
    WriteEvent,
    on_write,
    utcnow,
)

CURRENCY = re.compile(r"^[A-Z]{3}$")


class TierReason(enum.StrEnum):
    """Why a customer's tier was recomputed."""

    PURCHASE = "purchase"
    CANCELLATION = "cancellation"
    MERGE = "merge"
    RECOMPUTE = "recompute"


class TierRule(RecordMixin, Base):
    __tablename__ = "crm_tier_rule"

    name: Mapped[str] = mapped_column(sa.String(40), unique=True)
    rank: Mapped[int] = mapped_column(unique=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    max_recency_days: Mapped[int | None]
    min_frequency: Mapped[int] = mapped_column(default=0)
    min_monetary: Mapped[Money] = mapped_column(default=Decimal(0))


class TierChange(Base):
    __tablename__ = "crm_tier_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_customer.id", ondelete="CASCADE"), index=True)
    old_tier: Mapped[str | None] = mapped_column(sa.String(40))
    new_tier: Mapped[str | None] = mapped_column(sa.String(40))
    reason: Mapped[str] = mapped_column(sa.String(20))
    changed_at: Mapped[UtcDateTime]


TIER_RULE = Entity(
    "tier_rule", TierRule, filterable=["name", "currency"], sortable=["rank", "name"],
    description="A customer tier and its RFM thresholds; the best-ranked rule a customer"
                " meets is their tier. Run `erp crm recompute-tiers` after changing rules.",
)

TIER_CHANGE = Entity(
    "tier_change", TierChange, filterable=["customer_id", "new_tier", "reason", "changed_at"],
    sortable=["changed_at"], operations={"list", "get"},
    description="One change of a customer's tier: from, to, when and why.",
)


@on_write("crm.tier_rule", actions=("create", "update"), when="before")
def check_tier_rule(ctx: Context, event: WriteEvent) -> None:
    """Thresholds are never negative and the currency is an ISO 4217 code."""
    errors = {}
    changes = event.changes
    if "currency" in changes and not CURRENCY.match(changes["currency"]):
        errors["currency"] = "must be an ISO 4217 code such as EUR"
    for field in ("max_recency_days", "min_frequency", "min_monetary"):
        if changes.get(field) is not None and changes[field] < 0:
            errors[field] = "may not be negative"
    if errors:
        summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
        raise ValidationError(f"invalid crm.tier_rule: {summary}", errors)


@attrs.frozen
class Thresholds:
    """One tier rule as the evaluation needs it."""

    name: str
    rank: int
    currency: str
    max_recency_days: int | None
    min_frequency: int
    min_monetary: Decimal

    def met_by(self, figures: SpendFigures, as_of: dt.datetime) -> bool:
        if figures.purchase_count < self.min_frequency or figures.total_spend < self.min_monetary:
            return False
        if self.max_recency_days is None:
            return True
        return (figures.last_purchase_at is not None
                and figures.last_purchase_at >= as_of - dt.timedelta(days=self.max_recency_days))


_RULE = TierRule.__table__
RULE_COLUMNS = (_RULE.c.name, _RULE.c.rank, _RULE.c.currency, _RULE.c.max_recency_days,
                _RULE.c.min_frequency, _RULE.c.min_monetary)
"""What ``rules_from_rows`` needs of a rule, for statements that read the rules along with
something else (``erp_crm.purchases`` reads them with the customer it locks)."""
RULES_BEST_FIRST = _RULE.c.rank.desc()
_RULES = sa.select(*RULE_COLUMNS).order_by(RULES_BEST_FIRST)


def rules_from_rows(rows: Iterable[sa.Row[Any]]) -> list[Thresholds]:
    """Rules from rows holding ``RULE_COLUMNS`` (best first already); rows of an outer
    join that found no rule are skipped."""
    return [Thresholds(r.name, r.rank, r.currency, r.max_recency_days, r.min_frequency,
                       r.min_monetary) for r in rows if r.name is not None]


def load_rules(session: Session) -> list[Thresholds]:
    """The tier rules, best first."""
    return rules_from_rows(session.execute(_RULES))


def tier_for(rules: Sequence[Thresholds], figures: Mapping[str, SpendFigures],
             as_of: dt.datetime) -> str | None:
    """The name of the best rule (``rules`` best first) the figures meet, or ``None``."""
    for rule in rules:
        if rule.met_by(figures.get(rule.currency, NO_PURCHASES), as_of):
            return rule.name
    return None


@attrs.frozen
class TierChanged:
    customer_id: int
    old_tier: str | None
    new_tier: str | None


def refresh_customers(ctx: Context, customer_ids: Collection[int], reason: TierReason,
                      as_of: dt.datetime | None = None) -> list[TierChanged]:
    """Rewrite these customers' behaviour summaries and tiers from their purchases.

    Runs in the caller's transaction with a constant number of statements per call plus
    one event per changed tier; returns the changes.
    """
    if not customer_ids:
        return []
    as_of = as_of or utcnow()
    figures = refresh_behaviour(ctx.session, customer_ids)
    rules = load_rules(ctx.session)
    current = dict(ctx.session.execute(
        sa.select(Customer.id, Customer.tier).where(Customer.id.in_(customer_ids))).all())
    changes = []
    for customer_id, old_tier in sorted(current.items()):
        new_tier = tier_for(rules, figures.get(customer_id, {}), as_of)
        if new_tier != old_tier:
            changes.append(TierChanged(customer_id, old_tier, new_tier))
    record_tier_changes(ctx, changes, reason)
    return changes


def settle_tier(ctx: Context, customer_id: int, old_tier: str | None,
                rules: Sequence[Thresholds], figures: Mapping[str, SpendFigures],
                reason: TierReason, as_of: dt.datetime | None = None) -> str | None:
    """Give one customer the tier their figures earn now, from what the caller already
    holds (no statement unless the tier changes); return it.

    ``old_tier`` is the customer's stored tier, read under their lock.
    """
    new_tier = tier_for(rules, figures, as_of or utcnow())
    if new_tier != old_tier:
        record_tier_changes(ctx, [TierChanged(customer_id, old_tier, new_tier)], reason)
    return new_tier


def record_tier_changes(ctx: Context, changes: Sequence[TierChanged], reason: TierReason) -> None:
    """Set the new tiers, keep the history and announce each change."""
    if not changes:
        return
    now = utcnow()
    by_tier: dict[str | None, list[int]] = defaultdict(list)
    for change in changes:
        by_tier[change.new_tier].append(change.customer_id)
    for tier, ids in by_tier.items():
        ctx.session.execute(sa.update(Customer).where(Customer.id.in_(ids)).values(
            tier=tier, version=Customer.version + 1, updated_at=now))
    ctx.session.execute(sa.insert(TierChange), [
        {"customer_id": c.customer_id, "old_tier": c.old_tier, "new_tier": c.new_tier,
         "reason": reason, "changed_at": now} for c in changes])
    for change in changes:
        ctx.emit("crm.customer.tier_changed", "crm.customer", change.customer_id, {
            "customer_id": change.customer_id, "old_tier": change.old_tier,
            "new_tier": change.new_tier, "reason": str(reason), "changed_at": now.isoformat()})


_LOCK_CUSTOMERS = (sa.select(Customer.id)
                   .where(Customer.id.in_(sa.bindparam("customer_ids", expanding=True)))
                   .order_by(Customer.id).with_for_update(key_share=True))


def customers_to_recompute(session: Session) -> list[int]:
    """Every customer that was not merged away, by id."""
    return list(session.scalars(sa.select(Customer.id).where(Customer.merged_into_id.is_(None))
                                .order_by(Customer.id)))


def recompute_tiers(ctx: Context, customer_ids: Collection[int] | None = None,
                    as_of: dt.datetime | None = None) -> list[TierChanged]:
    """Recompute the summaries and tiers of these customers (default: all) as of a time.

    Needs ``crm.tier.recompute``. ``erp crm recompute-tiers`` calls it one batch of
    customers per transaction. Locks the customers first, in id order like every other
    writer of summaries: a purchase recorded meanwhile then either is in what this
    counts or is added to what this wrote, never lost (``erp_crm.purchases`` adds new
    purchases to the stored summary rather than recounting).
    """
    ctx.principal.require("crm.tier.recompute")
    ids = customers_to_recompute(ctx.session) if customer_ids is None else customer_ids
    if ids:
        ctx.session.execute(_LOCK_CUSTOMERS, {"customer_ids": sorted(set(ids))})
    return refresh_customers(ctx, ids, TierReason.RECOMPUTE, as_of)


def recompute_every_tier(kernel: Kernel, as_of: dt.datetime | None = None,
                         batch_size: int = 500,
                         on_batch: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Recompute every customer's summary and tier, one batch of customers per
    transaction, each run again after a transient conflict (a deadlock with concurrent
    purchases): an interrupted run keeps the batches it finished. Recency decays with
    time alone, hence the daily job ``crm.recompute_tiers``. ``on_batch(n)`` hears of
    each finished batch. Returns ``(customers, tier changes)``."""
    with kernel.transaction() as session:
        ids = customers_to_recompute(session)
    changed = 0
    for start in range(0, len(ids), batch_size):
        batch = ids[start:start + batch_size]
        changed += len(kernel.run(
            lambda ctx, batch=batch: recompute_tiers(ctx, batch, as_of)))
        if on_batch is not None:
            on_batch(len(batch))
    return len(ids), changed


def recompute_tiers_job(kernel: Kernel) -> str:
    customers, changed = recompute_every_tier(kernel)
    return f"{customers} customers recomputed, {changed} tier changes"


TIER_JOBS = [Job("recompute_tiers", recompute_tiers_job, cron="30 2 * * *",
                 description="Recompute every customer's tier (recency decays daily).")]
