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

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from operator import attrgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

import attrs

from erp_orders.pricing import Cart
from erp_promotions.allocation import ZERO, minor_unit, round_money
from erp_promotions.promotion import Action, Allocation, PromotionStatus
from erp_promotions.rules import PERCENT, Rule


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
    """What the lines cost, which hold a product or a category, each rule's lines with
    their subtotal and whole units, and the cart's local date in each time zone, worked
    out once per cart (conditions and every option ask for them again)."""

    def __init__(self, cart: Cart) -> None:
        self.cart = cart
        self.bases = [line.base for line in cart.lines]
        self.unit = minor_unit(cart.currency)
        self.minor_bases = [int(base / self.unit) for base in self.bases]  # in minor units
        self.quantities = [int(line.quantity * PERCENT) for line in cart.lines]
        self.all = list(range(len(cart.lines)))
        self.by_product: dict[int, list[int]] = {}
        self.by_category: dict[int | None, list[int]] = {}
        for i, line in enumerate(cart.lines):
            self.by_product.setdefault(line.product_id, []).append(i)
            self.by_category.setdefault(line.category_id, []).append(i)
        self.known: dict[int, list[int]] = {}
        self.units: dict[int, int] = {}
        self.subtotals: dict[int | None, Decimal] = {}
        self.days: dict[str, dt.date] = {}
        self.factors: dict[int, dict[int, int]] = {}

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

    def subtotal_of(self, rule: Rule) -> Decimal:
        """What the rule's lines cost before promotions."""
        key = rule.id if rule.selects_lines else None  # every line: one subtotal for all
        subtotal = self.subtotals.get(key)
        if subtotal is None:
            bases = self.bases
            subtotal = self.subtotals[key] = sum((bases[i] for i in self.lines_of(rule)), ZERO)
        return subtotal

    def units_of(self, rule: Rule) -> int:
        """The whole units on the rule's lines (what buy X get Y counts)."""
        units = self.units.get(rule.id)
        if units is None:
            lines = self.cart.lines
            units = self.units[rule.id] = sum(int(lines[i].quantity)
                                              for i in self.lines_of(rule))
        return units

    def per_unit_factors(self, rule: Rule) -> dict[int, int]:
        """Per line of the rule, the common multiple of the lines' quantities divided by
        its own: an amount times it is in proportion to that amount per unit, in whole
        numbers, so lines compare by unit price exactly."""
        factors = self.factors.get(rule.id)
        if factors is None:
            lines = self.lines_of(rule)
            common = math.lcm(*(self.quantities[i] or 1 for i in lines))
            factors = self.factors[rule.id] = {i: common // (self.quantities[i] or 1)
                                               for i in lines}
        return factors

    def local_date(self, timezone: str) -> dt.date:
        day = self.days.get(timezone)
        if day is None:
            day = self.days[timezone] = self.cart.placed_at.astimezone(ZoneInfo(timezone)).date()
        return day


def why_not(rule: Rule, cart: Cart, shopper: Shopper, *, drafts: bool = False,
            index: LineIndex | None = None) -> str | None:
    """Why ``rule`` does not apply to the cart, or ``None`` when its conditions hold
    (``index``: the cart's, when the caller has it already)."""
    index = index or LineIndex(cart)
    if rule.status != PromotionStatus.ACTIVE and not (drafts and rule.status == "draft"):
        return f"the promotion is {rule.status}"
    if rule.campaign_currency and rule.campaign_currency != cart.currency:
        return f"its campaign is in {rule.campaign_currency}, the order in {cart.currency}"
    if rule.starts_on or rule.ends_on:
        day = index.local_date(rule.timezone)
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
    eligible = index.lines_of(rule)
    if not eligible:
        return "no line holds one of its products or categories"
    if rule.min_subtotal is not None:
        subtotal = index.subtotal_of(rule)
        if subtotal < rule.min_subtotal:
            return f"the subtotal {subtotal} is below {rule.min_subtotal}"
    if rule.min_quantity is not None:
        count = sum((cart.lines[i].quantity for i in eligible), ZERO)
        if count < rule.min_quantity:
            return f"the quantity {count:f} is below {rule.min_quantity:f}"
    if rule.action == Action.BUY_X_GET_Y:
        units = index.units_of(rule)
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


def _half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


class _Running:
    """What the lines and the shipping still cost while an option is applied. Line
    amounts are whole minor units (integers: exact and quick); shipping, which may have
    sub-cent decimals, stays a ``Decimal``."""

    def __init__(self, cart: Cart, index: LineIndex) -> None:
        self.cart = cart
        self.index = index
        self.unit = index.unit
        self.per_unit = int(1 / index.unit)
        self.left = list(index.minor_bases)
        self.quantities = index.quantities
        self.shipping_left = cart.shipping_amount
        self.taken: list[tuple[int, int | None, str, int | Decimal]] = []
        self.by_rule: dict[int, int] = {}
        self.order_level = 0  # what order discounts took off the lines
        self.shipping_by_rule: dict[int, Decimal] = {}
        self.gifts: list[tuple[int, int, Decimal]] = []

    def to_minor(self, amount: Decimal) -> int:
        """An amount (at most 4 decimals) in minor units, rounded half up."""
        return _half_up(int(amount * PERCENT) * self.per_unit, PERCENT)

    def take(self, rule: Rule, line: int, amount: int, level: str) -> None:
        self.take_lines(rule, (line,), (amount,), level)

    def take_lines(self, rule: Rule, lines: Sequence[int], amounts: Sequence[int],
                   level: str) -> None:
        """Each of ``amounts`` off its line, never more than the line still costs."""
        left, taken, rule_id = self.left, self.taken, rule.id
        took = 0
        for line, amount in zip(lines, amounts, strict=True):
            amount = min(amount, left[line])
            if amount > 0:
                left[line] -= amount
                taken.append((rule_id, line, level, amount))
                took += amount
        if took:
            self.by_rule[rule_id] = self.by_rule.get(rule_id, 0) + took
            if level == "order":
                self.order_level += took

    def take_shipping(self, rule: Rule, amount: Decimal) -> None:
        amount = min(amount, self.shipping_left)
        if amount > 0:
            self.shipping_left -= amount
            self.taken.append((rule.id, None, "shipping", amount))
            self.shipping_by_rule[rule.id] = self.shipping_by_rule.get(rule.id, ZERO) + amount

    def spread(self, rule: Rule, lines: Sequence[int], level: str, *, amount: int = 0,
               percent: int | None = None) -> None:
        """``amount`` minor units, or ``percent`` (ten-thousandths) of what ``lines``
        still cost, over them by largest remainder on what they cost."""
        weights = [self.left[i] for i in lines]
        total = sum(weights)
        if percent is not None:
            amount = total * percent // PERCENT
        amount = min(amount, total)
        if amount <= 0:
            return
        shares = [amount * weight // total for weight in weights]
        spare = amount - sum(shares)
        if spare:
            remainders = [amount * weight % total for weight in weights]
            # the largest remainders, the earlier line on a tie (a stable sort keeps it)
            for position in sorted(range(len(lines)), key=remainders.__getitem__,
                                   reverse=True)[:spare]:
                shares[position] += 1
        self.take_lines(rule, lines, shares, level)

    def unit_price_left(self, line: int) -> Fraction:
        """What one unit of the line still costs, in minor units (exact)."""
        return Fraction(self.left[line] * PERCENT, self.quantities[line] or 1)

    def discount(self, rule_id: int) -> Decimal:
        return self.unit * self.by_rule.get(rule_id, 0) + self.shipping_by_rule.get(rule_id, ZERO)


def _apply(rule: Rule, run: _Running, cart: Cart) -> None:
    eligible = run.index.lines_of(rule)
    pct = rule.percent
    action = rule.action
    if action == Action.FREE_SHIPPING:
        run.take_shipping(rule, round_money(run.shipping_left * pct / PERCENT, run.unit))
        return
    if action == Action.GIFT:
        if rule.gift_product_id and rule.gift_quantity:
            run.gifts.append((rule.id, rule.gift_product_id, rule.gift_quantity))
        return
    amount = rule.amount_units
    per_unit = run.per_unit
    if rule.phase == 1:
        if action == Action.PERCENTAGE_OFF:
            run.spread(rule, eligible, "order", percent=pct)
        else:
            run.spread(rule, eligible, "order", amount=amount * per_unit // PERCENT)
        return
    if action == Action.FIXED_PRICE:
        run.take_lines(rule, eligible, [
            run.left[i] - _half_up(amount * run.quantities[i] * per_unit, PERCENT * PERCENT)
            for i in eligible], "item")
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
            run.spread(rule, eligible, "item", percent=pct)
        else:
            run.take_lines(rule, eligible, [_half_up(run.left[i] * pct, PERCENT)
                                            for i in eligible], "item")
        return
    if rule.allocation == Allocation.ACROSS:
        run.spread(rule, eligible, "item", amount=amount * per_unit // PERCENT)
    else:
        run.take_lines(rule, eligible, [
            _half_up(amount * run.quantities[i] * per_unit, PERCENT * PERCENT)
            for i in eligible], "item")


def _buy_x_get_y(rule: Rule, run: _Running, cart: Cart, eligible: list[int],
                 pct: int) -> None:
    buy, get = rule.buy_quantity or 1, rule.get_quantity or 1
    units = run.index.units_of(rule)
    if rule.get_product_id is None:
        groups = units // (buy + get)
        per_unit_of = run.index.per_unit_factors(rule)
        left = run.left
        # cheapest unit first (exactly: what is left times the line's factor), then the
        # earlier line (a stable sort keeps it)
        targets = sorted(eligible, key=lambda i: left[i] * per_unit_of[i])
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


def run_option(rules: Sequence[Rule], cart: Cart, index: LineIndex | None = None
               ) -> _Running:
    run = _Running(cart, index or LineIndex(cart))
    for rule in sorted(rules, key=attrgetter("application_order")):
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
    index = LineIndex(cart)
    for rule in rules:
        if rule.id in seen:
            continue
        seen.add(rule.id)
        reason = refused.get(rule.id) or why_not(rule, cart, shopper, drafts=drafts,
                                                 index=index)
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
        run = run_option(option, cart, index)
        key = option_key(option, option_worth(run, option))
        if best is None or key > best[0]:
            best = (key, option, run)
    chosen: tuple[Rule, ...] = best[1] if best else ()
    run = best[2] if best else _Running(cart, index)
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
    unit = run.unit
    per_line = (unit * (base - left) for base, left in zip(index.minor_bases, run.left,
                                                           strict=True))
    applied = tuple(rule for rule in chosen if verdicts[rule.id].applied)
    return Outcome(tuple(per_line), unit * run.order_level,
                   sum(run.shipping_by_rule.values(), ZERO),
                   tuple(run.gifts), applied, tuple(verdicts[key] for key in sorted(verdicts)),
                   {rule.id: run.discount(rule.id) for rule in applied}, unit, tuple(run.taken))
