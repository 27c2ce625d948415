"""Making shipments from orders: which lines (all that remain, or chosen ones; several
shipments per order), their customs data, and the packages they travel in."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa

from erp_inventory.catalogue import Product
from erp_logistics.shipment import (
    Package,
    Shipment,
    ShipmentKind,
    ShipmentLine,
    ShipmentState,
    shipment_number,
)
from erp_orders.order import Order, OrderLine, OrderState
from erp_sdk import (
    ConflictError,
    Context,
    ListOf,
    Nested,
    NotFoundError,
    ValidationError,
    identifier,
    money,
    quantity,
    text,
    typed_field,
)

SHIPPABLE_ORDER_STATES = (OrderState.CONFIRMED, OrderState.PARTIALLY_SHIPPED)
OPEN_SHIPMENT_STATES = (ShipmentState.DRAFT, ShipmentState.LABELLED)
DEFAULT_WEIGHT_KG = Decimal("0.5")
"""A package's weight when neither the caller nor the products say it."""


@attrs.frozen
class LineRequest:
    """A line to ship: the order line, how much of it, and its customs data."""

    order_line_id: int = typed_field(identifier())
    quantity: Decimal | None = typed_field(quantity("positive"), default=None, nullable=True)
    hs_code: str | None = typed_field(text(12), default=None, nullable=True)
    origin_country: str | None = typed_field(text(2), default=None, nullable=True)
    customs_value: Decimal | None = typed_field(money("non_negative"), default=None,
                                                nullable=True)


@attrs.frozen
class PackageRequest:
    """A parcel: its weight, dimensions and what it holds (order line id -> quantity)."""

    weight_kg: Decimal = typed_field(quantity("positive"))
    length_cm: Decimal | None = typed_field(quantity("positive"), default=None, nullable=True)
    width_cm: Decimal | None = typed_field(quantity("positive"), default=None, nullable=True)
    height_cm: Decimal | None = typed_field(quantity("positive"), default=None, nullable=True)
    contents: tuple[LineRequest, ...] = typed_field(ListOf(Nested(LineRequest)), default=())


@attrs.frozen
class NewShipment:
    """The body of ``POST /logistics/shipments``: the order, the lines (none: every line
    with something left to ship) and the packages (none: one, weighed from the products)."""

    order_id: int = typed_field(identifier())
    lines: tuple[LineRequest, ...] = typed_field(ListOf(Nested(LineRequest)), default=())
    packages: tuple[PackageRequest, ...] = typed_field(ListOf(Nested(PackageRequest)),
                                                       default=())


def _in_open_shipments(ctx: Context, order_id: int) -> dict[int, Decimal]:
    """What open (not yet handed over) outbound shipments of the order already take."""
    rows = ctx.session.execute(
        sa.select(ShipmentLine.order_line_id, sa.func.sum(ShipmentLine.quantity))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.order_id == order_id, Shipment.kind == ShipmentKind.OUTBOUND,
               Shipment.state.in_(OPEN_SHIPMENT_STATES))
        .group_by(ShipmentLine.order_line_id))
    return {line_id: Decimal(str(total)) for line_id, total in rows}


def _locked_order(ctx: Context, order_id: int) -> Order:
    order = ctx.session.scalar(sa.select(Order).where(Order.id == order_id)
                               .with_for_update(key_share=True))
    if order is None:
        raise NotFoundError(f"orders.order {order_id} does not exist")
    return order


def create_shipment(ctx: Context, request: NewShipment) -> dict[str, Any]:
    """A draft shipment of the order's chosen lines (or all it has left to ship that no
    open shipment takes), packed as asked. The order is locked while its quantities are
    counted, so two shipments made at once never take the same units."""
    ctx.principal.require("logistics.shipment.create")
    order = _locked_order(ctx, request.order_id)
    if order.state not in SHIPPABLE_ORDER_STATES:
        raise ConflictError(f"order {order.number} is {order.state}: only a confirmed or"
                            " partially shipped order ships")
    lines = {line.id: line for line in ctx.session.scalars(
        sa.select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id))}
    taken = _in_open_shipments(ctx, order.id)
    available = {line_id: line.quantity - line.quantity_shipped - taken.get(line_id, 0)
                 for line_id, line in lines.items()}
    wanted = list(request.lines) or [LineRequest(line_id) for line_id, left
                                     in available.items() if left > 0]
    if not wanted:
        raise ConflictError(f"order {order.number} has nothing left to ship outside its"
                            " open shipments")
    chosen: dict[int, LineRequest] = {}
    quantities: dict[int, Decimal] = {}
    for index, line in enumerate(wanted):
        if line.order_line_id not in lines:
            raise ValidationError(f"line {line.order_line_id} is not on order {order.number}",
                                  {f"lines[{index}].order_line_id": "not on this order"})
        left = available[line.order_line_id] - quantities.get(line.order_line_id, 0)
        qty = line.quantity if line.quantity is not None else left
        if not 0 < qty <= left:
            raise ValidationError(
                f"line {line.order_line_id} has {left:f} left to ship outside open shipments",
                {f"lines[{index}].quantity": "more than is left to ship"})
        quantities[line.order_line_id] = quantities.get(line.order_line_id, 0) + qty
        chosen[line.order_line_id] = line
    shipment = ctx.records("logistics.shipment").create(
        {}, computed={"order_id": order.id, "kind": ShipmentKind.OUTBOUND,
                                          "ship_country": order.ship_country,
                                          "currency": order.currency})
    _add_lines(ctx, shipment["id"], chosen, quantities)
    _add_packages(ctx, shipment["id"], request.packages, lines, quantities)
    return shipment


def _add_lines(ctx: Context, shipment_id: int, chosen: dict[int, LineRequest],
               quantities: dict[int, Decimal]) -> None:
    for line_id, qty in quantities.items():
        line = chosen[line_id]
        ctx.session.add(ShipmentLine(
            shipment_id=shipment_id, order_line_id=line_id, quantity=qty,
            hs_code=line.hs_code, origin_country=(line.origin_country or "").upper() or None,
            customs_value=line.customs_value, version=1))
    ctx.session.flush()


def _products_weight(ctx: Context, lines: dict[int, OrderLine],
                     quantities: dict[int, Decimal]) -> Decimal:
    weights = dict(ctx.session.execute(
        sa.select(Product.id, Product.weight_kg).where(
            Product.id.in_({lines[line_id].product_id for line_id in quantities}))).all())
    total = sum((Decimal(str(weights.get(lines[line_id].product_id) or 0)) * qty
                 for line_id, qty in quantities.items()), Decimal(0))
    return total if total > 0 else DEFAULT_WEIGHT_KG


def _add_packages(ctx: Context, shipment_id: int, packages: Sequence[PackageRequest],
                  lines: dict[int, OrderLine], quantities: dict[int, Decimal]) -> None:
    if not packages:
        ctx.session.add(Package(
            shipment_id=shipment_id, weight_kg=_products_weight(ctx, lines, quantities),
            contents=[{"order_line_id": line_id, "quantity": str(qty)}
                      for line_id, qty in quantities.items()], version=1))
        ctx.session.flush()
        return
    for index, package in enumerate(packages):
        for item in package.contents:
            if item.order_line_id not in quantities:
                raise ValidationError(
                    f"package {index + 1} holds line {item.order_line_id}, which the"
                    " shipment does not ship",
                    {f"packages[{index}].contents": "line not in the shipment"})
        ctx.session.add(Package(
            shipment_id=shipment_id, weight_kg=package.weight_kg, length_cm=package.length_cm,
            width_cm=package.width_cm, height_cm=package.height_cm,
            contents=[{"order_line_id": item.order_line_id,
                       "quantity": str(item.quantity if item.quantity is not None
                                       else quantities[item.order_line_id])}
                      for item in package.contents] or None, version=1))
    ctx.session.flush()


@attrs.frozen
class NewReturn:
    """The body of ``POST /logistics/shipments/{id}/return``: the lines coming back
    (none: everything the shipment carried) and their parcel's weight."""

    lines: tuple[LineRequest, ...] = typed_field(ListOf(Nested(LineRequest)), default=())
    weight_kg: Decimal | None = typed_field(quantity("positive"), default=None, nullable=True)


def create_return(ctx: Context, shipment_id: int, request: NewReturn) -> dict[str, Any]:
    """A return shipment for goods of a handed-over (or delivered) shipment, coming back
    to the seller on a return label; it moves no stock (the order's return request
    receives the goods)."""
    ctx.principal.require("logistics.shipment.create")
    original = ctx.session.get(Shipment, shipment_id)
    if original is None:
        raise NotFoundError(f"logistics.shipment {shipment_id} does not exist")
    if original.kind != ShipmentKind.OUTBOUND or original.state not in (
            ShipmentState.HANDED_OVER, ShipmentState.DELIVERED):
        raise ConflictError(f"shipment {original.number} is {original.state}: only goods"
                            " that left with an outbound shipment come back")
    sent = {line.order_line_id: line for line in ctx.session.scalars(
        sa.select(ShipmentLine).where(ShipmentLine.shipment_id == shipment_id))}
    wanted = list(request.lines) or [LineRequest(line_id) for line_id in sent]
    quantities: dict[int, Decimal] = {}
    chosen: dict[int, LineRequest] = {}
    for index, line in enumerate(wanted):
        if line.order_line_id not in sent:
            raise ValidationError(f"line {line.order_line_id} did not travel in"
                                  f" {original.number}",
                                  {f"lines[{index}].order_line_id": "not in the shipment"})
        qty = line.quantity if line.quantity is not None else sent[line.order_line_id].quantity
        if qty > sent[line.order_line_id].quantity:
            raise ValidationError(f"only {sent[line.order_line_id].quantity:f} of line"
                                  f" {line.order_line_id} were shipped",
                                  {f"lines[{index}].quantity": "more than was shipped"})
        quantities[line.order_line_id] = qty
        chosen[line.order_line_id] = line
    shipment = ctx.records("logistics.shipment").create(
        {}, computed={"order_id": original.order_id, "kind": ShipmentKind.RETURN,
                      "return_of_id": original.id, "ship_country": original.ship_country,
                      "carrier_account_id": original.carrier_account_id,
                      "service": original.service, "currency": original.currency})
    _add_lines(ctx, shipment["id"], chosen, quantities)
    lines = {line.id: line for line in ctx.session.scalars(
        sa.select(OrderLine).where(OrderLine.id.in_(quantities)))}
    weight = request.weight_kg or _products_weight(ctx, lines, quantities)
    ctx.session.add(Package(shipment_id=shipment["id"], weight_kg=weight,
                            contents=[{"order_line_id": k, "quantity": str(v)}
                                      for k, v in quantities.items()], version=1))
    ctx.session.flush()
    return shipment


__all__ = ["create_return", "create_shipment", "shipment_number"]
