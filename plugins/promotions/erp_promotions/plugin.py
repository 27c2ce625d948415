"""Wiring of the promotions plugin: manifest, entities, permissions, hooks, routes."""

from __future__ import annotations

from erp_sdk import Permission, PluginManifest, Role, hookimpl

# Each hook imports what it wires when it is called: reading the manifest loads nothing.

manifest = PluginManifest(
    name="promotions",
    depends=("orders", "crm", "inventory"),
    requires_kernel=">=0.1,<1",
    description="Promotions, coupons and campaign budgets, applied to orders through"
                " their pricing hook; explained, simulated and measured",
    modules=("checks", "release", "metrics"),
)


@hookimpl
def erp_register_entities():
    from erp_promotions.coupon import Coupon, CouponBatch
    from erp_promotions.promotion import Campaign, Promotion
    from erp_sdk import Entity

    return [
        Entity("campaign", Campaign, read_only=["spent", "uses"],
               filterable=["name", "currency"], sortable=["name", "created_at"],
               operations={"list", "get", "create", "update"},
               description="A budget on spend and on uses shared by its promotions"),
        Entity("promotion", Promotion,
               filterable=["status", "automatic", "campaign_id", "action", "priority",
                           "exclusive", "name"],
               sortable=["priority", "created_at", "name"],
               operations={"list", "get", "create", "update"},
               description="A discount rule: conditions, one action, stacking and limits"),
        Entity("coupon", Coupon, read_only=["used", "batch_id"],
               filterable=["code", "promotion_id", "batch_id", "active"],
               sortable=["code", "created_at"], operations={"list", "get", "create", "update"},
               description="A code that unlocks a promotion, with its own usage limit"),
        Entity("coupon_batch", CouponBatch, filterable=["promotion_id"],
               operations={"list", "get"},
               description="Codes generated from a pattern: POST"
                           " /api/v1/promotions/promotions/{id}/coupon-batches"),
    ]


@hookimpl
def erp_register_permissions():
    return [
        Permission("promotions.results.read", "See what promotions gave and brought"),
        Role("promotions.manager", ["promotions.*", "orders.order.read",
                                    "inventory.product.read", "crm.customer.read",
                                    "crm.segment.read"],
             "Runs promotions, campaigns and coupons"),
    ]


@hookimpl
def erp_register_routes():
    from erp_promotions import api

    return api.ROUTES


@hookimpl
def erp_orders_price_order(ctx, cart):
    from erp_promotions.pricing import price_order

    return price_order(ctx, cart)


@hookimpl
def erp_orders_order_priced(ctx, order_id, line_ids, pricing):
    from erp_promotions.pricing import record_pricing

    record_pricing(ctx, order_id, line_ids, pricing)


@hookimpl
def erp_register_cli_commands():
    from erp_promotions import cli

    return cli.COMMANDS


@hookimpl
def erp_load_demo_data(session, kernel):
    from erp_promotions import demo

    demo.load_demo_data(session, kernel)
