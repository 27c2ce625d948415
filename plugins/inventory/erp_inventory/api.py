"""Stock operations over HTTP: the same services other plugins call from Python."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from litestar import get, post
from litestar.params import FromPath, RawBody

from erp_inventory.catalogue import Product
from erp_inventory.movements import adjust, receive
from erp_inventory.reservations import ReservationLine, release, reserve, ship_reserved
from erp_inventory.transfers import in_transit
from erp_inventory.units import STOCK_QUANTITY
from erp_sdk import (
    KernelDependency,
    ListOf,
    Nested,
    NotFoundError,
    Principal,
    PrincipalDependency,
    body_operation,
    identifier,
    money,
    quantity,
    read_body,
    text,
    typed_field,
)


@attrs.frozen
class ReserveRequest:
    """Reserve every line in one warehouse, or nothing."""

    warehouse_id: int = typed_field(identifier())
    lines: tuple[ReservationLine, ...] = typed_field(ListOf(Nested(ReservationLine),
                                                            min_items=1))


@attrs.frozen
class ReleaseRequest:
    """Release reservations by id, or every one of an origin."""

    ids: tuple[int, ...] | None = typed_field(ListOf(identifier()), default=None,
                                              nullable=True)
    origin: str | None = typed_field(text(120), default=None, nullable=True)


@attrs.frozen
class ShipRequest:
    """Ship units of a reservation (all that remains without ``quantity``)."""

    reservation_id: int = typed_field(identifier())
    quantity: Decimal | None = typed_field(STOCK_QUANTITY, default=None, nullable=True)


@attrs.frozen
class ReceiveRequest:
    """Goods arriving from a supplier at ``unit_cost``."""

    warehouse_id: int = typed_field(identifier())
    product_id: int = typed_field(identifier())
    quantity: Decimal = typed_field(STOCK_QUANTITY)
    unit_cost: Decimal = typed_field(money("non_negative"))
    origin: str | None = typed_field(text(120), default=None, nullable=True)


@attrs.frozen
class AdjustRequest:
    """A correction of on-hand stock: ``delta`` positive when found, negative when lost."""

    warehouse_id: int = typed_field(identifier())
    product_id: int = typed_field(identifier())
    delta: Decimal = typed_field(quantity())
    reason: str = typed_field(text(200))


@post("/stock/reserve", sync_to_thread=True, status_code=201,
      operation_class=body_operation(ReserveRequest),
      opt={"permission": "inventory.stock.reserve"}, summary="Reserve stock, all or nothing")
def reserve_stock(body: RawBody, kernel: KernelDependency,
                  principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(ReserveRequest, body)
    with kernel.context(principal) as ctx:
        ids = reserve(ctx, data.warehouse_id, data.lines)
    return {"reservation_ids": ids}


@post("/stock/release", sync_to_thread=True, status_code=200,
      operation_class=body_operation(ReleaseRequest),
      opt={"permission": "inventory.stock.release"}, summary="Release reservations")
def release_stock(body: RawBody, kernel: KernelDependency,
                  principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(ReleaseRequest, body)
    with kernel.context(principal) as ctx:
        released = release(ctx, ids=data.ids, origin=data.origin)
    return {"released": str(released)}


@post("/stock/ship", sync_to_thread=True, status_code=201,
      operation_class=body_operation(ShipRequest),
      opt={"permission": "inventory.stock.ship"}, summary="Ship reserved units")
def ship_stock(body: RawBody, kernel: KernelDependency,
               principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(ShipRequest, body)
    with kernel.context(principal) as ctx:
        move_id = ship_reserved(ctx, data.reservation_id, data.quantity)
    return {"move_id": move_id}


@post("/stock/receive", sync_to_thread=True, status_code=201,
      operation_class=body_operation(ReceiveRequest),
      opt={"permission": "inventory.stock.receive"}, summary="Receive goods from a supplier")
def receive_stock(body: RawBody, kernel: KernelDependency,
                  principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(ReceiveRequest, body)
    with kernel.context(principal) as ctx:
        move_id = receive(ctx, data.warehouse_id, data.product_id, data.quantity,
                          data.unit_cost, data.origin)
    return {"move_id": move_id}


@post("/stock/adjust", sync_to_thread=True, status_code=201,
      operation_class=body_operation(AdjustRequest),
      opt={"permission": "inventory.stock.adjust"}, summary="Correct on-hand stock")
def adjust_stock(body: RawBody, kernel: KernelDependency,
                 principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(AdjustRequest, body)
    with kernel.context(principal) as ctx:
        move_id = adjust(ctx, data.warehouse_id, data.product_id, data.delta, data.reason)
    return {"move_id": move_id}


@get("/in-transit", sync_to_thread=True, opt={"permission": "inventory.transfer.read"},
     summary="Goods on their way between warehouses")
def list_in_transit(kernel: KernelDependency,
                    principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        return {"items": in_transit(ctx)}


@get("/products/{product_id:int}/price-history", sync_to_thread=True,
     opt={"permission": "inventory.product.read"}, summary="Who changed a product's prices")
def price_history(product_id: FromPath[int], kernel: KernelDependency,
                  principal: PrincipalDependency) -> dict[str, Any]:
    """List price and cost changes, oldest first, from the kernel's audit log."""
    with kernel.context(principal) as ctx:
        if ctx.session.scalar(sa.select(Product.id).where(Product.id == product_id)) is None:
            raise NotFoundError(f"inventory.product {product_id} does not exist")
        audit = ctx.as_principal(Principal.system()).records("kernel.audit_entry")
        entries = audit.list([("entity", "inventory.product"), ("record_id", str(product_id)),
                              ("limit", "500")])["items"]
    return {"items": [
        {"at": e["at"], "principal": e["principal"], "field": field,
         "old": e["changes"][field]["old"], "new": e["changes"][field]["new"]}
        for e in entries for field in ("list_price", "cost") if field in e["changes"]]}


ROUTES = [reserve_stock, release_stock, ship_stock, receive_stock, adjust_stock,
          list_in_transit, price_history]
