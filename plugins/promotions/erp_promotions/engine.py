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
from fractions import Fraction
from typing import NamedTuple

import attrs

from erp_orders.pricing import Cart
from erp_promotions.allocation import ZERO, minor_unit, round_money
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


class Share(NamedTuple):
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
    applied: tuple[Rule, ...]
    verdicts: tuple[Verdict, ...]
    amounts: Mapping[int, Decimal] = attrs.field(factory=dict)
    unit: Decimal = Decimal("0.01")
    taken: tuple[tuple[int, int | None, str, int | Decimal], ...] = ()

    @property
    def shares(self) -> tuple[Share, ...]:
        """Each rule's share of each line (and of shipping), in the order taken; made
        when asked, since pricing alone needs only the sums."""
        unit = self.unit
        return tuple(Share(rule_id, line, level, amount if line is None else unit * amount)
                     for rule_id, line, level, amount in self.taken)

    @property
    def discount(self) -> Decimal:
        return sum(self.line_discounts, ZERO) + self.shipping_discount

    def amount_of(self, rule_id: int) -> Decimal:
        return self.amounts.get(rule_id, ZERO)


class LineIndex:
    """Which cart lines hold a product or a category, and each rule's lines, worked out
    once per cart (conditions and every option ask for them again)."""

    def __init__(self, cart: Cart) -> None:
        self.all = list(range(len(cart.lines)))
        self.by_product: dict[int, list[int]] = {}
        self.by_category: dict[int | None, list[int]] = {}
        for i, line in enumerate(cart.lines):
            self.by_product.setdefault(line.product_id, []).append(i)
            self.by_category.setdefault(line.category_id, []).append(i)
        self.known: dict[int, list[int]] = {}

    def lines_of(self, rule: Rule) -> list[int]:
        if not rule.selects_lines:
            return self.all
        found = self.known.get(rule.id)
        if found is None:
            chosen: set[int] = set()
            for product in rule.product_ids:
                chosen.update(self.by_product.get(product, ()))
            for category in rule.category_ids:
                chosen.update(self.by_category.get(category, ()))
            found = self.known[rule.id] = sorted(chosen)
        return found


def _eligible(rule: Rule, cart: Cart, index: LineIndex | None = None) -> list[int]:
    return (index or LineIndex(cart)).lines_of(rule)


def why_not(rule: Rule, cart: Cart, shopper: Shopper, *, drafts: bool = False,
            bases: Sequence[Decimal] | None = None, index: LineIndex | None = None
            ) -> str | None:
    """Why ``rule`` does not apply to the cart, or ``None`` when its conditions hold
    (``bases``: the lines' bases, when the caller has them already)."""
    if rule.status != PromotionStatus.ACTIVE and not (drafts and rule.status == "draft"):
        return f"the promotion is {rule.status}"
    if rule.campaign_currency and rule.campaign_currency != cart.currency:
        return f"its campaign is in {rule.campaign_currency}, the order in {cart.currency}"
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
    eligible = _eligible(rule, cart, index)
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


PERCENT = 10_000  # percentages and quantities are held in ten-thousandths (4 decimals)


def _half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


class _Running:
    """What the lines and the shipping still cost while an option is applied. Line
    amounts are whole minor units (integers: exact and quick); shipping, which may have
    sub-cent decimals, stays a ``Decimal``."""

    def __init__(self, cart: Cart, unit: Decimal, bases: Sequence[Decimal],
                 index: LineIndex) -> None:
        self.cart = cart
        self.index = index
        self.unit = unit
        self.per_unit = int(1 / unit)
        self.left = [int(base / unit) for base in bases]
        self.quantities = [int(line.quantity * PERCENT) for line in cart.lines]
        self.shipping_left = cart.shipping_amount
        self.taken: list[tuple[int, int | None, str, int | Decimal]] = []
        self.by_rule: dict[int, int] = {}
        self.shipping_by_rule: dict[int, Decimal] = {}
        self.gifts: list[tuple[int, int, Decimal]] = []

    def to_minor(self, amount: Decimal) -> int:
        """An amount (at most 4 decimals) in minor units, rounded half up."""
        return _half_up(int(amount * PERCENT) * self.per_unit, PERCENT)

    def take(self, rule: Rule, line: int, amount: int, level: str) -> None:
        amount = min(amount, self.left[line])
        if amount > 0:
            self.left[line] -= amount
            self.taken.append((rule.id, line, level, amount))
            self.by_rule[rule.id] = self.by_rule.get(rule.id, 0) + amount

    def take_shipping(self, rule: Rule, amount: Decimal) -> None:
        amount = min(amount, self.shipping_left)
        if amount > 0:
            self.shipping_left -= amount
            self.taken.append((rule.id, None, "shipping", amount))
            self.shipping_by_rule[rule.id] = self.shipping_by_rule.get(rule.id, ZERO) + amount

    def spread(self, rule: Rule, lines: Sequence[int], amount: int, level: str) -> None:
        """``amount`` minor units over ``lines`` by largest remainder on what they cost."""
        weights = [self.left[i] for i in lines]
        total = sum(weights)
        amount = min(amount, total)
        if amount <= 0:
            return
        shares, remainders = [], []
        for weight in weights:
            share, remainder = divmod(amount * weight, total)
            shares.append(share)
            remainders.append(remainder)
        spare = amount - sum(shares)
        if spare:
            for position in sorted(range(len(lines)), key=lambda k: (-remainders[k], k))[:spare]:
                shares[position] += 1
        for index, share in zip(lines, shares, strict=True):
            self.take(rule, index, share, level)

    def unit_price_left(self, line: int) -> Fraction:
        """What one unit of the line still costs, in minor units (exact)."""
        return Fraction(self.left[line] * PERCENT, self.quantities[line] or 1)

    def discount(self, rule_id: int) -> Decimal:
        return self.unit * self.by_rule.get(rule_id, 0) + self.shipping_by_rule.get(rule_id, ZERO)


def _apply(rule: Rule, run: _Running, cart: Cart) -> None:
    eligible = run.index.lines_of(rule)
    pct = int((rule.percentage if rule.percentage is not None else ONE) * PERCENT)
    action = rule.action
    if action == Action.FREE_SHIPPING:
        run.take_shipping(rule, round_money(run.shipping_left * pct / PERCENT, run.unit))
        return
    if action == Action.GIFT:
        if rule.gift_product_id and rule.gift_quantity:
            run.gifts.append((rule.id, rule.gift_product_id, rule.gift_quantity))
        return
    amount = int((rule.amount or ZERO) * PERCENT)  # in ten-thousandths of the currency
    per_unit = run.per_unit
    if rule.phase == 1:
        total = sum(run.left[i] for i in eligible)
        run.spread(rule, eligible, total * pct // PERCENT if action == Action.PERCENTAGE_OFF
                   else amount * per_unit // PERCENT, "order")
        return
    if action == Action.FIXED_PRICE:
        for i in eligible:
            price = _half_up(amount * run.quantities[i] * per_unit, PERCENT * PERCENT)
            run.take(rule, i, run.left[i] - price, "item")
        return
    if action == Action.BUY_X_GET_Y:
        _buy_x_get_y(rule, run, cart, eligible, pct)
        return
    if rule.allocation == Allocation.ONCE:
        top = max(eligible, key=lambda i: (run.unit_price_left(i), -i))
        units = min(PERCENT, run.quantities[top])  # one unit, or less of a fraction
        one_unit = run.unit_price_left(top) * units / PERCENT
        if action == Action.PERCENTAGE_OFF:
            run.take(rule, top, _half_up(one_unit.numerator * pct,
                                         one_unit.denominator * PERCENT), "item")
        else:
            run.take(rule, top, min(run.to_minor(rule.amount or ZERO), int(one_unit)), "item")
        return
    if action == Action.PERCENTAGE_OFF:
        if rule.allocation == Allocation.ACROSS:
            total = sum(run.left[i] for i in eligible)
            run.spread(rule, eligible, total * pct // PERCENT, "item")
        else:
            for i in eligible:
                run.take(rule, i, _half_up(run.left[i] * pct, PERCENT), "item")
        return
    if rule.allocation == Allocation.ACROSS:
        run.spread(rule, eligible, amount * per_unit // PERCENT, "item")
    else:
        for i in eligible:
            run.take(rule, i, _half_up(amount * run.quantities[i] * per_unit, PERCENT * PERCENT),
                     "item")


def _buy_x_get_y(rule: Rule, run: _Running, cart: Cart, eligible: list[int],
                 pct: int) -> None:
    buy, get = rule.buy_quantity or 1, rule.get_quantity or 1
    units = sum((int(cart.lines[i].quantity) for i in eligible), 0)
    if rule.get_product_id is None:
        groups = units // (buy + get)
        targets = sorted(eligible, key=lambda i: (run.unit_price_left(i), i))  # cheapest first
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
        # count units of what is left per unit, times the percentage, half up
        run.take(rule, i, _half_up(run.left[i] * count * PERCENT * pct,
                                   (run.quantities[i] or 1) * PERCENT), "item")


def _order_key(rule: Rule) -> tuple[int, int, int]:
    return (rule.phase, -rule.priority, rule.id)


def run_option(rules: Sequence[Rule], cart: Cart, bases: Sequence[Decimal] | None = None,
               index: LineIndex | None = None) -> _Running:
    if bases is None:
        bases = [line.base for line in cart.lines]
    run = _Running(cart, minor_unit(cart.currency), bases, index or LineIndex(cart))
    for rule in sorted(rules, key=_order_key):
        _apply(rule, run, cart)
    return run


def option_worth(run: _Running, rules: Sequence[Rule]) -> Decimal:
    gift_values = {rule.id: rule.gift_value for rule in rules}
    return (run.unit * sum(run.by_rule.values()) + sum(run.shipping_by_rule.values(), ZERO)
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
    index = LineIndex(cart)
    for rule in rules:
        if rule.id in seen:
            continue
        seen.add(rule.id)
        reason = refused.get(rule.id) or why_not(rule, cart, shopper, drafts=drafts,
                                                 bases=bases, index=index)
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
        run = run_option(option, cart, bases, index)
        key = option_key(option, option_worth(run, option))
        if best is None or key > best[0]:
            best = (key, option, run)
    chosen: tuple[Rule, ...] = best[1] if best else ()
    run = best[2] if best else _Running(cart, minor_unit(cart.currency), bases, index)
    chosen_ids = {rule.id for rule in chosen}
    blocker = next((rule for rule in chosen if rule.exclusive), None)
    for rule in applicable:
        if rule.id in chosen_ids:
            amount = run.discount(rule.id)
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
    per_line = [0] * len(cart.lines)
    order_level = 0
    shipping = ZERO
    for _, line, level, amount in run.taken:
        if line is None:
            shipping += amount
        else:
            per_line[line] += amount
            if level == "order":
                order_level += amount
    unit = run.unit
    applied = tuple(rule for rule in chosen if verdicts[rule.id].applied)
    return Outcome(tuple(unit * amount for amount in per_line), unit * order_level, shipping,
                   tuple(run.gifts), applied, tuple(verdicts[key] for key in sorted(verdicts)),
                   {rule.id: run.discount(rule.id) for rule in applied}, unit, tuple(run.taken))
