"""Coupons and budgets: codes and their limits, batches from a pattern, campaign budgets
on spend and on uses, and what cancelling or returning an order gives back."""

from __future__ import annotations

import re

import pytest
from promotions_helpers import money

pytestmark = pytest.mark.erp_plugins("promotions")

COUPONS = "/api/v1/promotions/coupons"
CAMPAIGNS = "/api/v1/promotions/campaigns"
ORDERS = "/api/v1/orders/orders"


@pytest.fixture
def coupon(erp_client, promote):
    def make(code, usage_limit=None, **promotion):
        created = promote(**{"name": f"code {code}", "automatic": False,
                             "action": "amount_off", "target": "order", "amount": "5",
                             **promotion})
        response = erp_client.post(COUPONS, json={"code": code, "promotion_id": created["id"],
                                                  "usage_limit": usage_limit})
        assert response.status_code == 201, response.text
        return response.json()

    return make


def used(client, coupon_id):
    return client.get(f"{COUPONS}/{coupon_id}").json()["used"]


def test_a_code_used_up_refuses_the_order_and_writes_nothing(erp_client, coupon, place):
    code = coupon("ONCE", usage_limit=1)

    first = place(("mug", "1"), coupon_codes=["once"])
    second = place(("mug", "1"), coupon_codes=["ONCE"], expect=409)

    assert money(first["discount_total"]) == money("5")
    assert "coupon ONCE can no longer be used" in second["detail"]
    assert used(erp_client, code["id"]) == 1
    assert erp_client.get(ORDERS, params={"with_total": "true"}).json()["total"] == 1


def test_an_unknown_code_is_a_422_naming_it(place):
    refused = place(("mug", "1"), coupon_codes=["NOPE"], expect=422)

    assert refused["errors"]["coupon_codes"] == "unknown: NOPE"


def test_a_customer_may_use_a_promotion_only_as_often_as_its_limit(
        erp_client, coupon, place, shop):
    coupon("PERPERSON", per_customer_limit=1)

    place(("mug", "1"), coupon_codes=["PERPERSON"])
    again = place(("mug", "1"), coupon_codes=["PERPERSON"], expect=409)
    other = place(("mug", "1"), coupon_codes=["PERPERSON"], customer_id=shop["other_customer"])

    assert "the customer has used it as often as they may" in again["detail"]
    assert money(other["discount_total"]) == money("5")


def test_a_batch_generates_unique_codes_from_its_pattern(erp_client, promote):
    promotion = promote(name="newsletter", automatic=False, action="amount_off", amount="2")

    response = erp_client.post(f"/api/v1/promotions/promotions/{promotion['id']}/coupon-batches",
                               json={"pattern": "news-####-??", "count": 50, "usage_limit": 1})

    assert response.status_code == 201, response.text
    listed = erp_client.get(COUPONS, params={"batch_id": response.json()["id"],
                                             "limit": 100}).json()["items"]
    codes = [item["code"] for item in listed]
    assert len(set(codes)) == 50
    assert all(re.fullmatch(r"NEWS-[2-9]{4}-[A-Z]{2}", code) for code in codes)
    assert all(item["usage_limit"] == 1 for item in listed)
    bad = erp_client.post(f"/api/v1/promotions/promotions/{promotion['id']}/coupon-batches",
                          json={"pattern": "AB#", "count": 5})
    assert bad.status_code == 422 and "pattern" in bad.json()["errors"]


def test_an_automatic_promotion_stops_when_its_budget_is_spent(erp_client, promote, place):
    campaign = erp_client.post(CAMPAIGNS, json={"name": "spring", "budget_amount": "12",
                                                "budget_uses": 10}).json()
    promote(name="5 off", action="amount_off", target="order", amount="5",
            campaign_id=campaign["id"])

    orders = [place(("mug", "1")) for _ in range(3)]

    assert [money(o["discount_total"]) for o in orders] == [money("5"), money("5"), 0]
    after = erp_client.get(f"{CAMPAIGNS}/{campaign['id']}").json()
    assert (money(after["spent"]), after["uses"]) == (money("10"), 2)


def test_a_campaign_budget_on_uses_holds_for_coupons_too(erp_client, coupon, place):
    campaign = erp_client.post(CAMPAIGNS, json={"name": "two uses", "budget_uses": 2}).json()
    coupon("TWICE", campaign_id=campaign["id"])

    place(("mug", "1"), coupon_codes=["TWICE"])
    place(("mug", "1"), coupon_codes=["TWICE"])
    third = place(("mug", "1"), coupon_codes=["TWICE"], expect=409)

    assert "budget is used up" in third["detail"]


def test_cancelling_an_order_gives_its_coupon_use_and_budget_back(erp_client, coupon, place):
    campaign = erp_client.post(CAMPAIGNS, json={"name": "c", "budget_amount": "100"}).json()
    code = coupon("BACK", usage_limit=1, campaign_id=campaign["id"], per_customer_limit=1)
    order = place(("mug", "1"), coupon_codes=["BACK"])

    cancelled = erp_client.post(f"{ORDERS}/{order['id']}/cancel", json={})

    assert cancelled.status_code == 200, cancelled.text
    assert used(erp_client, code["id"]) == 0
    after = erp_client.get(f"{CAMPAIGNS}/{campaign['id']}").json()
    assert (money(after["spent"]), after["uses"]) == (0, 0)
    again = place(("mug", "1"), coupon_codes=["BACK"])  # per customer: given back too
    assert money(again["discount_total"]) == money("5")


def test_returns_give_back_their_share_of_the_budget_and_the_use_once_all_is_back(
        erp_client, promote, place, shop):
    campaign = erp_client.post(CAMPAIGNS, json={"name": "r", "budget_amount": "100"}).json()
    promote(name="10 % off", action="percentage_off", percentage="0.10",
            campaign_id=campaign["id"])
    order = place(("mug", "4"), ("tea", "1"), confirm=True)  # 5.00 + 0.42 discount
    assert order["state"] == "confirmed", order
    shipped = erp_client.post(f"{ORDERS}/{order['id']}/ship", json={})
    assert shipped.status_code == 200, shipped.text
    lines = {line["product_id"]: line for line in erp_client.get(
        "/api/v1/orders/order-lines", params={"order_id": order["id"]}).json()["items"]}

    def return_units(product, quantity):
        request = erp_client.post("/api/v1/orders/return-requests",
                                  json={"order_id": order["id"], "reason": "too many"})
        assert request.status_code == 201, request.text
        rid = request.json()["id"]
        line = erp_client.post("/api/v1/orders/return-lines",
                               json={"return_id": rid,
                                     "order_line_id": lines[shop[product]]["id"],
                                     "quantity": quantity})
        assert line.status_code == 201, line.text
        for step in ("approve", "receive", "refund"):
            done = erp_client.post(f"/api/v1/orders/return-requests/{rid}/{step}", json={})
            assert done.status_code == 200, done.text

    def spent():
        found = erp_client.get(f"{CAMPAIGNS}/{campaign['id']}").json()
        return money(found["spent"]), found["uses"]

    assert spent() == (money("5.42"), 1)
    return_units("mug", "1")
    assert spent() == (money("4.17"), 1)  # a quarter of the mugs' 5.00 came back
    return_units("mug", "3")
    assert spent() == (money("0.42"), 1)  # all the mugs' discount back, the tea's kept
    return_units("tea", "1")
    assert spent() == (0, 0)  # everything back: the order's use of the campaign too


def test_patching_a_draft_orders_codes_prices_it_again_and_a_bad_code_writes_nothing(
        erp_client, coupon, place):
    five = coupon("FIVE", usage_limit=1)
    gone = coupon("GONE", usage_limit=1)
    place(("tea", "1"), coupon_codes=["GONE"])  # its only use
    order = place(("mug", "2"))
    url = f"{ORDERS}/{order['id']}"

    def patch(codes, version):
        return erp_client.patch(url, json={"coupon_codes": codes},
                                headers={"If-Match": f'"{version}"'})

    for unlike_placing in (["five"], ["FIVE", "FIVE"], "FIVE"):
        assert patch(unlike_placing, order["version"]).status_code == 422

    applied = patch(["FIVE"], order["version"])

    assert applied.status_code == 200, applied.text
    priced = erp_client.get(url).json()
    assert priced["coupon_codes"] == ["FIVE"]
    assert money(priced["discount_total"]) == money("5")
    assert money(priced["total"]) == money("24.00")  # (25.00 - 5) + 20 % tax
    assert used(erp_client, five["id"]) == 1
    for codes, status in ((["FIVE", "NOPE"], 422), (["GONE"], 409)):
        refused = patch(codes, priced["version"])

        assert refused.status_code == status, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert erp_client.get(url).json() == priced
        assert (used(erp_client, five["id"]), used(erp_client, gone["id"])) == (1, 1)
    removed = patch([], priced["version"])

    assert removed.status_code == 200, removed.text
    assert money(erp_client.get(url).json()["discount_total"]) == 0
    assert used(erp_client, five["id"]) == 0


def test_a_code_of_a_campaign_in_another_currency_takes_nothing_from_its_budget(
        erp_client, coupon, place, shop):
    campaign = erp_client.post(CAMPAIGNS, json={"name": "euros", "budget_amount": "50"}).json()
    code = coupon("EUROS", campaign_id=campaign["id"])
    dollars = erp_client.post("/api/v1/inventory/products",
                              json={"sku": "CUP-US", "name": "Cup", "list_price": "8.00",
                                    "currency": "USD"}).json()
    shop["cup"] = dollars["id"]

    order = place(("cup", "1"), currency="USD", coupon_codes=["EUROS"])

    assert money(order["discount_total"]) == 0
    assert used(erp_client, code["id"]) == 0
    after = erp_client.get(f"{CAMPAIGNS}/{campaign['id']}").json()
    assert (money(after["spent"]), after["uses"]) == (0, 0)


def test_a_campaigns_currency_is_an_iso_code_that_never_changes(erp_client):
    assert erp_client.post(CAMPAIGNS, json={"name": "x", "currency": "eur"}).status_code == 422
    campaign = erp_client.post(CAMPAIGNS, json={"name": "y", "currency": "EUR"}).json()

    changed = erp_client.patch(f"{CAMPAIGNS}/{campaign['id']}", json={"currency": "USD"},
                               headers={"If-Match": f'"{campaign["version"]}"'})

    assert changed.status_code == 422, changed.text
    assert changed.json()["errors"] == {"currency": "cannot change"}
    assert erp_client.get(f"{CAMPAIGNS}/{campaign['id']}").json()["currency"] == "EUR"
