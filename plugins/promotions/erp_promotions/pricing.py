"""The orders plugin's pricing hook, answered by the promotions.

``price_order`` is called in the transaction that writes an order: it evaluates the
automatic promotions and those the cart's coupon codes unlock, then takes what the chosen
ones use up (``erp_promotions.redemption.take``). When an automatic promotion's budget or
per-customer limit is used up by then, it is left out and the cart evaluated again; when
a coupon's is, the order is refused (409), since the customer asked for it. A draft
priced again first gives back what it took before. ``record_pricing`` then stores which
line each promotion discounted.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs
import sqlalchemy as sa

from erp_crm.customers import Customer
from erp_crm.segments import CustomerCriteria, Segment
from erp_orders.order import Order, OrderState
from erp_orders.pricing import Cart, GiftLine, Pricing
from erp_promotions.engine import Outcome, Shopper, evaluate
from erp_promotions.redemption import Application, Claim, Redemption, take
from erp_promotions.release import release_order
from erp_promotions.rules import Rule, automatic_rules, coupon_rules
from erp_sdk import ConflictError, Context, ValidationError, utcnow

NOT_COUNTED = (OrderState.CANCELLED, OrderState.MERGED)


def shopper_for(ctx: Context, cart: Cart, rules: Sequence[Rule]) -> Shopper:
    """The customer's facts that ``rules`` ask about, and only those."""
    tier = None
    if any(rule.customer_tiers for rule in rules):
        tier = ctx.session.scalar(sa.select(Customer.tier).where(
            Customer.id == cart.customer_id))
    wanted = sorted({sid for rule in rules for sid in rule.segment_ids})
    segments: set[int] = set()
    if wanted:
        fields = [field.name for field in attrs.fields(CustomerCriteria)]
        for row in ctx.session.execute(sa.select(Segment).where(Segment.id.in_(wanted))
                                       ).scalars():
            criteria = CustomerCriteria(**{name: getattr(row, name) for name in fields})
            member = ctx.session.scalar(criteria.members_statement(Customer.id).where(
                Customer.id == cart.customer_id))
            if member is not None:
                segments.add(row.id)
    first = False
    if any(rule.first_order for rule in rules):
        earlier = sa.select(Order.id).where(Order.customer_id == cart.customer_id,
                                            Order.state.not_in(NOT_COUNTED))
        if cart.order_id is not None:
            earlier = earlier.where(Order.id != cart.order_id)
        first = ctx.session.scalar(earlier.limit(1)) is None
    return Shopper(cart.customer_id, tier, frozenset(segments), first)


def candidate_rules(ctx: Context, cart: Cart) -> tuple[tuple[Rule, ...], tuple[str, ...]]:
    """The automatic rules and the rules the cart's codes unlock; the unknown codes."""
    found = coupon_rules(ctx, cart.coupon_codes)
    return (*automatic_rules(ctx), *found.rules), found.unknown


def evaluate_cart(ctx: Context, cart: Cart, refused: dict[int, str] | None = None
                  ) -> tuple[Outcome, tuple[str, ...]]:
    """The cart's outcome, as placing it evaluates it (nothing taken), and the codes that
    matched no coupon."""
    rules, unknown = candidate_rules(ctx, cart)
    return evaluate(cart, rules, shopper_for(ctx, cart, rules), refused=refused), unknown


def claim_for(outcome: Outcome, customer_id: int) -> Claim:
    campaigns: dict[int, Decimal] = {}
    for rule in outcome.applied:
        if rule.campaign_id is not None:
            campaigns[rule.campaign_id] = (campaigns.get(rule.campaign_id, Decimal(0))
                                           + outcome.amount_of(rule.id))
    return Claim(customer_id, campaigns,
                 tuple(sorted({r.coupon_id for r in outcome.applied if r.coupon_id})),
                 {r.id: r.per_customer_limit for r in outcome.applied
                  if r.per_customer_limit is not None})


@attrs.frozen
class Priced:
    """What ``price_order`` hands to ``record_pricing`` through ``Pricing.details``."""

    outcome: Outcome
    claim: Claim
    currency: str


def price_order(ctx: Context, cart: Cart) -> Pricing:
    rules, unknown = candidate_rules(ctx, cart)
    if unknown:
        raise ValidationError(f"unknown coupon code: {', '.join(unknown)}",
                              {"coupon_codes": f"unknown: {', '.join(unknown)}"})
    if cart.order_id is not None:
        release_order(ctx, cart.order_id, forget=True)
    shopper = shopper_for(ctx, cart, rules)
    refused: dict[int, str] = {}
    while True:
        outcome = evaluate(cart, rules, shopper, refused=refused)
        claim = claim_for(outcome, cart.customer_id)
        missing = take(ctx, claim)
        if missing is None:
            break
        culprits = _culprits(outcome.applied, missing.kind, missing.id)
        coupons = [rule for rule in culprits if rule.coupon_code]
        if coupons:
            raise ConflictError(f"coupon {coupons[0].coupon_code} can no longer be used: "
                                + _used_up(missing.kind))
        for rule in culprits:
            refused[rule.id] = _used_up(missing.kind)
    return Pricing(outcome.line_discounts, outcome.order_discount, outcome.shipping_discount,
                   tuple(GiftLine(product, quantity) for _, product, quantity in outcome.gifts),
                   Priced(outcome, claim, cart.currency))


def _culprits(applied: Sequence[Rule], kind: str, key: int) -> list[Rule]:
    if kind == "campaign":
        return [rule for rule in applied if rule.campaign_id == key]
    if kind == "coupon":
        return [rule for rule in applied if rule.coupon_id == key]
    return [rule for rule in applied if rule.id == key]


def _used_up(kind: str) -> str:
    return {"campaign": "its campaign's budget is used up",
            "coupon": "its code has been used as often as it may",
            "customer": "the customer has used it as often as they may"}[kind]


def record_pricing(ctx: Context, order_id: int, line_ids: Sequence[int],
                   pricing: Pricing) -> None:
    """Store the redemptions and per-line applications of an order just priced."""
    priced = pricing.details
    if not isinstance(priced, Priced):
        return
    outcome, claim = priced.outcome, priced.claim
    now = utcnow()
    if outcome.applied:
        ctx.session.execute(sa.insert(Redemption), [
            {"order_id": order_id, "promotion_id": rule.id, "coupon_id": rule.coupon_id,
             "campaign_id": rule.campaign_id, "customer_id": claim.customer_id,
             "currency": priced.currency, "amount": outcome.amount_of(rule.id),
             "returned_amount": Decimal(0), "customer_use": rule.id in claim.customer_limits,
             "redeemed_at": now, "released_at": None} for rule in outcome.applied])
    coupons = {rule.id: rule.coupon_id for rule in outcome.applied}
    rows = [{"order_id": order_id,
             "order_line_id": None if share.line is None else line_ids[share.line],
             "promotion_id": share.rule_id, "coupon_id": coupons.get(share.rule_id),
             "level": share.level, "amount": share.amount} for share in outcome.shares]
    rows += [{"order_id": order_id, "order_line_id": None, "promotion_id": rule_id,
              "coupon_id": coupons.get(rule_id), "level": "gift", "amount": Decimal(0)}
             for rule_id, _, _ in outcome.gifts]
    if rows:
        ctx.session.execute(sa.insert(Application), rows)
