"""The plugin itself: its migrations create exactly its models, and the demo has running
promotions and coupons that price the demo shop's carts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from erp_promotions.coupon import Coupon
from erp_promotions.promotion import Promotion
from erp_sdk.testing import assert_migrations_match_models

pytestmark = pytest.mark.erp_plugins("promotions")


def test_the_migrations_create_exactly_the_models(erp_kernel):
    assert_migrations_match_models(erp_kernel, "promotions")
    assert_migrations_match_models(erp_kernel, "orders")


def test_the_demo_runs_promotions_and_coupons_that_apply(erp_kernel, erp_client):
    with erp_kernel.transaction() as session:
        erp_kernel.contribute("erp_load_demo_data", session=session, kernel=erp_kernel)
    with erp_kernel.transaction() as session:
        active = session.scalar(sa.select(sa.func.count()).select_from(Promotion).where(
            Promotion.status == "active"))
        coupons = session.scalar(sa.select(sa.func.count()).select_from(Coupon))
    assert active >= 4 and coupons >= 20
    orders = erp_client.get("/api/v1/orders/orders", params={"state": "draft", "limit": 1})
    order = orders.json()["items"][0]
    line = erp_client.get("/api/v1/orders/order-lines",
                          params={"order_id": order["id"], "limit": 1}).json()["items"][0]
    cart = {"channel_id": order["channel_id"], "customer_id": order["customer_id"],
            "lines": [{"product_id": line["product_id"], "quantity": "20"}],
            "shipping_amount": "5.00", "coupon_codes": ["WELCOME15"]}
    result = erp_client.post("/api/v1/promotions/dry-run", json=cart)
    assert result.status_code == 200, result.text
    assert result.json()["applied"], result.json()
