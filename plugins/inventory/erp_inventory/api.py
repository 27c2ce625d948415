"""Stock operations over HTTP: the same services other plugins call from Python."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import sqlalchemy as sa
from litestar import get, post
from litestar.params import FromPath, JSONBody

from erp_inventory.catalogue import Product
from erp_inventory.movements import adjust, receive
from erp_inventory.reservations import ReservationLine, release, reserve, ship_reserved
from erp_inventory.transfers import in_transit
from erp_sdk import KernelDependency, NotFoundError, Principal, PrincipalDependency


class ReserveLine(msgspec.Struct, forbid_unknown_fields=True):
    product_id: int
    quantity: Decimal
    origin: str


class ReserveRequest(msgspec.Struct, forbid_unknown_fields=True):
    warehouse_id: int
    lines: list[ReserveLine]


class ReleaseRequest(msgspec.Struct, forbid_unknown_fields=True):
    ids: list[int] | None = None
    origin: str | None = None


class ShipRequest(msgspec.Struct, forbid_unknown_fields=True):
    reservation_id: int
    quantity: Decimal | None = None


class ReceiveRequest(msgspec.Struct, forbid_unknown_fields=True):
    warehouse_id: int
    product_id: int
    quantity: Decimal
    unit_cost: Decimal
    origin: str | None = None


class AdjustRequest(msgspec.Struct, forbid_unknown_fields=True):
    warehouse_id: int
    product_id: int
    delta: Decimal
    reason: str


@post("/stock/reserve", sync_to_thread=True, status_code=201,
      opt={"permission": "inventory.stock.reserve"}, summary="Reserve stock, all or nothing")
def reserve_stock(data: JSONBody[ReserveRequest], kernel: KernelDependency,
                  principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        ids = reserve(ctx, data.warehouse_id, [
            ReservationLine(line.product_id, line.quantity, line.origin) for line in data.lines])
    return {"reservation_ids": ids}


@post("/stock/release", sync_to_thread=True, status_code=200,
      opt={"permission": "inventory.stock.release"}, summary="Release reservations")
def release_stock(data: JSONBody[ReleaseRequest], kernel: KernelDependency,
                  principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        released = release(ctx, ids=data.ids, origin=data.origin)
    return {"released": str(released)}


@post("/stock/ship", sync_to_thread=True, status_code=201,
      opt={"permission": "inventory.stock.ship"}, summary="Ship reserved units")
def ship_stock(data: JSONBody[ShipRequest], kernel: KernelDependency,
               principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        move_id = ship_reserved(ctx, data.reservation_id, data.quantity)
    return {"move_id": move_id}


@post("/stock/receive", sync_to_thread=True, status_code=201,
      opt={"permission": "inventory.stock.receive"}, summary="Receive goods from a supplier")
def receive_stock(data: JSONBody[ReceiveRequest], kernel: KernelDependency,
                  principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        move_id = receive(ctx, data.warehouse_id, data.product_id, data.quantity,
                          data.unit_cost, data.origin)
    return {"move_id": move_id}


@post("/stock/adjust", sync_to_thread=True, status_code=201,
      opt={"permission": "inventory.stock.adjust"}, summary="Correct on-hand stock")
def adjust_stock(data: JSONBody[AdjustRequest], kernel: KernelDependency,
                 principal: PrincipalDependency) -> dict[str, Any]:
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
