"""A draft promotion simulated over past orders, the results per promotion and campaign,
and the promotions and codes that are refused when written."""

from __future__ import annotations

import datetime as dt

import pytest
from promotions_helpers import money

pytestmark = pytest.mark.erp_plugins("promotions")

PROMOTIONS = "/api/v1/promotions/promotions"


def test_a_draft_promotion_is_simulated_over_past_orders(erp_client, promote, place):
    place(("mug", "2"), confirm=True)   # 25.00: matches
    place(("tea", "1"), confirm=True)   # 4.20: below the minimum
    place(("mug", "4"))                 # a draft: not a past order
    draft = promote(name="10 % from 20", status="draft", action="percentage_off",
                    percentage="0.10", min_subtotal="20")
    today = dt.datetime.now(dt.UTC).date().isoformat()

    response = erp_client.post(f"{PROMOTIONS}/{draft['id']}/simulate",
                               json={"start": today, "end": today})

    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["orders_considered"], result["orders_matched"]) == (2, 1)
    assert (result["cost"], result["revenue_before"], result["revenue_after"]) == (
        "2.50", "25.00", "22.50")
    assert result["not_matched"] == [{"reason": "the subtotal 4.20 is below 20.0000",
                                      "orders": 1}]
    bad = erp_client.post(f"{PROMOTIONS}/{draft['id']}/simulate",
                          json={"start": today, "end": "2020-01-01"})
    assert bad.status_code == 422


def test_results_show_discount_orders_and_revenue_per_promotion_and_campaign(
        erp_client, promote, place):
    campaign = erp_client.post("/api/v1/promotions/campaigns", json={"name": "x"}).json()
    promotion = promote(name="1 off", action="amount_off", target="order", amount="1",
                        campaign_id=campaign["id"])
    place(("mug", "1"))
    cancelled = place(("mug", "1"))
    erp_client.post(f"/api/v1/orders/orders/{cancelled['id']}/cancel", json={})

    results = erp_client.get("/api/v1/promotions/results").json()

    [row] = results["promotions"]
    assert (row["promotion_id"], row["discount_given"], row["orders"]) == (
        promotion["id"], "1.00", 1)
    assert money(row["revenue"]) == money("13.80")  # (12.50 - 1) + 20 % tax
    [by_campaign] = results["campaigns"]
    assert (by_campaign["campaign_id"], by_campaign["orders"]) == (campaign["id"], 1)


BAD_PROMOTIONS = [
    ({"action": "percentage_off"}, "percentage"),
    ({"action": "gift", "gift_quantity": "1"}, "gift_product_id"),
    ({"action": "fixed_price", "amount": "5"}, "product_ids"),
    ({"action": "free_shipping", "target": "order"}, "target"),
    ({"action": "amount_off", "amount": "1", "product_ids": ["x"]}, "product_ids"),
    ({"action": "amount_off", "amount": "1", "timezone": "Mars/Olympus"}, "timezone"),
    ({"action": "amount_off", "amount": "1", "starts_on": "2027-02-01",
      "ends_on": "2027-01-01"}, "ends_on"),
    ({"action": "percentage_off", "percentage": "1.5"}, "percentage"),
]


def test_a_promotion_that_cannot_be_applied_is_refused_naming_the_field(erp_client):
    for body, field in BAD_PROMOTIONS:
        response = erp_client.post(PROMOTIONS, json={"name": "bad", **body})

        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["errors"], (body, response.json())
    assert erp_client.get(PROMOTIONS).json()["items"] == []


def test_a_coupon_code_is_written_in_upper_case(erp_client, promote):
    promotion = promote(name="code", automatic=False, action="amount_off", amount="1")

    response = erp_client.post("/api/v1/promotions/coupons",
                               json={"code": "save5", "promotion_id": promotion["id"]})

    assert response.status_code == 422
    assert response.json()["errors"] == {"code": "not upper case"}
