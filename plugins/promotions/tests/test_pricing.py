"""Promotions price orders through the orders plugin's hook: what each action takes off,
where, and that the totals, the tax and the explanation follow."""

from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import money

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
