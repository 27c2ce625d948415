"""Order routes beyond the generic API: placing an order with its lines, the timeline."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from litestar import Response, get, post
from litestar.params import FromPath, JSONBody

from erp_orders import placing
from erp_orders.placing import LineRequest, OrderRequest
from erp_orders.timeline import order_timeline
from erp_sdk import KernelDependency, PrincipalDependency


class PlaceLine(msgspec.Struct, forbid_unknown_fields=True):
    product_id: int
    quantity: Decimal
    unit_price: Decimal | None = None
    discount: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)


class Address(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None


class PlaceOrder(msgspec.Struct, forbid_unknown_fields=True):
    channel_id: int
    customer_id: int
    lines: list[PlaceLine]
    external_reference: str | None = None
    warehouse_id: int | None = None
    currency: str = "EUR"
    shipping_address: Address | None = None
    billing_address: Address | None = None
    shipping_amount: Decimal = Decimal(0)
    notes: str | None = None
    confirm: bool = False


def _address(address: Address | None) -> dict[str, Any] | None:
    return None if address is None else msgspec.structs.asdict(address)


@post("/place", sync_to_thread=True, opt={"permission": "orders.order.create"},
      summary="Place an order with its lines (idempotent per channel and external reference)")
def place(data: JSONBody[PlaceOrder], kernel: KernelDependency,
          principal: PrincipalDependency) -> Response[dict[str, Any]]:
    request = OrderRequest(
        channel_id=data.channel_id, customer_id=data.customer_id,
        lines=[LineRequest(line.product_id, line.quantity, line.unit_price, line.discount,
                           line.tax_rate) for line in data.lines],
        external_reference=data.external_reference, warehouse_id=data.warehouse_id,
        currency=data.currency, shipping_address=_address(data.shipping_address),
        billing_address=_address(data.billing_address), shipping_amount=data.shipping_amount,
        notes=data.notes)
    with kernel.context(principal) as ctx:
        placed = placing.place(ctx, request)
        order_id, created = placed.id, placed.created
        if created and data.confirm:
            order = ctx.fire("orders.order", order_id, "confirm")
        else:
            order = placed.record or ctx.records("orders.order").get(order_id)
    return Response(order, status_code=201 if created else 200,
                    headers={"Location": f"/api/v1/orders/orders/{order_id}",
                             "ETag": f'"{order["version"]}"'})


@get("/orders/{order_id:int}/timeline", sync_to_thread=True,
     opt={"permission": "orders.order.read"}, summary="What happened to an order, and when")
def timeline(order_id: FromPath[int], kernel: KernelDependency,
             principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        return {"items": order_timeline(ctx, order_id)}


ROUTES = [place, timeline]
