"""The promotions' metrics, queried through the reports plugin's API: discount given,
orders and revenue with a promotion, per promotion and per campaign."""

from __future__ import annotations

import pytest
from promotions_helpers import money

pytestmark = pytest.mark.erp_plugins("promotions", "reports")

QUERY = "/api/v1/reports/query"
METRICS = ["promotions.discount_given", "promotions.orders_with_promotion",
           "promotions.revenue_with_promotion"]


def figures(client, *dimensions):
    response = client.post(QUERY, json={"metrics": METRICS, "dimensions": list(dimensions)})
    assert response.status_code == 200, response.text
    return {tuple(row[d + "_label"] for d in dimensions): (
        money(row["promotions.discount_given"]), row["promotions.orders_with_promotion"],
        money(row["promotions.revenue_with_promotion"])) for row in response.json()["rows"]}


def test_discount_orders_and_revenue_per_promotion_and_campaign_count_each_sold_order_once(
        erp_client, promote, place, shop):
    campaign = erp_client.post("/api/v1/promotions/campaigns", json={"name": "spring"}).json()
    promote(name="1 off", action="amount_off", target="order", amount="1",
            campaign_id=campaign["id"])
    promote(name="10 % off mugs", action="percentage_off", percentage="0.10",
            product_ids=[shop["mug"]], campaign_id=campaign["id"])
    promote(name="0.50 off tea", action="amount_off", amount="0.50", product_ids=[shop["tea"]])
    mugs = place(("mug", "2"), confirm=True)  # 2.50 + 1.00 off, both of the campaign
    teas = place(("tea", "2"), confirm=True)  # 1.00 + 1.00 off, one of the campaign
    place(("mug", "1"))  # a draft: no sale yet
    cancelled = place(("mug", "1"), confirm=True)
    assert erp_client.post(f"/api/v1/orders/orders/{cancelled['id']}/cancel",
                           json={}).status_code == 200
    both = money(mugs["total"]) + money(teas["total"])

    assert figures(erp_client) == {(): (money("5.50"), 2, both)}
    assert figures(erp_client, "promotion") == {
        ("1 off",): (money("2.00"), 2, both),
        ("10 % off mugs",): (money("2.50"), 1, money(mugs["total"])),
        ("0.50 off tea",): (money("1.00"), 1, money(teas["total"]))}
    assert figures(erp_client, "campaign") == {("spring",): (money("4.50"), 2, both)}


def test_the_discount_given_is_net_of_what_a_refunded_return_gave_back(
        erp_client, promote, place, shop):
    promote(name="10 % off", action="percentage_off", percentage="0.10")
    order = place(("mug", "4"), confirm=True)  # 5.00 off 50.00
    assert erp_client.post(f"/api/v1/orders/orders/{order['id']}/ship",
                           json={}).status_code == 200
    [line] = erp_client.get("/api/v1/orders/order-lines",
                            params={"order_id": order["id"]}).json()["items"]
    assert figures(erp_client, "promotion")[("10 % off",)][0] == money("5.00")

    request = erp_client.post("/api/v1/orders/return-requests",
                              json={"order_id": order["id"], "reason": "one broke"}).json()
    assert erp_client.post("/api/v1/orders/return-lines", json={
        "return_id": request["id"], "order_line_id": line["id"],
        "quantity": "1"}).status_code == 201
    for step in ("approve", "receive", "refund"):
        assert erp_client.post(f"/api/v1/orders/return-requests/{request['id']}/{step}",
                               json={}).status_code == 200

    discount, orders, _revenue = figures(erp_client, "promotion")[("10 % off",)]
    assert (discount, orders) == (money("3.75"), 1)  # a quarter of the 5.00 came back
