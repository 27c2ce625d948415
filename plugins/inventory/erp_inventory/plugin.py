"""Wiring of the inventory plugin: manifest, entities, permissions, routes, demo data."""

from __future__ import annotations

from erp_sdk import Entity, Permission, PluginManifest, Role, hookimpl

# Each hook imports what it wires when it is called: reading the manifest (`erp plugins
# list`) loads no model, route or command of the plugin.

manifest = PluginManifest(
    name="inventory",
    requires_kernel=">=0.1,<1",
    description="Catalogue, warehouses, stock ledger, reservations, alerts, counts, transfers",
    # the subscribers of the count and transfer workflows, and the guard of locations
    # with stock history
    modules=("counts", "ledger", "transfers", "warehouses", "metrics"),
)

READ_ONLY = {"list", "get"}


@hookimpl
def erp_register_entities():
    from erp_inventory.alerts import StockAlert, StockLimit
    from erp_inventory.catalogue import Category, Product
    from erp_inventory.cost_adjustments import CostAdjustment
    from erp_inventory.counts import COUNT_WORKFLOW, StockCount, StockCountLine
    from erp_inventory.ledger import Move, StockLevel
    from erp_inventory.reservations import Reservation
    from erp_inventory.transfers import TRANSFER_WORKFLOW, Transfer, TransferLine
    from erp_inventory.warehouses import Location, Warehouse

    return [
        Entity("category", Category, collection="categories", filterable=["name", "parent_id"],
               sortable=["name"]),
        Entity("product", Product, read_only=["cost"],
               filterable=["sku", "name", "category_id", "barcode", "listed", "active",
                           "list_price", "updated_at"],
               sortable=["sku", "name", "list_price", "updated_at"],
               description="Products; `cost` is the moving average kept by the ledger."),
        Entity("warehouse", Warehouse, filterable=["code", "active"], sortable=["code"],
               operations={"list", "get", "create", "update"},
               description="Warehouses; a new one gets its storage, input and output"
                           " locations."),
        Entity("location", Location, filterable=["warehouse_id", "kind", "code"],
               sortable=["code"], operations={"list", "get", "create", "update"},
               description="Locations: storage, input and output ones belong to a warehouse,"
                           " virtual ones (supplier, customer, adjustment, transit, damaged)"
                           " to none. Once stock moved through a location its kind, its"
                           " warehouse and a virtual location's code stay."),
        Entity("move", Move, operations=READ_ONLY,
               filterable=["product_id", "from_location_id", "to_location_id", "origin",
                           "done_at"], sortable=["done_at"],
               description="The stock ledger: every change of stock, oldest first by id."),
        Entity("cost_adjustment", CostAdjustment, operations=READ_ONLY,
               filterable=["product_id", "origin", "done_at"], sortable=["done_at"],
               description="Cost that reached goods after their receipt (freight, duty):"
                           " the value it added to the units on hand and the share of"
                           " the units already gone."),
        Entity("stock_level", StockLevel, operations=READ_ONLY,
               filterable=["product_id", "warehouse_id", "available", "on_hand", "reserved"],
               sortable=["available", "on_hand"],
               description="On hand, reserved and available per product and warehouse."),
        Entity("reservation", Reservation, operations=READ_ONLY,
               filterable=["product_id", "warehouse_id", "origin", "state"]),
        Entity("stock_limit", StockLimit, filterable=["product_id", "warehouse_id"]),
        Entity("stock_alert", StockAlert, operations=READ_ONLY,
               filterable=["product_id", "warehouse_id", "kind", "cleared_at"],
               sortable=["raised_at"]),
        Entity("count", StockCount, workflow=COUNT_WORKFLOW, read_only=["snapshot_at",
                                                                         "posted_at"],
               filterable=["warehouse_id", "state"]),
        Entity("count_line", StockCountLine, read_only=["expected", "variance"],
               filterable=["count_id", "product_id"]),
        Entity("transfer", Transfer, workflow=TRANSFER_WORKFLOW,
               read_only=["shipped_at", "received_at"],
               filterable=["from_warehouse_id", "to_warehouse_id", "state"]),
        Entity("transfer_line", TransferLine, filterable=["transfer_id", "product_id"]),
    ]


STOCK_OPERATIONS = ("reserve", "release", "ship", "receive", "adjust")


@hookimpl
def erp_register_permissions():
    return [
        *(Permission(f"inventory.stock.{op}", f"{op.capitalize()} stock")
          for op in STOCK_OPERATIONS),
        Role("inventory.clerk", [
            "inventory.*.read", "inventory.stock.*", "inventory.count.*",
            "inventory.count_line.*", "inventory.transfer.*", "inventory.transfer_line.*",
        ], "Receives, ships, counts and transfers stock"),
        Role("inventory.manager", ["inventory.*"],
             "Everything in inventory: catalogue, prices, warehouses, limits"),
    ]


@hookimpl
def erp_register_routes():
    from erp_inventory import api  # the web framework only when routes are wanted

    return api.ROUTES


@hookimpl
def erp_register_cli_commands():
    from erp_inventory import cli

    return cli.COMMANDS


@hookimpl
def erp_load_demo_data(session, kernel):
    from erp_inventory.demo import load_demo_data

    load_demo_data(session, kernel)
