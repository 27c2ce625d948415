"""Promotions price orders through the orders plugin's hook: what each action takes off,
where, and that the totals, the tax and the explanation follow."""

from __future__ import annotations

import pytest
from promotions_helpers import money

pytestmark = pytest.mark.erp_plugins("promotions")

LINES = "/api/v1/orders/order-lines"


def lines_of(client, order_id):
    response = client.get(LINES, params={"order_id": order_id, "sort": "id"})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_percentage_off_items_discounts_each_line_and_tax_follows(erp_client, promote, place):
    promote(name="20 % off", action="percentage_off", percentage="0.20")

    order = place(("tea", "3"), ("mug", "1"))  # 12.60 + 12.50

    lines = lines_of(erp_client, order["id"])
    assert [money(line["promotion_discount"]) for line in lines] == [money("2.52"), money("2.50")]
    assert [money(line["line_net"]) for line in lines] == [money("10.08"), money("10.00")]
    assert [money(line["line_tax"]) for line in lines] == [money("2.02"), money("2.00")]
    assert money(order["discount_total"]) == money("5.02")
    assert money(order["total"]) == money("24.10")


def test_an_amount_off_the_order_is_split_by_largest_remainder_to_the_cent(
        erp_client, promote, place):
    promote(name="10 off", action="amount_off", target="order", amount="10")

    order = place(("tea", "1"), ("tea", "1"), ("tea", "1"))  # three lines of 4.20

    shares = [money(line["promotion_discount"]) for line in lines_of(erp_client, order["id"])]
    assert shares == [money("3.34"), money("3.33"), money("3.33")]
    assert sum(shares) == money("10")
    assert money(order["order_discount"]) == money("10")


def test_a_discount_never_exceeds_what_it_applies_to_and_tax_stays_zero(
        erp_client, promote, place):
    promote(name="100 off", action="amount_off", target="order", amount="100")

    order = place(("tea", "2"), shipping_amount="4.90")

    [line] = lines_of(erp_client, order["id"])
    assert money(line["promotion_discount"]) == money("8.40")
    assert money(line["line_net"]) == 0 and money(line["line_tax"]) == 0
    assert money(order["total"]) == money("4.90")


def test_item_then_order_discounts_apply_on_the_already_discounted_base(
        erp_client, promote, place, shop):
    promote(name="half price mugs", action="percentage_off", percentage="0.5",
            product_ids=[shop["mug"]])
    promote(name="10 % off the order", action="percentage_off", target="order",
            allocation="across", percentage="0.10")

    order = place(("mug", "2"), ("tea", "1"))  # 25.00 -> 12.50 after the item discount

    mug, tea = lines_of(erp_client, order["id"])
    # order discount: 10 % of (12.50 + 4.20) = 1.67, split 1.25 / 0.42
    assert money(mug["promotion_discount"]) == money("12.50") + money("1.25")
    assert money(tea["promotion_discount"]) == money("0.42")
    assert money(order["order_discount"]) == money("1.67")


def test_amount_off_each_unit_and_once_per_order(erp_client, promote, place, shop):
    promote(name="1 off each drink", action="amount_off", amount="1", allocation="each",
            category_ids=[shop["cat_drinks"]])
    promote(name="2 off one kitchen item", action="amount_off", amount="2",
            allocation="once", category_ids=[shop["cat_kitchen"]])

    order = place(("tea", "3"), ("mug", "2"), ("plate", "1"))

    tea, mug, plate = lines_of(erp_client, order["id"])
    assert money(tea["promotion_discount"]) == money("3")
    assert money(mug["promotion_discount"]) == money("2")  # the dearest kitchen unit
    assert money(plate["promotion_discount"]) == 0


def test_a_fixed_price_sells_the_products_at_that_price(erp_client, promote, place, shop):
    promote(name="mugs at 9.99", action="fixed_price", amount="9.99", product_ids=[shop["mug"]])

    order = place(("mug", "3"))

    [mug] = lines_of(erp_client, order["id"])
    assert money(mug["line_net"]) == money("29.97")


def test_buy_two_get_the_cheapest_free(erp_client, promote, place, shop):
    promote(name="3 for 2", action="buy_x_get_y", buy_quantity=2, get_quantity=1,
            category_ids=[shop["cat_drinks"]])

    order = place(("coffee", "2"), ("tea", "1"))

    coffee, tea = lines_of(erp_client, order["id"])
    assert (money(coffee["promotion_discount"]), money(tea["promotion_discount"])) == (
        0, money("4.20"))


def test_buy_two_get_a_chosen_product_free(erp_client, promote, place, shop):
    promote(name="2 coffees, a free mug", action="buy_x_get_y", buy_quantity=2,
            get_quantity=1, product_ids=[shop["coffee"]], get_product_id=shop["mug"])

    order = place(("coffee", "4"), ("mug", "3"))

    coffee, mug = lines_of(erp_client, order["id"])
    assert money(coffee["promotion_discount"]) == 0
    assert money(mug["promotion_discount"]) == money("25.00")  # two groups: two mugs


def test_free_shipping_takes_the_shipping_off(erp_client, promote, place):
    promote(name="free shipping from 20", action="free_shipping", min_subtotal="20")

    small = place(("tea", "1"), shipping_amount="4.90")
    large = place(("mug", "2"), shipping_amount="4.90")

    assert money(small["shipping_discount"]) == 0
    assert money(large["shipping_discount"]) == money("4.90")
    assert money(large["total"]) == money("30.00")  # 25.00 + 20 % tax, shipping free


def test_a_gift_is_added_as_a_line_at_zero_price(erp_client, promote, place, shop):
    promote(name="a plate from 20", action="gift", gift_product_id=shop["plate"],
            gift_quantity="1", min_subtotal="20")

    order = place(("mug", "2"))

    mug, gift = lines_of(erp_client, order["id"])
    assert mug["gift"] is False
    assert gift["product_id"] == shop["plate"] and gift["gift"] is True
    assert money(gift["unit_price"]) == 0 and money(gift["line_total"]) == 0
    assert money(order["total"]) == money("30.00")


def test_every_line_shows_which_promotions_took_how_much(erp_client, promote, place, shop):
    first = promote(name="half price mugs", action="percentage_off", percentage="0.5",
                    product_ids=[shop["mug"]])
    second = promote(name="5 off the order", action="amount_off", target="order", amount="5")

    order = place(("mug", "1"), ("tea", "1"))

    explained = erp_client.get(f"/api/v1/promotions/orders/{order['id']}/explanation")
    assert explained.status_code == 200, explained.text
    mug, tea = explained.json()["lines"]
    assert [(p["promotion_id"], p["level"], p["amount"]) for p in mug["promotions"]] == [
        (first["id"], "item", "6.25"), (second["id"], "order", "2.99")]
    # 5.00 over 6.25 and 4.20: 2.990... and 2.009..., the spare cent to the larger remainder
    assert [(p["promotion_id"], p["amount"]) for p in tea["promotions"]] == [
        (second["id"], "2.01")]


def test_changing_a_draft_line_prices_the_order_again(erp_client, promote, place, shop):
    promote(name="10 off from 30", action="amount_off", target="order", amount="10",
            min_subtotal="30")
    order = place(("mug", "2"))
    assert money(order["discount_total"]) == 0
    [line] = lines_of(erp_client, order["id"])

    changed = erp_client.patch(f"{LINES}/{line['id']}", json={"quantity": "3"},
                               headers={"If-Match": f'"{line["version"]}"'})

    assert changed.status_code == 200, changed.text
    again = erp_client.get(f"/api/v1/orders/orders/{order['id']}").json()
    assert money(again["discount_total"]) == money("10")
    assert money(again["total"]) == money("33.00")  # (37.50 - 10) + 20 % tax
