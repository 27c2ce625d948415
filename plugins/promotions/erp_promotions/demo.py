"""Demo data for ``erp demo``: a winter campaign with a budget, automatic promotions
(10 % off orders from 100 EUR, free shipping from 50 EUR, 3 for 2 in a category), a
welcome code for first orders, a batch of single-use newsletter codes and a gift being
drafted. The same on every run; the dates follow today."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_inventory.catalogue import Category, Product
from erp_promotions.coupon import Coupon, CouponBatch
from erp_promotions.promotion import Campaign, Promotion
from erp_sdk import Kernel, insert_rows, utcnow


def load_demo_data(session: Session, kernel: Kernel) -> None:
    today = utcnow().date()
    category = session.scalar(sa.select(Category.id).order_by(Category.id).limit(1))
    gift = session.scalar(sa.select(Product.id).where(Product.currency == "EUR")
                          .order_by(Product.list_price, Product.id).limit(1))
    [campaign] = insert_rows(session, Campaign, [
        {"name": "Winter sale", "currency": "EUR", "budget_amount": Decimal(2000),
         "budget_uses": 500, "spent": Decimal(0), "uses": 0}])
    common = {"status": "active", "priority": 0, "exclusive": False, "first_order": False,
              "target": "items", "allocation": "each", "timezone": "Europe/Berlin",
              "starts_on": today - dt.timedelta(days=7), "ends_on": today + dt.timedelta(days=30)}
    promotions = [
        {**common, "name": "10 % off orders from 100 EUR", "automatic": True,
         "campaign_id": campaign, "action": "percentage_off", "target": "order",
         "allocation": "across", "percentage": Decimal("0.10"), "min_subtotal": Decimal(100)},
        {**common, "name": "Free shipping from 50 EUR", "automatic": True,
         "action": "free_shipping", "min_subtotal": Decimal(50)},
        {**common, "name": "3 for 2 (cheapest free)", "automatic": True, "priority": 10,
         "exclusive": True, "campaign_id": campaign, "action": "buy_x_get_y",
         "buy_quantity": 2, "get_quantity": 1,
         "category_ids": [category] if category else None},
        {**common, "name": "Welcome: 15 % off your first order", "automatic": False,
         "action": "percentage_off", "percentage": Decimal("0.15"), "first_order": True,
         "per_customer_limit": 1},
        {**common, "name": "Newsletter: 5 EUR off", "automatic": False,
         "action": "amount_off", "target": "order", "allocation": "across",
         "amount": Decimal(5), "min_subtotal": Decimal(30)},
        {**common, "name": "Free gift from 150 EUR", "status": "draft", "automatic": True,
         "action": "gift", "gift_product_id": gift, "gift_quantity": Decimal(1),
         "min_subtotal": Decimal(150)},
    ]
    fields = sorted({key for promotion in promotions for key in promotion})
    ids = insert_rows(session, Promotion, [{key: promotion.get(key) for key in fields}
                                           for promotion in promotions])
    welcome, newsletter = ids[3], ids[4]
    [batch] = insert_rows(session, CouponBatch, [
        {"promotion_id": newsletter, "pattern": "NEWS-####-??", "count": 20,
         "usage_limit": 1}])
    rng = random.Random(7)
    codes = sorted({"NEWS-" + "".join(rng.choice("23456789") for _ in range(4)) + "-"
                    + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(2))
                    for _ in range(20)})
    insert_rows(session, Coupon, [
        {"code": "WELCOME15", "promotion_id": welcome, "batch_id": None, "usage_limit": None,
         "used": 0, "active": True},
        *({"code": code, "promotion_id": newsletter, "batch_id": batch, "usage_limit": 1,
           "used": 0, "active": True} for code in codes)])

