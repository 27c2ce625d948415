"""Properties over random carts and promotion sets.

The engine (pure): every line's discount is between zero and its base, the shares add up
to each line's discount and each spread discount adds up exactly to its amount, an
exclusive promotion is chosen alone, the chosen option has the highest priority present
and, among those, is worth at least as much to the customer as every other valid option.
Through the API (on the test database): placed orders carry exactly the dry run's
discounts, their lines add up to the totals to the cent, and no line or tax is negative.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from erp_orders.money import line_amounts
from erp_orders.pricing import Cart, CartLine
from erp_promotions.allocation import floor_money
from erp_promotions.engine import Shopper, evaluate, option_key, option_worth, options, run_option
from erp_promotions.rules import Rule

ZERO = Decimal(0)
NOW = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
PRODUCTS = {1: 1, 2: 1, 3: 2, 4: 2}  # product id -> category id

prices = st.integers(1, 5000).map(lambda cents: Decimal(cents) / 100)
lines = st.lists(st.tuples(st.sampled_from(sorted(PRODUCTS)), st.integers(1, 5), prices,
                           st.sampled_from([Decimal("0"), Decimal("0.07"), Decimal("0.2")])),
                 min_size=1, max_size=8)


@st.composite
def rules(draw, rule_id):
    action = draw(st.sampled_from(["percentage_off", "amount_off", "fixed_price",
                                   "buy_x_get_y", "free_shipping"]))
    target = draw(st.sampled_from(["items", "order"])) \
        if action in ("percentage_off", "amount_off") else "items"
    selects = draw(st.sampled_from(["all", "product", "category"]))
    if action == "fixed_price" and selects == "all":
        selects = "product"
    return Rule(
        id=rule_id, name=f"r{rule_id}", status="active", automatic=True,
        priority=draw(st.integers(0, 2)), exclusive=draw(st.booleans()), campaign_id=None,
        action=action, target=target, allocation=draw(st.sampled_from(["each", "across",
                                                                         "once"])),
        percentage=Decimal(draw(st.integers(1, 100))) / 100,
        amount=Decimal(draw(st.integers(1, 4000))) / 100,
        buy_quantity=draw(st.integers(1, 3)), get_quantity=draw(st.integers(1, 2)),
        get_product_id=draw(st.sampled_from([None, 3])), gift_product_id=None,
        gift_quantity=None, gift_value=ZERO, channel_ids=frozenset(),
        customer_tiers=frozenset(), segment_ids=frozenset(),
        product_ids=frozenset({draw(st.sampled_from(sorted(PRODUCTS)))})
        if selects == "product" else frozenset(),
        category_ids=frozenset({draw(st.sampled_from([1, 2]))})
        if selects == "category" else frozenset(),
        min_subtotal=draw(st.sampled_from([None, Decimal(20)])), min_quantity=None,
        first_order=False, starts_on=None, ends_on=None, timezone="UTC",
        per_customer_limit=None)


@st.composite
def rule_sets(draw):
    count = draw(st.integers(0, 5))
    return [draw(rules(rule_id)) for rule_id in range(1, count + 1)]


def cart_of(drawn, shipping=Decimal("4.90")):
    return Cart(1, 1, "EUR", NOW, tuple(CartLine(p, Decimal(q), price, ZERO, tax, PRODUCTS[p])
                                        for p, q, price, tax in drawn), shipping)


@settings(max_examples=400, deadline=None)
@given(lines, rule_sets())
def test_the_engine_allocates_exactly_and_chooses_the_best_valid_option(drawn, ruleset):
    cart = cart_of(drawn)
    outcome = evaluate(cart, ruleset, Shopper(1))

    for line, discount in zip(cart.lines, outcome.line_discounts, strict=True):
        assert ZERO <= discount <= line.base
        amounts = line_amounts(line.quantity, line.unit_price, ZERO, line.tax_rate, discount)
        assert amounts.net >= 0 and amounts.tax >= 0
    for index, discount in enumerate(outcome.line_discounts):
        assert sum((s.amount for s in outcome.shares if s.line == index), ZERO) == discount
    assert ZERO <= outcome.shipping_discount <= cart.shipping_amount
    assert all(share.amount > 0 and share.amount == floor_money(share.amount, Decimal("0.01"))
               for share in outcome.shares)

    applicable = [v.rule for v in outcome.verdicts
                  if v.applied or (v.reason and "exclusive" in v.reason)
                  or v.reason == "nothing was left to discount"]
    chosen = {rule.id for rule in outcome.applied}
    if any(rule.exclusive for rule in outcome.applied):
        assert len(chosen) == 1
    if not applicable:
        assert outcome.discount == 0
        return
    scored = [(option_key(option, option_worth(run_option(option, cart), option)), option)
              for option in options(applicable)]
    best_key, best = max(scored, key=lambda pair: pair[0])
    assert best_key[0] == max(rule.priority for rule in applicable)  # priority first
    assert chosen <= {rule.id for rule in best}
    best_worth = best_key[1]
    assert all(key[1] <= best_worth for key, _ in scored if key[0] == best_key[0])
    assert outcome.discount == best_worth


@settings(max_examples=300, deadline=None)
@given(lines, st.integers(1, 100), st.integers(1, 100_000))
def test_a_spread_discount_adds_up_exactly_to_its_amount(drawn, percent, cents):
    cart = cart_of(drawn)
    total = sum((line.base for line in cart.lines), ZERO)
    for action, value in (("percentage_off", None), ("amount_off", Decimal(cents) / 100)):
        rule = Rule(1, "spread", "active", True, 0, False, None, action, "order", "across",
                    Decimal(percent) / 100, value, None, None, None, None, None, ZERO,
                    frozenset(), frozenset(), frozenset(), frozenset(), frozenset(), None,
                    None, False, None, None, "UTC", None)
        outcome = evaluate(cart, [rule], Shopper(1))
        expected = (floor_money(total * Decimal(percent) / 100, Decimal("0.01"))
                    if value is None else min(value, total))
        assert sum(outcome.line_discounts, ZERO) == expected
        assert outcome.order_discount == expected


API_PRODUCTS = ("tea", "coffee", "mug", "plate")


@st.composite
def api_promotions(draw):
    found = []
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["percentage_off", "amount_off", "free_shipping",
                                       "buy_x_get_y"]))
        body = {"action": action, "priority": draw(st.integers(0, 2)),
                "exclusive": draw(st.booleans())}
        if action == "percentage_off":
            body.update(percentage=f"0.{draw(st.integers(5, 95)):02d}",
                        target=draw(st.sampled_from(["items", "order"])),
                        allocation=draw(st.sampled_from(["each", "across", "once"])))
        elif action == "amount_off":
            body.update(amount=f"{draw(st.integers(1, 3000)) / 100:.2f}",
                        target=draw(st.sampled_from(["items", "order"])),
                        allocation=draw(st.sampled_from(["each", "across", "once"])))
        elif action == "buy_x_get_y":
            body.update(buy_quantity=draw(st.integers(1, 2)), get_quantity=1)
        found.append(body)
    return found


api_carts = st.lists(st.tuples(st.sampled_from(API_PRODUCTS), st.integers(1, 4)),
                     min_size=1, max_size=5)


@pytest.mark.erp_plugins("promotions")
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(api_promotions(), api_carts)
def test_placed_orders_match_the_dry_run_and_add_up_to_the_cent(
        erp_client, shop, promote, place, promotions, cart):
    created = [promote(name=f"p{n}", **body)["id"] for n, body in enumerate(promotions)]
    try:
        body = {"channel_id": shop["channel"], "customer_id": shop["customer"],
                "shipping_amount": "4.90",
                "lines": [{"product_id": shop[name], "quantity": str(qty), "tax_rate": "0.20"}
                          for name, qty in cart]}
        dry = erp_client.post("/api/v1/promotions/dry-run", json=body).json()
        order = place(*((name, str(qty)) for name, qty in cart), shipping_amount="4.90")
        stored = erp_client.get("/api/v1/orders/order-lines",
                                params={"order_id": order["id"], "sort": "id"}).json()["items"]
        paid = [line for line in stored if not line["gift"]]
        assert [Decimal(line["promotion_discount"]) for line in paid] == [
            Decimal(line["discount"]) for line in dry["lines"]]
        assert Decimal(order["shipping_discount"]) == Decimal(dry["shipping_discount"])
        assert all(Decimal(line["line_net"]) >= 0 and Decimal(line["line_tax"]) >= 0
                   for line in stored)
        assert sum(Decimal(line["line_net"]) for line in stored) == Decimal(order["subtotal"])
        assert sum(Decimal(line["line_tax"]) for line in stored) == Decimal(order["tax_total"])
        assert Decimal(order["total"]) == (Decimal(order["subtotal"])
                                           + Decimal(order["tax_total"]) + Decimal("4.90")
                                           - Decimal(order["shipping_discount"]))
        explained = erp_client.get(
            f"/api/v1/promotions/orders/{order['id']}/explanation").json()
        for line in explained["lines"]:
            assert sum(Decimal(p["amount"]) for p in line["promotions"]) == Decimal(
                line["promotion_discount"])
        chosen = {entry["promotion_id"] for entry in dry["applied"]}
        exclusive = {pid for pid, body in zip(created, promotions, strict=True)
                     if body["exclusive"]}
        assert not (chosen & exclusive) or len(chosen) == 1
    finally:
        for promotion_id in created:
            current = erp_client.get(f"/api/v1/promotions/promotions/{promotion_id}").json()
            erp_client.patch(f"/api/v1/promotions/promotions/{promotion_id}",
                             json={"status": "ended"},
                             headers={"If-Match": f'"{current["version"]}"'})
