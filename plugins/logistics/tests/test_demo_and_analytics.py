"""The logistics demo data (after the CRM's, inventory's and orders') and the analytics
computed from it through the API."""

from __future__ import annotations

import sqlalchemy as sa

from erp_logistics.freight import CarrierInvoice, CarrierInvoiceLine
from erp_logistics.shipment import Package, Shipment

API = "/api/v1/logistics"


def load_demo(kernel) -> None:
    with kernel.transaction() as session:
        kernel.contribute("erp_load_demo_data", session=session, kernel=kernel)


def test_the_demo_has_shipments_in_every_status_and_an_invoice_with_discrepancies(
        kernel, erp_client):
    load_demo(kernel)
    with kernel.transaction() as session:
        states = set(session.scalars(sa.select(Shipment.state)))
        statuses = set(session.scalars(sa.select(Package.tracking_status)))
        labels = session.scalar(sa.select(sa.func.count()).select_from(Package).where(
            Package.label_data.is_not(None)))
        flags = set(session.scalars(sa.select(CarrierInvoiceLine.flag)))
        invoices = session.scalar(sa.select(sa.func.count()).select_from(CarrierInvoice))
    assert {"labelled", "handed_over", "delivered"} <= states
    assert statuses == {"pending", "in_transit", "out_for_delivery", "failed_attempt",
                        "exception", "returned", "delivered"}
    assert labels >= 10 and invoices == 1
    assert {None, "over_tolerance", "duplicate", "no_shipment"} <= flags

    by_carrier = erp_client.get(f"{API}/analytics", params={"group_by": "carrier"}).json()
    [tablerate] = by_carrier["items"]
    assert tablerate["carrier"] == "tablerate" and tablerate["delivered"] >= 3
    assert tablerate["on_time_rate"] is not None
    assert tablerate["exception_rate"] is not None and tablerate["cost_per_kg"] is not None
    by_country = erp_client.get(f"{API}/analytics", params={"group_by": "country"}).json()
    assert sum(g["shipments"] for g in by_country["items"]) == tablerate["shipments"]
    assert erp_client.get(f"{API}/analytics", params={"group_by": "x"}).status_code == 422
