"""Logistics figures for every report (LOG-4), defined once: shipments, freight cost per
shipment and per kilogram, transit time, on-time and exception rates, cut by carrier,
service and destination country, and by month (or day, week) of the hand-over.

A shipment counts from its hand-over (outbound, ``handed_over`` or ``delivered``), dated
by it. Its transit days and whether it arrived within the promised days are recorded
when it is delivered (``erp_logistics.handover``), so the figures are plain aggregates
of its own row; its weight is the sum of its packages', and it had an exception when a
tracking event of one of its parcels said so (an exception, a failed attempt, a return
to sender), whether or not a later event overtook it.
"""

from __future__ import annotations

import sqlalchemy as sa

from erp_logistics.carriers import CarrierAccount
from erp_logistics.shipment import Package, Shipment, ShipmentKind, ShipmentState
from erp_logistics.tracking_event import TrackingRecord
from erp_sdk import Dimension, Join, Measure, Metric, MetricSource, Unit, hookimpl

TROUBLE = ("exception", "failed_attempt", "returned")
PERMISSION = "logistics.analytics.read"

shipment = Shipment.__table__
package = Package.__table__
account = CarrierAccount.__table__
tracking = TrackingRecord.__table__

_CARRIER = Join(account, account.c.id == shipment.c.carrier_account_id)

SHIPMENTS = MetricSource(
    "shipments",
    shipment,
    condition=sa.and_(shipment.c.kind == ShipmentKind.OUTBOUND,
                      shipment.c.state.in_([ShipmentState.HANDED_OVER,
                                            ShipmentState.DELIVERED])),
    time=shipment.c.handed_over_at,
    entities={"logistics.shipment": shipment},
    currency=shipment.c.currency,
    record=("logistics.shipment", shipment.c.id),
    dimensions=[
        Dimension("carrier", shipment.c.carrier_account_id, joins=[_CARRIER],
                  label=account.c.name, title="Carrier"),
        Dimension("service", shipment.c.service, title="Service"),
        Dimension("country", shipment.c.ship_country, title="Country"),
    ],
)

_WEIGHT = (sa.select(sa.func.sum(package.c.weight_kg))
           .where(package.c.shipment_id == shipment.c.id).scalar_subquery())
_TROUBLED = sa.exists().where(tracking.c.shipment_id == shipment.c.id,
                              tracking.c.status.in_(TROUBLE))
_COUNT = Measure.count(shipment.c.id)
_COST = Measure.sum(shipment.c.quoted_amount)


@hookimpl
def erp_register_metrics():
    return [
        Metric("shipments", "Shipments", _COUNT, SHIPMENTS, PERMISSION, Unit.COUNT,
               "Outbound shipments handed over to a carrier"),
        Metric("shipping_cost", "Shipping cost", _COST, SHIPMENTS, PERMISSION, Unit.MONEY,
               "The quoted cost of the labels"),
        Metric("cost_per_shipment", "Cost per shipment", Measure.ratio(_COST, _COUNT),
               SHIPMENTS, PERMISSION, Unit.MONEY),
        Metric("cost_per_kg", "Cost per kilogram",
               Measure.ratio(_COST, Measure.sum(_WEIGHT)), SHIPMENTS, PERMISSION, Unit.MONEY,
               "Shipping cost over the weight of the packages"),
        Metric("transit_days", "Transit time (days)", Measure.average(shipment.c.transit_days),
               SHIPMENTS, PERMISSION, Unit.NUMBER,
               "Days from hand-over to delivery, of the delivered shipments"),
        Metric("on_time_rate", "On-time rate",
               Measure.ratio(Measure.count(sa.case((shipment.c.on_time.is_(True),
                                                    shipment.c.id))),
                             Measure.count(shipment.c.on_time)),
               SHIPMENTS, PERMISSION, Unit.SHARE,
               "Delivered within the transit days the service promised"),
        Metric("exception_rate", "Exception rate",
               Measure.ratio(Measure.count(sa.case((_TROUBLED, shipment.c.id))), _COUNT),
               SHIPMENTS, PERMISSION, Unit.SHARE,
               "Shipments with an exception, failed attempt or return to sender"),
    ]
