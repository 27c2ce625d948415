"""Promotions as the engine reads them: frozen values, loaded once and kept by the process.

The automatic promotions that are active are few next to the coupon ones (200 of 10,000
in the benchmark): they are selected by the ``(automatic, status)`` index and kept with
``ctx.cached`` until a promotion changes; coupon promotions are loaded by the codes a
cart brings. Budgets and uses are never kept: they are taken by conditional updates.
A rule carries its campaign's currency, which never changes once the campaign exists
(``erp_promotions.checks``): so the campaigns, whose budget columns every order writes,
are not among the tables the cache watches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa

from erp_inventory.catalogue import Product
from erp_promotions.coupon import Coupon, normalise_code
from erp_promotions.promotion import Action, Campaign, Promotion, PromotionStatus, Target
from erp_sdk import Context

ZERO = Decimal(0)
PERCENT = 10_000  # percentages, amounts and quantities in ten-thousandths (4 decimals)


def _ids(values: Iterable[Any] | None) -> frozenset[Any]:
    return frozenset(values or ())


@attrs.frozen
class Rule:
    """One promotion, with its conditions as sets for quick tests."""

    id: int
    name: str
    status: str
    automatic: bool
    priority: int
    exclusive: bool
    campaign_id: int | None
    action: str
    target: str
    allocation: str
    percentage: Decimal | None
    amount: Decimal | None
    buy_quantity: int | None
    get_quantity: int | None
    get_product_id: int | None
    gift_product_id: int | None
    gift_quantity: Decimal | None
    gift_value: Decimal
    channel_ids: frozenset[int]
    customer_tiers: frozenset[str]
    segment_ids: frozenset[int]
    product_ids: frozenset[int]
    category_ids: frozenset[int]
    min_subtotal: Decimal | None
    min_quantity: Decimal | None
    first_order: bool
    starts_on: dt.date | None
    ends_on: dt.date | None
    timezone: str
    per_customer_limit: int | None
    coupon_id: int | None = None
    coupon_code: str | None = None
    campaign_currency: str | None = None  # its amounts and budget are in it

    # Worked out once, when the rule is built (the cache keeps automatic rules built):
    # every evaluation of a cart reads them for each rule of each option it tries.
    phase: int = attrs.field(init=False, eq=False, repr=False)
    application_order: tuple[int, int, int] = attrs.field(init=False, eq=False, repr=False)
    percent: int = attrs.field(init=False, eq=False, repr=False)
    amount_units: int = attrs.field(init=False, eq=False, repr=False)

    @phase.default
    def _phase(self) -> int:
        """Item discounts come first, then order ones, then shipping, then gifts."""
        if self.action == Action.FREE_SHIPPING:
            return 2
        if self.action == Action.GIFT:
            return 3
        if self.action in (Action.PERCENTAGE_OFF, Action.AMOUNT_OFF) \
                and self.target == Target.ORDER:
            return 1
        return 0

    @application_order.default
    def _application_order(self) -> tuple[int, int, int]:
        """Within an option: by phase, then the highest priority, then the lowest id."""
        return (self.phase, -self.priority, self.id)

    @percent.default
    def _percent(self) -> int:
        """The percentage in ten-thousandths (all of it when the rule gives none)."""
        return int((self.percentage if self.percentage is not None else 1) * PERCENT)

    @amount_units.default
    def _amount_units(self) -> int:
        """The amount in ten-thousandths of the currency."""
        return int((self.amount or ZERO) * PERCENT)

    @property
    def selects_lines(self) -> bool:
        return bool(self.product_ids or self.category_ids)


_COLUMNS = (Promotion.id, Promotion.name, Promotion.status, Promotion.automatic,
            Promotion.priority, Promotion.exclusive, Promotion.campaign_id, Promotion.action,
            Promotion.target, Promotion.allocation, Promotion.percentage, Promotion.amount,
            Promotion.buy_quantity, Promotion.get_quantity, Promotion.get_product_id,
            Promotion.gift_product_id, Promotion.gift_quantity,
            sa.func.coalesce(Product.list_price, ZERO).label("gift_price"),
            Promotion.channel_ids, Promotion.customer_tiers, Promotion.segment_ids,
            Promotion.product_ids, Promotion.category_ids, Promotion.min_subtotal,
            Promotion.min_quantity, Promotion.first_order, Promotion.starts_on,
            Promotion.ends_on, Promotion.timezone, Promotion.per_customer_limit,
            Campaign.currency.label("campaign_currency"))


def _with_gift_and_campaign(statement: sa.Select) -> sa.Select:
    return statement.outerjoin(Product, Product.id == Promotion.gift_product_id).outerjoin(
        Campaign, Campaign.id == Promotion.campaign_id)


_SELECT = _with_gift_and_campaign(sa.select(*_COLUMNS).select_from(Promotion))


def rule_from_row(row: Any, coupon_id: int | None = None, coupon_code: str | None = None
                  ) -> Rule:
    gift_value = (row.gift_price * (row.gift_quantity or 0)) if row.gift_product_id else ZERO
    return Rule(row.id, row.name, row.status, row.automatic, row.priority, row.exclusive,
                row.campaign_id, row.action, row.target, row.allocation, row.percentage,
                row.amount, row.buy_quantity, row.get_quantity, row.get_product_id,
                row.gift_product_id, row.gift_quantity, gift_value, _ids(row.channel_ids),
                _ids(row.customer_tiers), _ids(row.segment_ids), _ids(row.product_ids),
                _ids(row.category_ids), row.min_subtotal, row.min_quantity, row.first_order,
                row.starts_on, row.ends_on, row.timezone, row.per_customer_limit,
                coupon_id, coupon_code, row.campaign_currency)


def automatic_rules(ctx: Context) -> tuple[Rule, ...]:
    """Every active automatic promotion, kept by the process until one changes."""
    def load() -> tuple[Rule, ...]:
        rows = ctx.session.execute(_SELECT.where(
            Promotion.automatic.is_(True), Promotion.status == PromotionStatus.ACTIVE)
            .order_by(Promotion.id))
        return tuple(rule_from_row(row) for row in rows)

    return ctx.cached("promotions.automatic", ["promotions_promotion", "inventory_product"],
                      load)


@attrs.frozen
class CouponLookup:
    """The rules that a cart's codes unlock, and the codes that unlock nothing."""

    rules: tuple[Rule, ...]
    unknown: tuple[str, ...]


# Built once: every priced cart with a code runs it.
_BY_CODES = _with_gift_and_campaign(
    sa.select(*_COLUMNS, Coupon.id.label("coupon_id"), Coupon.code)
    .select_from(Coupon).join(Promotion, Promotion.id == Coupon.promotion_id)).where(
    Coupon.code.in_(sa.bindparam("codes", expanding=True)),
    Coupon.active.is_(True)).order_by(Coupon.id)


def coupon_rules(ctx: Context, codes: Sequence[str]) -> CouponLookup:
    wanted = sorted({normalise_code(code) for code in codes if code.strip()})
    if not wanted:
        return CouponLookup((), ())
    rows = ctx.session.execute(_BY_CODES, {"codes": wanted}).all()
    found = {row.code for row in rows}
    return CouponLookup(tuple(rule_from_row(row, row.coupon_id, row.code) for row in rows),
                        tuple(code for code in wanted if code not in found))


def rules_by_id(ctx: Context, promotion_ids: Sequence[int]) -> tuple[Rule, ...]:
    """Promotions in any status (a draft for a simulation)."""
    rows = ctx.session.execute(_SELECT.where(Promotion.id.in_(sorted(promotion_ids)))
                               .order_by(Promotion.id))
    return tuple(rule_from_row(row) for row in rows)
