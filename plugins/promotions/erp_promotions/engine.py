"""Deciding which promotions apply to a cart, and what each takes off which line.

1. **Conditions.** Each rule is checked against the cart and the shopper; a rule that
   fails says why (its ``reason``).
2. **Stacking.** The options are: every exclusive rule alone, and all the other rules
   together. The option chosen is the one whose highest priority is highest; among
   options of equal priority, the one worth most to the customer (discounts plus the list
   value of gifts); on a tie, the one with the lowest promotion ids. So an exclusive rule
   blocks every other, a higher priority wins whatever it is worth, and otherwise the
   customer gets the best result, the same one every time.
3. **Application.** Within the option, item discounts apply first, then order discounts,
   then shipping, each on what the lines (and shipping) still cost after the earlier
   ones; within a phase, by priority (highest first), then id. A percentage is taken of
   that discounted base, and no discount exceeds it, so no line goes below zero.
4. **Allocation.** Amounts are in the currency's minor unit; a discount spread over lines
   is split by largest remainder (``erp_promotions.allocation``), so the lines' shares
   add up to the discount exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import attrs

from erp_orders.pricing import Cart
from erp_promotions.allocation import (
    ZERO,
    floor_money,
    largest_remainder,
    minor_unit,
    round_money,
)
from erp_promotions.promotion import Action, Allocation, PromotionStatus
from erp_promotions.rules import Rule

ONE = Decimal(1)


@attrs.frozen
class Shopper:
    """What the conditions need to know about the customer."""

    customer_id: int
    tier: str | None = None
    segment_ids: frozenset[int] = frozenset()
    first_order: bool = False


@attrs.frozen
class Share:
    """What one rule took: ``line`` is the cart line's index, ``None`` for shipping."""

    rule_id: int
    line: int | None
    level: str
    amount: Decimal


@attrs.frozen
class Verdict:
    """Whether a rule applied, and if not, why."""

    rule: Rule
    applied: bool
    amount: Decimal = ZERO
    reason: str | None = None


@attrs.frozen
class Outcome:
    """The chosen result: per-line discounts, the shipping discount, gifts, each rule's
    shares, and a verdict for every rule considered."""

    line_discounts: tuple[Decimal, ...]
    order_discount: Decimal
    shipping_discount: Decimal
    gifts: tuple[tuple[int, int, Decimal], ...]  # (rule id, product id, quantity)
    shares: tuple[Share, ...]
    applied: tuple[Rule, ...]
    verdicts: tuple[Verdict, ...]
    amounts: Mapping[int, Decimal] = attrs.field(factory=dict)

    @property
    def discount(self) -> Decimal:
        return sum(self.line_discounts, ZERO) + self.shipping_discount

    def amount_of(self, rule_id: int) -> Decimal:
        return self.amounts.get(rule_id, ZERO)


def _eligible(rule: Rule, cart: Cart) -> list[int]:
    if not rule.selects_lines:
        return list(range(len(cart.lines)))
    return [i for i, line in enumerate(cart.lines)
            if line.product_id in rule.product_ids or line.category_id in rule.category_ids]


def why_not(rule: Rule, cart: Cart, shopper: Shopper, *, drafts: bool = False,
            bases: Sequence[Decimal] | None = None) -> str | None:
    """Why ``rule`` does not apply to the cart, or ``None`` when its conditions hold
    (``bases``: the lines' bases, when the caller has them already)."""
    if rule.status != PromotionStatus.ACTIVE and not (drafts and rule.status == "draft"):
        return f"the promotion is {rule.status}"
    if rule.starts_on or rule.ends_on:
        day = rule.local_date(cart.placed_at)
        if rule.starts_on and day < rule.starts_on:
            return f"it starts on {rule.starts_on} ({rule.timezone})"
        if rule.ends_on and day > rule.ends_on:
            return f"it ended on {rule.ends_on} ({rule.timezone})"
    if rule.channel_ids and cart.channel_id not in rule.channel_ids:
        return "not offered on this channel"
    if rule.customer_tiers and shopper.tier not in rule.customer_tiers:
        return f"for customers of tier {', '.join(sorted(rule.customer_tiers))} only"
    if rule.segment_ids and not rule.segment_ids & shopper.segment_ids:
        return "the customer is in none of its segments"
    if rule.first_order and not shopper.first_order:
        return "for a customer's first order only"
    eligible = _eligible(rule, cart)
    if not eligible:
        return "no line holds one of its products or categories"
    if rule.min_subtotal is not None:
        if bases is None:
            bases = [line.base for line in cart.lines]
        subtotal = sum((bases[i] for i in eligible), ZERO)
        if subtotal < rule.min_subtotal:
            return f"the subtotal {subtotal} is below {rule.min_subtotal}"
    if rule.min_quantity is not None:
        count = sum((cart.lines[i].quantity for i in eligible), ZERO)
        if count < rule.min_quantity:
            return f"the quantity {count:f} is below {rule.min_quantity:f}"
    if rule.action == Action.BUY_X_GET_Y:
        units = sum((int(cart.lines[i].quantity) for i in eligible), 0)
        wanted = (rule.buy_quantity or 0) + (rule.get_quantity or 0)
        if rule.get_product_id is None and units < wanted:
            return f"buy {rule.buy_quantity} get {rule.get_quantity}: not enough units"
        if rule.get_product_id is not None:
            if units < (rule.buy_quantity or 0):
                return f"buy {rule.buy_quantity}: not enough units"
            if not any(line.product_id == rule.get_product_id for line in cart.lines):
                return "the product it gives is not in the cart"
    if rule.action == Action.FREE_SHIPPING and cart.shipping_amount <= 0:
        return "the order has no shipping to take off"
    return None


class _Running:
    """What the lines and the shipping still cost while an option is applied."""

    def __init__(self, cart: Cart, unit: Decimal, bases: Sequence[Decimal]) -> None:
        self.cart = cart
        self.unit = unit
        self.left = list(bases)
        self.shipping_left = cart.shipping_amount
        self.shares: list[Share] = []
        self.by_rule: dict[int, Decimal] = {}
        self.gifts: list[tuple[int, int, Decimal]] = []

    def take(self, rule: Rule, line: int | None, amount: Decimal, level: str) -> None:
        amount = min(amount, self.shipping_left if line is None else self.left[line])
        if amount > 0:
            if line is None:
                self.shipping_left -= amount
            else:
                self.left[line] -= amount
            self.shares.append(Share(rule.id, line, level, amount))
            self.by_rule[rule.id] = self.by_rule.get(rule.id, ZERO) + amount

    def spread(self, rule: Rule, lines: Sequence[int], amount: Decimal, level: str) -> None:
        bases = [self.left[i] for i in lines]
        amount = min(floor_money(amount, self.unit), sum(bases, ZERO))
        for index, share in zip(lines, largest_remainder(amount, bases, self.unit),
                                strict=True):
            self.take(rule, index, share, level)

    def unit_left(self, line: int) -> Decimal:
        quantity = self.cart.lines[line].quantity
        return self.left[line] / quantity if quantity else ZERO


def _apply(rule: Rule, run: _Running, cart: Cart) -> None:
    eligible = _eligible(rule, cart)
    unit = run.unit
    pct = rule.percentage if rule.percentage is not None else ONE
    action = rule.action
    if action == Action.FREE_SHIPPING:
        run.take(rule, None, round_money(run.shipping_left * pct, unit), "shipping")
        return
    if action == Action.GIFT:
        if rule.gift_product_id and rule.gift_quantity:
            run.gifts.append((rule.id, rule.gift_product_id, rule.gift_quantity))
        return
    if rule.phase == 1:
        total = sum((run.left[i] for i in eligible), ZERO)
        amount = (floor_money(total * pct, unit) if action == Action.PERCENTAGE_OFF
                  else min(rule.amount or ZERO, total))
        run.spread(rule, eligible, amount, "order")
        return
    if action == Action.FIXED_PRICE:
        for i in eligible:
            price = round_money((rule.amount or ZERO) * cart.lines[i].quantity, unit)
            run.take(rule, i, max(ZERO, run.left[i] - price), "item")
        return
    if action == Action.BUY_X_GET_Y:
        _buy_x_get_y(rule, run, cart, eligible, pct)
        return
    if rule.allocation == Allocation.ONCE:
        top = max(eligible, key=lambda i: (run.unit_left(i), -i))
        one_unit = run.unit_left(top) * min(ONE, cart.lines[top].quantity)
        amount = (round_money(one_unit * pct, unit) if action == Action.PERCENTAGE_OFF
                  else min(rule.amount or ZERO, one_unit))
        run.take(rule, top, amount, "item")
        return
    if action == Action.PERCENTAGE_OFF:
        if rule.allocation == Allocation.ACROSS:
            total = sum((run.left[i] for i in eligible), ZERO)
            run.spread(rule, eligible, floor_money(total * pct, unit), "item")
        else:
            for i in eligible:
                run.take(rule, i, round_money(run.left[i] * pct, unit), "item")
        return
    if rule.allocation == Allocation.ACROSS:
        run.spread(rule, eligible, rule.amount or ZERO, "item")
    else:
        for i in eligible:
            run.take(rule, i, round_money((rule.amount or ZERO) * cart.lines[i].quantity, unit),
                     "item")


def _buy_x_get_y(rule: Rule, run: _Running, cart: Cart, eligible: list[int],
                 pct: Decimal) -> None:
    buy, get = rule.buy_quantity or 1, rule.get_quantity or 1
    units = sum((int(cart.lines[i].quantity) for i in eligible), 0)
    if rule.get_product_id is None:
        groups = units // (buy + get)
        targets = sorted(eligible, key=lambda i: (run.unit_left(i), i))  # cheapest first
    else:
        groups = units // buy
        targets = [i for i, line in enumerate(cart.lines) if line.product_id == rule.get_product_id]
    if rule.allocation == Allocation.ONCE:
        groups = min(groups, 1)
    free = groups * get
    for i in targets:
        if free <= 0:
            break
        count = min(free, int(cart.lines[i].quantity))
        free -= count
        run.take(rule, i, round_money(run.unit_left(i) * count * pct, run.unit), "item")


def _order_key(rule: Rule) -> tuple[int, int, int]:
    return (rule.phase, -rule.priority, rule.id)


def run_option(rules: Sequence[Rule], cart: Cart,
               bases: Sequence[Decimal] | None = None) -> _Running:
    if bases is None:
        bases = [line.base for line in cart.lines]
    run = _Running(cart, minor_unit(cart.currency), bases)
    for rule in sorted(rules, key=_order_key):
        _apply(rule, run, cart)
    return run


def option_worth(run: _Running, rules: Sequence[Rule]) -> Decimal:
    gift_values = {rule.id: rule.gift_value for rule in rules}
    return (sum(run.by_rule.values(), ZERO)
            + sum((gift_values.get(rule_id, ZERO) for rule_id, _, _ in run.gifts), ZERO))


def options(applicable: Sequence[Rule]) -> list[tuple[Rule, ...]]:
    """The combinations that may be chosen: each exclusive rule alone, the rest together."""
    found = [(rule,) for rule in applicable if rule.exclusive]
    stack = tuple(rule for rule in applicable if not rule.exclusive)
    if stack:
        found.append(stack)
    return found


def option_key(option: Sequence[Rule], worth: Decimal) -> tuple[int, Decimal, tuple[int, ...]]:
    """Greater is better: the highest priority, then the worth, then the lowest ids."""
    return (max(rule.priority for rule in option), worth,
            tuple(-rule_id for rule_id in sorted(rule.id for rule in option)))


def evaluate(cart: Cart, rules: Sequence[Rule], shopper: Shopper, *,
             refused: dict[int, str] | None = None, drafts: bool = False) -> Outcome:
    """The outcome of ``rules`` on ``cart`` for ``shopper``; ``refused`` names rules that
    may not apply whatever their conditions (a budget or a limit used up), with why."""
    refused = refused or {}
    verdicts: dict[int, Verdict] = {}
    applicable: list[Rule] = []
    seen: set[int] = set()
    bases = [line.base for line in cart.lines]
    for rule in rules:
        if rule.id in seen:
            continue
        seen.add(rule.id)
        reason = refused.get(rule.id) or why_not(rule, cart, shopper, drafts=drafts,
                                                 bases=bases)
        if reason:
            verdicts[rule.id] = Verdict(rule, False, reason=reason)
        else:
            applicable.append(rule)
    best: tuple[tuple[int, Decimal, tuple[int, ...]], tuple[Rule, ...], _Running] | None = None
    found = options(applicable)
    # A lower priority never wins: only the options of the highest one are worth running.
    top = max((max(rule.priority for rule in option) for option in found), default=0)
    for option in found:
        if max(rule.priority for rule in option) < top:
            continue
        run = run_option(option, cart, bases)
        key = option_key(option, option_worth(run, option))
        if best is None or key > best[0]:
            best = (key, option, run)
    chosen: tuple[Rule, ...] = best[1] if best else ()
    run = best[2] if best else _Running(cart, minor_unit(cart.currency), bases)
    chosen_ids = {rule.id for rule in chosen}
    blocker = next((rule for rule in chosen if rule.exclusive), None)
    for rule in applicable:
        if rule.id in chosen_ids:
            amount = run.by_rule.get(rule.id, ZERO)
            gave = amount > 0 or any(g[0] == rule.id for g in run.gifts)
            verdicts[rule.id] = Verdict(rule, gave, amount,
                                        None if gave else "nothing was left to discount")
        elif blocker is not None:
            verdicts[rule.id] = Verdict(rule, False, reason=(
                f"promotion {blocker.id} ({blocker.name}) is exclusive and was chosen"))
        else:
            verdicts[rule.id] = Verdict(rule, False, reason=(
                "it is exclusive and the other promotions together come first"
                " (higher priority or worth more to the customer)"))
    line_discounts = [ZERO] * len(cart.lines)
    order_discount = ZERO
    shipping = ZERO
    for share in run.shares:
        if share.line is None:
            shipping += share.amount
        else:
            line_discounts[share.line] += share.amount
            if share.level == "order":
                order_discount += share.amount
    applied = tuple(rule for rule in chosen if verdicts[rule.id].applied)
    return Outcome(tuple(line_discounts), order_discount, shipping, tuple(run.gifts),
                   tuple(run.shares), applied, tuple(verdicts[key] for key in sorted(verdicts)),
                   dict(run.by_rule))

