"""Wiring of the supply plugin: manifest, entities, permissions, routes, jobs, demo data."""

from __future__ import annotations

import datetime as dt

from erp_sdk import Entity, PluginManifest, hookimpl

# Each hook imports what it wires when it is called: reading the manifest (`erp plugins
# list`) loads no model, route or command of the plugin.

manifest = PluginManifest(
    name="supply",
    depends=("inventory",),
    requires_kernel=">=0.1,<1",
    description="Suppliers and prices, purchase orders, receipts, three-way matched bills,"
                " replenishment, supplier portal",
    # the subscribers of purchase orders, notices, bills, reorder rules and landed costs
    modules=("purchase_orders", "shipping_notices", "bills", "reorder_rules", "landed_costs"),
)

READ_ONLY = {"list", "get"}
NO_DELETE = {"list", "get", "create", "update"}


@hookimpl
def erp_add_hookspecs(pluginmanager):
    from erp_supply import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def erp_register_entities():
    from erp_supply.bills import BILL_WORKFLOW, Bill, BillLine, bill_number
    from erp_supply.purchase_orders import (
        LINE_READ_ONLY,
        PURCHASE_ORDER_WORKFLOW,
        PurchaseOrder,
        PurchaseOrderLine,
        purchase_order_number,
    )
    from erp_supply.receipts import Receipt, ReceiptLine
    from erp_supply.reorder_rules import ReorderRule
    from erp_supply.replenishment import Suggestion
    from erp_supply.shipping_notices import ShippingNotice, ShippingNoticeLine
    from erp_supply.suppliers import PriceBreak, PricePaid, Supplier, SupplierProduct

    return [
        Entity("supplier", Supplier, filterable=["code", "name", "currency", "active"],
               sortable=["code", "name"], operations=NO_DELETE,
               description="Suppliers: contacts, currency, payment terms and tolerances."),
        Entity("supplier_product", SupplierProduct,
               filterable=["supplier_id", "product_id", "supplier_sku", "valid_from",
                           "valid_to"],
               description="What a supplier sells: its SKU, currency, minimum order,"
                           " lead time, landed-cost terms and validity dates."),
        Entity("price_break", PriceBreak, filterable=["supplier_product_id"],
               sortable=["minimum_quantity"],
               description="Unit prices by quantity for a supplier product."),
        Entity("price_paid", PricePaid, operations=READ_ONLY,
               filterable=["supplier_id", "product_id", "purchase_order_id", "received_at"],
               sortable=["received_at"], description="The history of prices paid."),
        Entity("purchase_order", PurchaseOrder, workflow=PURCHASE_ORDER_WORKFLOW,
               derived_from_id={"number": purchase_order_number},
               read_only=["number", "untaxed_amount", "sent_at", "confirmed_at",
                          "backorder_of_id"],
               filterable=["number", "supplier_id", "warehouse_id", "state", "order_date",
                           "expected_date", "backorder_of_id"],
               sortable=["order_date", "expected_date", "number"], operations=NO_DELETE,
               description="Purchase orders, draft to received; cancel or close the rest."),
        Entity("purchase_order_line", PurchaseOrderLine, read_only=LINE_READ_ONLY,
               filterable=["order_id", "product_id", "expected_date"],
               description="Lines of purchase orders; they change only while in draft."),
        Entity("receipt", Receipt, operations=READ_ONLY,
               filterable=["purchase_order_id", "supplier_id", "warehouse_id", "received_on"],
               sortable=["received_on"], description="Goods received against an order."),
        Entity("receipt_line", ReceiptLine, operations=READ_ONLY,
               filterable=["receipt_id", "order_line_id", "product_id"]),
        Entity("shipping_notice", ShippingNotice, read_only=["state", "receipt_id"],
               filterable=["purchase_order_id", "supplier_id", "state", "expected_date"],
               operations=NO_DELETE,
               description="Advance shipping notices: what a supplier ships, and when."),
        Entity("shipping_notice_line", ShippingNoticeLine,
               filterable=["notice_id", "order_line_id"]),
        Entity("bill", Bill, workflow=BILL_WORKFLOW, derived_from_id={"number": bill_number},
               read_only=["number", "untaxed_amount", "tax_amount", "total", "due_date",
                          "hold_reason", "match_result"],
               filterable=["number", "supplier_id", "purchase_order_id", "state", "bill_date",
                           "due_date"],
               sortable=["bill_date", "due_date", "total"], operations=NO_DELETE,
               description="Supplier bills, matched three ways; `?state=on_hold` is the"
                           " hold queue."),
        Entity("bill_line", BillLine, read_only=["product_id", "amount", "tax_amount"],
               filterable=["bill_id", "order_line_id"]),
        Entity("reorder_rule", ReorderRule,
               filterable=["product_id", "warehouse_id", "method", "active"],
               description="Reorder rules per product and warehouse, fixed or computed."),
        Entity("suggestion", Suggestion, operations=READ_ONLY, hidden=["explanation"],
               filterable=["product_id", "warehouse_id", "supplier_id", "state",
                           "purchase_order_id", "created_at"],
               sortable=["created_at", "quantity"],
               description="Replenishment suggestions; `GET .../{id}/explanation` says why."),
    ]


@hookimpl
def erp_register_metrics():
    from erp_supply.metrics import supply_metrics

    return supply_metrics()


@hookimpl
def erp_register_permissions():
    from erp_supply.permissions import DECLARATIONS

    return DECLARATIONS


@hookimpl
def erp_register_routes():
    from erp_supply import api  # the web framework only when routes are wanted

    return api.ROUTES


@hookimpl
def erp_register_cli_commands():
    from erp_supply import cli

    return cli.COMMANDS


@hookimpl
def erp_register_jobs():
    from erp_sdk import Job
    from erp_supply.cli import replenish_everything

    return [Job("replenish", replenish_everything, every=dt.timedelta(hours=6),
                description="Replenish every reorder rule and propose draft purchase orders")]


@hookimpl
def erp_on_commit(kernel, events):
    """A low-stock alert of inventory replenishes its product in its warehouse."""
    low = {(event.payload["product_id"], event.payload["warehouse_id"]) for event in events
           if event.name == "inventory.stock.low"}
    if low:
        from erp_supply.replenishment import replenish_products

        replenish_products(kernel, low)


@hookimpl
def erp_load_demo_data(session, kernel):
    from erp_supply.demo import load_demo_data

    load_demo_data(session, kernel)
