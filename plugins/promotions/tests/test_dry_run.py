"""A dry run says, for a cart, which promotions apply, what each takes, and why the
others do not: every condition, the stacking rules, on the API."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.erp_plugins("promotions")

DRY_RUN = "/api/v1/promotions/dry-run"


@pytest.fixture
def dry_run(erp_client, shop):
    def run(*lines, **fields):
        body = {"channel_id": shop["channel"], "customer_id": shop["customer"],
                "lines": [{"product_id": shop[name], "quantity": qty} for name, qty in lines],
                **fields}
        response = erp_client.post(DRY_RUN, json=body)
        assert response.status_code == 200, response.text
        return response.json()

    return run


def reasons(result):
    return {entry["name"]: entry["reason"] for entry in result["not_applied"]}


def applied(result):
    return {entry["name"]: entry["amount"] for entry in result["applied"]}


def test_each_condition_says_why_a_promotion_does_not_apply(
        erp_client, promote, dry_run, shop):
    with_shop = dict(action="percentage_off", percentage="0.10")
    promote(name="channel", channel_ids=[shop["other_channel"]], **with_shop)
    promote(name="tier", customer_tiers=["gold"], **with_shop)
    promote(name="products", product_ids=[shop["plate"]], **with_shop)
    promote(name="subtotal", min_subtotal="100", **with_shop)
    promote(name="quantity", min_quantity="5", **with_shop)
    promote(name="window", starts_on="2030-01-01", timezone="Europe/Paris", **with_shop)
    promote(name="draft", status="draft", **with_shop)
    promote(name="fine", **with_shop)

    result = dry_run(("tea", "2"), ("mug", "1"))

    assert applied(result) == {"fine": "2.09"}
    why = reasons(result)
    assert why["channel"] == "not offered on this channel"
    assert why["tier"] == "for customers of tier gold only"
    assert why["products"] == "no line holds one of its products or categories"
    assert why["subtotal"] == "the subtotal 20.90 is below 100.0000"
    assert why["quantity"].startswith("the quantity 3")
    assert why["window"] == "it starts on 2030-01-01 (Europe/Paris)"
    assert "draft" not in why  # a draft is no candidate at all


def test_a_date_window_is_read_in_the_promotions_time_zone(promote, dry_run):
    promote(name="new year in Tokyo", action="percentage_off", percentage="0.10",
            starts_on="2027-01-01", ends_on="2027-01-01", timezone="Asia/Tokyo")

    # 2026-12-31 16:00 UTC is already 2027-01-01 01:00 in Tokyo; 15:00 UTC is not.
    inside = dry_run(("tea", "1"), at="2026-12-31T16:00:00+00:00")
    before = dry_run(("tea", "1"), at="2026-12-31T14:59:00+00:00")
    after = dry_run(("tea", "1"), at="2027-01-01T15:00:00+00:00")

    assert applied(inside) == {"new year in Tokyo": "0.42"}
    assert "starts on" in reasons(before)["new year in Tokyo"]
    assert "ended on" in reasons(after)["new year in Tokyo"]


def test_first_order_and_segment_conditions_follow_the_customer(
        erp_client, promote, dry_run, place, shop):
    segment = erp_client.post("/api/v1/crm/segments", json={"name": "Flagged",
                                                            "tiers": [], "tags": [],
                                                            "flagged": True})
    everyone = erp_client.post("/api/v1/crm/segments", json={"name": "Everyone",
                                                             "tiers": [], "tags": []})
    assert segment.status_code == everyone.status_code == 201, segment.text
    promote(name="segment everyone", action="amount_off", target="order", amount="1",
            segment_ids=[everyone.json()["id"]])
    promote(name="welcome", action="percentage_off", percentage="0.10", first_order=True)
    promote(name="segment", action="amount_off", target="order", amount="1",
            segment_ids=[segment.json()["id"]])

    first = dry_run(("tea", "1"))
    assert set(applied(first)) == {"welcome", "segment everyone"}
    assert reasons(first)["segment"] == "the customer is in none of its segments"

    place(("tea", "1"))
    later = dry_run(("tea", "1"))
    assert reasons(later)["welcome"] == "for a customer's first order only"


def test_an_exclusive_promotion_blocks_the_others(promote, dry_run):
    promote(name="stack a", action="percentage_off", percentage="0.10")
    promote(name="stack b", action="amount_off", target="order", amount="1")
    promote(name="exclusive", action="percentage_off", percentage="0.50", exclusive=True)

    result = dry_run(("mug", "2"))

    assert applied(result) == {"exclusive": "12.50"}
    assert reasons(result)["stack a"].startswith("promotion ")
    assert "is exclusive and was chosen" in reasons(result)["stack a"]


def test_the_best_result_for_the_customer_wins_among_equal_priorities(promote, dry_run):
    promote(name="small exclusive", action="percentage_off", percentage="0.05", exclusive=True)
    promote(name="stack a", action="percentage_off", percentage="0.10")
    promote(name="stack b", action="amount_off", target="order", amount="1")

    result = dry_run(("mug", "2"))

    assert applied(result) == {"stack a": "2.50", "stack b": "1.00"}
    assert "exclusive" in reasons(result)["small exclusive"]


def test_a_higher_priority_wins_whatever_it_is_worth(promote, dry_run):
    promote(name="generous", action="percentage_off", percentage="0.50", exclusive=True)
    promote(name="priority", action="percentage_off", percentage="0.05", exclusive=True,
            priority=10)

    result = dry_run(("mug", "2"))

    assert applied(result) == {"priority": "1.25"}


def test_unknown_codes_are_named_and_a_code_unlocks_its_promotion(
        erp_client, promote, dry_run):
    promotion = promote(name="by code", automatic=False, action="amount_off",
                        target="order", amount="3")
    created = erp_client.post("/api/v1/promotions/coupons",
                              json={"code": "SAVE3", "promotion_id": promotion["id"]})
    assert created.status_code == 201, created.text

    without = dry_run(("mug", "1"))
    with_code = dry_run(("mug", "1"), coupon_codes=["save3", "NOPE"])

    assert applied(without) == {}
    assert applied(with_code) == {"by code": "3.00"}
    assert with_code["unknown_codes"] == ["NOPE"]


def test_a_campaigns_promotion_applies_only_to_orders_in_its_currency(
        erp_client, promote, dry_run):
    for currency in ("EUR", "USD"):
        campaign = erp_client.post("/api/v1/promotions/campaigns",
                                   json={"name": currency, "currency": currency})
        assert campaign.status_code == 201, campaign.text
        promote(name=f"1 off in {currency}", action="amount_off", target="order",
                amount="1", campaign_id=campaign.json()["id"])

    in_dollars = dry_run(("mug", "1"), currency="USD")
    in_euros = dry_run(("mug", "1"))

    assert applied(in_dollars) == {"1 off in USD": "1.00"}
    assert reasons(in_dollars) == {"1 off in EUR": "its campaign is in EUR, the order in USD"}
    assert applied(in_euros) == {"1 off in EUR": "1.00"}
