"""Wiring of the orders plugin: manifest, entities, permissions, hooks, routes."""

from __future__ import annotations

from erp_orders import (
    channels_import,
    cli,
    delivery,
    demo,
    fulfilment,
    hookspecs,
    returns,
    tickets,
    totals,
    warehouse_change,
)
from erp_orders.channel import Channel
from erp_orders.order import ORDER_WORKFLOW, Order, OrderLine, order_number
from erp_orders.review import ReviewPolicy
from erp_sdk import Entity, Permission, PluginManifest, Role, hookimpl

manifest = PluginManifest(
    name="orders",
    depends=("inventory", "crm"),
    requires_kernel=">=0.1,<1",
    description="Sales orders from every channel: review, fulfilment, returns, timeline",
)

# Workflow and write subscribers live in their concept modules; pluggy finds them here.
review_or_approve = fulfilment.review_or_approve
reserve_stock = fulfilment.reserve_stock
rejection_needs_a_reason = fulfilment.rejection_needs_a_reason
release_stock = fulfilment.release_stock
ship_lines = fulfilment.ship_lines
record_the_purchase = fulfilment.record_the_purchase
nothing_shipped_yet = fulfilment.nothing_shipped_yet
lines_change_only_in_draft = totals.lines_change_only_in_draft
line_changed = totals.line_changed
order_changed = totals.order_changed
push_to_channels_after_commit = channels_import.push_to_channels_after_commit  # erp_on_commit
check_return_request = returns.check_return_request
check_return_line = returns.check_return_line
recheck_quantities_on_approval = returns.recheck_quantities_on_approval
rejecting_a_return_needs_a_reason = returns.rejecting_a_return_needs_a_reason
receive_returned_goods = returns.receive_returned_goods
record_the_refund = returns.record_the_refund
place_the_replacement_order = returns.place_the_replacement_order
confirm_is_true_or_false = returns.confirm_is_true_or_false
tickets_stay_with_their_order = tickets.tickets_stay_with_their_order
log_the_new_ticket = tickets.log_the_new_ticket
satisfaction_is_1_to_5 = tickets.satisfaction_is_1_to_5
record_the_satisfaction = tickets.record_the_satisfaction
satisfaction_only_when_closing = tickets.satisfaction_only_when_closing
forget_the_satisfaction = tickets.forget_the_satisfaction
confirmed_orders_keep_an_address = delivery.confirmed_orders_keep_an_address
warehouse_changes_only_before_shipping = warehouse_change.warehouse_changes_only_before_shipping
move_reservations = warehouse_change.move_reservations

TOTALS = ["subtotal", "discount_total", "tax_total", "total"]


@hookimpl
def erp_add_hookspecs(pluginmanager):
    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def erp_register_entities():
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
                          "quantity_shipped", "quantity_returned"]),
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
            "orders.order.ship", "orders.order.complete", "orders.order.cancel",
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
def erp_register_cli_commands():
    return cli.COMMANDS


@hookimpl
def erp_load_demo_data(session, kernel):
    demo.load_demo_data(session, kernel)
