"""Wiring of the orders plugin: manifest, entities, permissions, hooks, routes."""

from __future__ import annotations

from erp_sdk import Entity, Permission, PluginManifest, Role, hookimpl

# Each hook imports what it wires when it is called: reading the manifest (`erp plugins
# list`) loads no model, route or command of the plugin.

manifest = PluginManifest(
    name="orders",
    depends=("inventory", "crm"),
    requires_kernel=">=0.1,<1",
    description="Sales orders from every channel: review, fulfilment, returns, timeline",
    # the workflow and write subscribers, and the channels' push after commit
    modules=("fulfilment", "totals", "returns", "tickets", "channels_import", "delivery",
             "warehouse_change", "metrics"),
)

TOTALS = ["subtotal", "discount_total", "tax_total", "total", "shipping_discount",
          "order_discount"]


@hookimpl
def erp_add_hookspecs(pluginmanager):
    from erp_orders import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def erp_register_entities():
    from erp_orders import returns, tickets
    from erp_orders.channel import Channel
    from erp_orders.order import ORDER_WORKFLOW, Order, OrderLine, order_number
    from erp_orders.review import ReviewPolicy

    return [
        Entity("channel", Channel, write_only=["secrets"], filterable=["code", "kind", "active"],
               sortable=["code"], read_only=["import_cursor"]),
        Entity("order", Order, workflow=ORDER_WORKFLOW, derived_from_id={"number": order_number},
               read_only=["number", "placed_at", "review_reasons", "split_from_id",
                          "merged_into_id", *TOTALS],
               filterable=["number", "channel_id", "external_reference", "customer_id",
                           "state", "warehouse_id", "placed_at", "total", "currency"],
               sortable=["placed_at", "total", "number"],
               operations={"list", "get", "create", "update"},
               description="Sales orders; amounts are rounded half up per line (see docs)."),
        Entity("order_line", OrderLine, filterable=["order_id", "product_id", "sku"],
               read_only=["sku", "description", "line_net", "line_tax", "line_total",
                          "quantity_shipped", "quantity_returned", "promotion_discount",
                          "gift"]),
        Entity("review_policy", ReviewPolicy, filterable=["rule"]),
        *returns.ENTITIES,
        *tickets.ENTITIES,
    ]


@hookimpl
def erp_register_permissions():
    return [
        Permission("orders.order.split", "Split an order into two"),
        Permission("orders.ticket_message.create", "Post a message on an after-sales ticket"),
        Role("orders.clerk", [
            "orders.order.read", "orders.order.create", "orders.order.update",
            "orders.order.confirm", "orders.order.hold", "orders.order.release",
            "orders.order.ship", "orders.order.deliver", "orders.order.complete",
            "orders.order.cancel",
            "orders.order_line.*", "orders.channel.read", "orders.review_policy.read",
            "inventory.product.read", "inventory.stock_level.read", "crm.customer.read",
            "orders.return_request.read", "orders.return_request.create",
            "orders.return_request.update", "orders.return_request.receive",
            "orders.return_request.cancel", "orders.return_line.*", "orders.ticket.*",
            "orders.ticket_message.*",
        ], "Enters and fulfils orders, takes returns in and answers tickets"),
        Role("orders.reviewer", [
            "orders.order.read", "orders.order.approve", "orders.order.reject",
            "orders.order_line.read", "orders.review_policy.read", "crm.customer.read",
        ], "Approves or rejects orders sent to review"),
        Role("orders.manager", ["orders.*", "inventory.*.read", "crm.customer.read"],
             "Everything in orders, including channels and review rules"),
    ]


@hookimpl
def erp_register_routes():
    # The web framework is imported only when routes are wanted, not to read the manifest.
    from erp_orders import after_sales_api, api, channels_api
    from erp_orders.split_merge_api import SPLIT_MERGE_ROUTES

    return api.ROUTES + SPLIT_MERGE_ROUTES + after_sales_api.ROUTES + channels_api.ROUTES


@hookimpl
def erp_register_jobs():
    from erp_orders.channels_jobs import CHANNEL_JOBS

    return CHANNEL_JOBS


@hookimpl
def erp_register_webhook_receivers():
    from erp_orders.channels_webhook import ORDER_WEBHOOKS

    return [ORDER_WEBHOOKS]


@hookimpl
def erp_register_cli_commands():
    from erp_orders import cli

    return cli.COMMANDS


@hookimpl(optionalhook=True)
def erp_supply_sales_channels(session, origins):
    """Supply's replenishment asks which channel sold a shipment: the order's channel."""
    from erp_orders.channel import channels_of_origins

    return channels_of_origins(session, origins)


@hookimpl
def erp_load_demo_data(session, kernel):
    from erp_orders import demo

    demo.load_demo_data(session, kernel)
