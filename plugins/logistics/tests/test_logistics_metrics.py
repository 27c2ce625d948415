"""The logistics metrics (LOG-4) as the reports plugin serves them: transit time, cost per
shipment and per kilogram, on-time and exception rates, by destination and by month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from test_shipments import label_and_hand_over, make_shipment

from erp_logistics.shipment import Shipment
from erp_logistics.tracking import record_events
from erp_sdk.drivers import TrackingEvent

QUERY = "/api/v1/reports/query"
METRICS = ["logistics.shipments", "logistics.shipping_cost", "logistics.cost_per_shipment",
           "logistics.cost_per_kg", "logistics.transit_days", "logistics.on_time_rate",
           "logistics.exception_rate"]
HANDED_OVER = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def erp_kernel(erp_kernel_factory):
    return erp_kernel_factory("logistics", "reports")


def delivered_after(kernel, shipment_id, hours):
    """Hand-over on HANDED_OVER, delivery ``hours`` later (set before ``deliver``, which
    keeps a delivery time it finds)."""
    with kernel.context() as ctx:
        ctx.session.execute(sa.update(Shipment).where(Shipment.id == shipment_id).values(
            handed_over_at=HANDED_OVER, delivered_at=HANDED_OVER + dt.timedelta(hours=hours)))
        ctx.fire("logistics.shipment", shipment_id, "deliver")


def shipped(client, order, kg):
    shipment = make_shipment(client, order["id"], packages=[{"weight_kg": kg}])
    return label_and_hand_over(client, shipment["id"])


def test_the_reports_api_serves_transit_cost_on_time_and_exceptions_by_country(
        kernel, erp_client, place_order, tablerate):
    france = shipped(erp_client, place_order("FR", tea=1, mug=0), "2")
    germany = shipped(erp_client, place_order("DE", tea=1, mug=0), "4")
    delivered_after(kernel, france["id"], 36)
    delivered_after(kernel, germany["id"], (germany["promised_transit_days"] + 1) * 24)
    with kernel.context() as ctx:
        [number] = ctx.session.scalars(sa.text(
            "SELECT tracking_number FROM logistics_package WHERE shipment_id = :id"),
            {"id": germany["id"]})
        record_events(ctx, tablerate["id"], [TrackingEvent(
            number, "exception", HANDED_OVER + dt.timedelta(days=1), event_id="x-1")])

    answer = erp_client.post(QUERY, json={"metrics": METRICS, "dimensions": ["country"]})

    assert answer.status_code == 200, answer.text
    rows = {row["country"]: row for row in answer.json()["rows"]}
    fr, de = rows["FR"], rows["DE"]
    assert (fr["logistics.shipments"], de["logistics.shipments"]) == (1, 1)
    for row, shipment, kg in ((fr, france, 2), (de, germany, 4)):
        cost = Decimal(shipment["quoted_amount"])
        assert Decimal(row["logistics.shipping_cost"]) == cost
        assert Decimal(row["logistics.cost_per_shipment"]) == cost
        assert Decimal(row["logistics.cost_per_kg"]) == (cost / kg).quantize(Decimal("0.0001"))
    assert Decimal(fr["logistics.transit_days"]) == Decimal("1.5")
    assert Decimal(de["logistics.transit_days"]) == germany["promised_transit_days"] + 1
    assert Decimal(fr["logistics.on_time_rate"]) == 1
    assert Decimal(de["logistics.on_time_rate"]) == 0
    assert Decimal(fr["logistics.exception_rate"]) == 0
    assert Decimal(de["logistics.exception_rate"]) == 1


def test_a_month_of_shipments_averages_its_deliveries_and_counts_the_undelivered(
        kernel, erp_client, place_order, tablerate):
    first = shipped(erp_client, place_order("FR", tea=1, mug=0), "1")
    second = shipped(erp_client, place_order("FR", tea=1, mug=0), "1")
    shipped(erp_client, place_order("FR", tea=1, mug=0), "1")  # on its way
    delivered_after(kernel, first["id"], 24)
    delivered_after(kernel, second["id"], 48)
    with kernel.context() as ctx:  # the one on its way left in November too
        ctx.session.execute(sa.update(Shipment).where(Shipment.handed_over_at > HANDED_OVER)
                            .values(handed_over_at=HANDED_OVER))

    answer = erp_client.post(QUERY, json={
        "metrics": ["logistics.shipments", "logistics.transit_days", "logistics.on_time_rate"],
        "dimensions": ["carrier"], "time_grain": "month", "time_zone": "UTC"})

    assert answer.status_code == 200, answer.text
    [row] = answer.json()["rows"]
    assert row["period"] == "2026-11-01" and row["carrier_label"] == "tablerate"
    assert row["logistics.shipments"] == 3
    assert Decimal(row["logistics.transit_days"]) == Decimal("1.5")
    assert Decimal(row["logistics.on_time_rate"]) == 1

