"""A shipment as a carrier sees it: the ``ShipmentRequest`` of the driver protocol, with
the recipient from the order, the parcels, and customs lines for cross-border parcels."""

from __future__ import annotations

from decimal import Decimal

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_logistics.accounts import AccountConfig
from erp_logistics.shipment import Package, Shipment, ShipmentKind, ShipmentLine
from erp_orders.order import Order, OrderLine
from erp_sdk.drivers import Address, Amount, CustomsLine, Parcel, ShipmentRequest


@attrs.frozen
class ShipmentFacts:
    """A shipment read in one transaction: enough to quote and label it after it."""

    shipment_id: int
    number: str
    kind: str
    state: str
    order_id: int
    channel_id: int
    currency: str
    recipient: Address
    packages: tuple[tuple[int, Parcel], ...]
    customs: tuple[CustomsLine, ...]

    @property
    def weight_kg(self) -> Decimal:
        return sum((parcel.weight_kg for _, parcel in self.packages), Decimal(0))

    @property
    def country(self) -> str:
        return self.recipient.country

    def request(self, account: AccountConfig, *, parcels: tuple[Parcel, ...] | None = None,
                service: str | None = None, idempotency_key: str | None = None,
                reference: str | None = None) -> ShipmentRequest:
        seller = account.sender(self.recipient.country)
        returning = self.kind == ShipmentKind.RETURN
        return ShipmentRequest(
            reference=reference or self.number,
            sender=self.recipient if returning else seller,
            recipient=seller if returning else self.recipient,
            parcels=parcels if parcels is not None else tuple(p for _, p in self.packages),
            service=service, idempotency_key=idempotency_key,
            customs=self.customs if self.recipient.country != seller.country else (),
            is_return=returning)


def _recipient(order: Order) -> Address:
    return Address(name=order.ship_name or "", line1=order.ship_line1 or "",
                   line2=order.ship_line2 or "", city=order.ship_city or "",
                   postal_code=order.ship_postal_code or "", region=order.ship_region or "",
                   country=order.ship_country or "")


def shipment_facts(session: Session, shipment: Shipment) -> ShipmentFacts:
    order = session.get(Order, shipment.order_id)
    assert order is not None  # a foreign key
    packages = tuple(
        (package.id, Parcel(package.weight_kg, package.length_cm, package.width_cm,
                            package.height_cm))
        for package in session.scalars(sa.select(Package).where(
            Package.shipment_id == shipment.id).order_by(Package.id)))
    customs = []
    for line, order_line in session.execute(
            sa.select(ShipmentLine, OrderLine)
            .join(OrderLine, OrderLine.id == ShipmentLine.order_line_id)
            .where(ShipmentLine.shipment_id == shipment.id).order_by(ShipmentLine.id)):
        value = line.customs_value
        if value is None:
            value = (order_line.line_total * line.quantity / order_line.quantity
                     ).quantize(Decimal("0.01"))
        customs.append(CustomsLine(
            description=order_line.description or order_line.sku or f"line {order_line.id}",
            quantity=line.quantity, value=Amount(value, order.currency),
            hs_code=line.hs_code or "", origin_country=line.origin_country or ""))
    return ShipmentFacts(shipment.id, shipment.number or "", shipment.kind, shipment.state,
                         order.id, order.channel_id, order.currency, _recipient(order),
                         packages, tuple(customs))
