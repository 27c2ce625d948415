"""Coupon uses and budgets hold under concurrent placements: many orders race for a code
limited to a few uses and a campaign budget, through a real HTTP server on PostgreSQL;
exactly the limit succeeds, the others are refused with 409 and leave nothing behind."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa

from erp_orders.order import Order
from erp_promotions.redemption import Redemption
from erp_sdk.testing import serve

pytestmark = [pytest.mark.erp_plugins("promotions"), pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.skipif(not os.environ.get("ERP_TEST_DATABASE_URL"),
                                 reason="needs ERP_TEST_DATABASE_URL (PostgreSQL)")]

ATTEMPTS, LIMIT, BUDGET_USES = 40, 7, 12


def test_exactly_the_limit_of_concurrent_redemptions_succeeds(
        erp_app, erp_client, erp_token, kernel, promote, shop):
    campaign = erp_client.post("/api/v1/promotions/campaigns",
                               json={"name": "race", "budget_uses": BUDGET_USES}).json()
    promotion = promote(name="hot code", automatic=False, action="amount_off", amount="1",
                        campaign_id=campaign["id"])
    for code in ("HOT", "WARM"):
        created = erp_client.post("/api/v1/promotions/coupons", json={
            "code": code, "promotion_id": promotion["id"], "usage_limit": LIMIT})
        assert created.status_code == 201, created.text
    token = erp_token("admin")

    with serve(erp_app) as base, httpx.Client(base_url=base, timeout=60, headers={
            "Authorization": f"Bearer {token}"}) as client:
        def attempt(number):
            return client.post("/api/v1/orders/place", json={
                "channel_id": shop["channel"], "customer_id": shop["customer"],
                "coupon_codes": ["HOT" if number % 2 else "WARM"],
                "lines": [{"product_id": shop["tea"], "quantity": "1"}]}).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(attempt, range(ATTEMPTS)))

    # each code may be used 7 times (14 in all), the campaign 12 times: 12 orders succeed
    assert sorted(set(statuses)) == [201, 409], statuses
    assert statuses.count(201) == BUDGET_USES
    with kernel.transaction() as session:
        orders = session.scalar(sa.select(sa.func.count()).select_from(Order))
        redemptions = session.scalar(sa.select(sa.func.count()).select_from(Redemption))
    assert orders == redemptions == BUDGET_USES
    coupons = erp_client.get("/api/v1/promotions/coupons").json()["items"]
    assert sum(c["used"] for c in coupons) == BUDGET_USES
    assert all(c["used"] <= LIMIT for c in coupons)
    spent = erp_client.get(f"/api/v1/promotions/campaigns/{campaign['id']}").json()
    assert (spent["uses"], Decimal(spent["spent"])) == (BUDGET_USES, Decimal(BUDGET_USES))
