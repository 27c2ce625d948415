"""Logistics analytics (LOG-4): per carrier, service, destination country or month, the
number of shipments, transit time, cost per shipment and per kilogram, the on-time rate
against the promised transit days, and the exception rate."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from erp_logistics.carriers import CarrierAccount
from erp_logistics.shipment import Package, Shipment, ShipmentKind, ShipmentState
from erp_logistics.tracking_event import TrackingRecord
from erp_sdk import Context, ValidationError

GROUPINGS = ("carrier", "service", "country", "month")
TROUBLE = ("exception", "failed_attempt", "returned")


def _ratio(part: Decimal | int, whole: Decimal | int) -> str | None:
    return None if not whole else str((Decimal(part) / Decimal(whole)).quantize(
        Decimal("0.0001")))


def shipment_analytics(ctx: Context, group_by: str) -> list[dict[str, Any]]:
    ctx.principal.require("logistics.analytics.read")
    if group_by not in GROUPINGS:
        raise ValidationError(f"group_by must be one of {', '.join(GROUPINGS)}",
                              {"group_by": "unknown grouping"})
    weights = sa.select(Package.shipment_id, sa.func.sum(Package.weight_kg).label("kg")) \
        .group_by(Package.shipment_id).subquery()
    troubled = sa.select(TrackingRecord.shipment_id).where(
        TrackingRecord.status.in_(TROUBLE)).distinct().subquery()
    rows = ctx.session.execute(
        sa.select(Shipment, CarrierAccount.name, weights.c.kg,
                  troubled.c.shipment_id.is_not(None).label("troubled"))
        .join(CarrierAccount, CarrierAccount.id == Shipment.carrier_account_id)
        .outerjoin(weights, weights.c.shipment_id == Shipment.id)
        .outerjoin(troubled, troubled.c.shipment_id == Shipment.id)
        .where(Shipment.kind == ShipmentKind.OUTBOUND,
               Shipment.state.in_([ShipmentState.HANDED_OVER, ShipmentState.DELIVERED])))
    groups: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "shipments": 0, "delivered": 0, "transit_days_total": Decimal(0), "on_time": 0,
        "promised": 0, "cost": Decimal(0), "kg": Decimal(0), "exceptions": 0})
    for shipment, carrier, kg, is_troubled in rows:
        key = {"carrier": carrier, "service": f"{carrier} {shipment.service}",
               "country": shipment.ship_country or "",
               "month": (shipment.handed_over_at or shipment.created_at).strftime("%Y-%m")
               }[group_by]
        group = groups[key]
        group["shipments"] += 1
        group["cost"] += shipment.quoted_amount or 0
        group["kg"] += Decimal(str(kg or 0))
        group["exceptions"] += bool(is_troubled)
        if shipment.delivered_at and shipment.handed_over_at:
            days = Decimal((shipment.delivered_at - shipment.handed_over_at).total_seconds()) \
                / 86400
            group["delivered"] += 1
            group["transit_days_total"] += days
            if shipment.promised_transit_days is not None:
                group["promised"] += 1
                group["on_time"] += days <= shipment.promised_transit_days
    return [{
        group_by: key, "shipments": g["shipments"], "delivered": g["delivered"],
        "average_transit_days": str((g["transit_days_total"] / g["delivered"]).quantize(
            Decimal("0.01"))) if g["delivered"] else None,
        "cost_total": str(g["cost"]),
        "cost_per_shipment": str((g["cost"] / g["shipments"]).quantize(Decimal("0.01"))),
        "cost_per_kg": str((g["cost"] / g["kg"]).quantize(Decimal("0.01"))) if g["kg"] else None,
        "on_time_rate": _ratio(g["on_time"], g["promised"]),
        "exception_rate": _ratio(g["exceptions"], g["shipments"]),
    } for key, g in sorted(groups.items())]
