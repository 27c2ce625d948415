"""Wiring of the logistics plugin: manifest, entities, permissions, hooks, routes."""

from __future__ import annotations

from erp_sdk import Entity, Permission, PluginManifest, Role, hookimpl

manifest = PluginManifest(
    name="logistics",
    depends=("orders", "inventory"),
    requires_kernel=">=0.1,<1",
    description="Shipments with packages, carriers chosen by rules, labels, tracking, freight",
    modules=("handover", "settlement", "charges", "metrics"),
)


@hookimpl
def erp_register_entities():
    from erp_logistics.carriers import CarrierAccount, CarrierService
    from erp_logistics.freight import (
        INVOICE_WORKFLOW,
        CarrierInvoice,
        CarrierInvoiceLine,
        ShippingChargePolicy,
    )
    from erp_logistics.rules import CarrierRule
    from erp_logistics.shipment import (
        SHIPMENT_WORKFLOW,
        Package,
        Shipment,
        ShipmentLine,
        shipment_number,
    )
    from erp_logistics.tracking_event import TrackingRecord

    return [
        Entity("carrier_account", CarrierAccount, write_only=["secrets"],
               filterable=["name", "driver", "active"], sortable=["name"]),
        Entity("carrier_service", CarrierService,
               filterable=["carrier_account_id", "code", "active"]),
        Entity("carrier_rule", CarrierRule, filterable=["action", "active", "country"],
               sortable=["sequence"]),
        Entity("shipment", Shipment, workflow=SHIPMENT_WORKFLOW,
               derived_from_id={"number": shipment_number},
               read_only=["number", "order_id", "kind", "return_of_id", "quoted_amount",
                          "currency",
                          "promised_transit_days", "rate_decision", "ship_country",
                          "tracking_status", "handed_over_at", "delivered_at", "transit_days",
                          "on_time"],
               filterable=["number", "order_id", "kind", "state", "carrier_account_id",
                           "tracking_status", "ship_country", "created_at"],
               sortable=["created_at", "number"], operations={"list", "get", "update"}),
        Entity("shipment_line", ShipmentLine, filterable=["shipment_id", "order_line_id"],
               operations={"list", "get", "update"},
               read_only=["shipment_id", "order_line_id", "quantity"]),
        Entity("package", Package, filterable=["shipment_id", "tracking_number", "label_state"],
               operations={"list", "get"}, hidden=["label_data"]),
        Entity("tracking_event", TrackingRecord,
               filterable=["shipment_id", "package_id", "tracking_number", "status"],
               sortable=["occurred_at"], operations={"list", "get"}),
        Entity("carrier_invoice", CarrierInvoice, workflow=INVOICE_WORKFLOW,
               filterable=["number", "carrier_account_id", "state", "invoice_date"],
               sortable=["invoice_date"], operations={"list", "get"}),
        Entity("carrier_invoice_line", CarrierInvoiceLine,
               filterable=["invoice_id", "shipment_id", "flag", "reviewed"],
               operations={"list", "get", "update"},
               read_only=["invoice_id", "tracking_number", "shipment_id", "order_id",
                          "billed_amount", "quoted_amount", "difference", "flag",
                          "description"]),
        Entity("shipping_charge_policy", ShippingChargePolicy, filterable=["channel_id"]),
    ]


@hookimpl
def erp_register_permissions():
    return [
        Permission("logistics.shipment.create", "Make shipments and returns from orders"),
        Permission("logistics.shipment.rate", "Shop a shipment's rates"),
        Permission("logistics.shipment.buy_labels", "Buy a shipment's labels"),
        Permission("logistics.shipment.void_labels", "Void a shipment's labels"),
        Permission("logistics.carrier_invoice.import", "Import carrier invoices"),
        Permission("logistics.analytics.read", "See transit times, costs and on-time rates"),
        Role("logistics.shipper", [
            "logistics.shipment.*", "logistics.package.read", "logistics.shipment_line.*",
            "logistics.tracking_event.read", "logistics.carrier_account.read",
            "logistics.carrier_service.read", "logistics.carrier_rule.read",
            "orders.order.read", "orders.order_line.read",
        ], "Packs, labels and hands over shipments"),
        Role("logistics.manager", ["logistics.*", "orders.order.read",
                                   "orders.order_line.read"],
             "Everything in logistics: carriers, rules, invoices"),
    ]


@hookimpl
def erp_register_routes():
    from erp_logistics import api, settlement_api

    return api.ROUTES + settlement_api.ROUTES


@hookimpl
def erp_register_jobs():
    from erp_logistics.tracking import TRACKING_JOBS

    return TRACKING_JOBS


@hookimpl
def erp_register_webhook_receivers():
    from erp_logistics.tracking import TRACKING_WEBHOOKS

    return [TRACKING_WEBHOOKS]


@hookimpl
def erp_load_demo_data(session, kernel):
    from erp_logistics import demo

    demo.load_demo_data(session, kernel)
