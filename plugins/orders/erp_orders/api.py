"""Order routes beyond the generic API: placing an order with its lines, the timeline."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
from litestar import Response, get, post
from litestar.params import FromPath, RawBody

from erp_orders import placing
from erp_orders.placing import LineRequest, OrderRequest
from erp_orders.timeline import order_timeline
from erp_sdk import (
    KernelDependency,
    ListOf,
    Nested,
    PrincipalDependency,
    body_operation,
    boolean,
    identifier,
    money,
    read_body,
    text,
    typed_field,
)


@attrs.frozen
class Address:
    """A postal address copied onto the order."""

    name: str | None = typed_field(text(200), default=None, nullable=True)
    line1: str | None = typed_field(text(200), default=None, nullable=True)
    line2: str | None = typed_field(text(200), default=None, nullable=True)
    city: str | None = typed_field(text(100), default=None, nullable=True)
    postal_code: str | None = typed_field(text(20), default=None, nullable=True)
    region: str | None = typed_field(text(100), default=None, nullable=True)
    country: str | None = typed_field(text(2), default=None, nullable=True)


@attrs.frozen
class PlaceOrder:
    """The body of ``POST /orders/place``: the order, its lines, and whether to confirm it."""

    channel_id: int = typed_field(identifier())
    customer_id: int = typed_field(identifier())
    lines: tuple[LineRequest, ...] = typed_field(ListOf(Nested(LineRequest), min_items=1))
    external_reference: str | None = typed_field(text(120), default=None, nullable=True)
    warehouse_id: int | None = typed_field(identifier(), default=None, nullable=True)
    currency: str = typed_field(text(3), default="EUR")
    shipping_address: Address | None = typed_field(Nested(Address), default=None,
                                                   nullable=True)
    billing_address: Address | None = typed_field(Nested(Address), default=None,
                                                  nullable=True)
    shipping_amount: Decimal = typed_field(money("non_negative"), default=Decimal(0))
    notes: str | None = typed_field(text(), default=None, nullable=True)
    confirm: bool = typed_field(boolean(), default=False)
    coupon_codes: tuple[str, ...] = typed_field(ListOf(text(64), max_items=10), default=())


def _address(address: Address | None) -> dict[str, Any] | None:
    return None if address is None else attrs.asdict(address)


@post("/place", sync_to_thread=True, opt={"permission": "orders.order.create"},
      operation_class=body_operation(PlaceOrder),
      summary="Place an order with its lines (idempotent per channel and external reference)")
def place(body: RawBody, kernel: KernelDependency,
          principal: PrincipalDependency) -> Response[dict[str, Any]]:
    data = read_body(PlaceOrder, body)
    request = OrderRequest(
        channel_id=data.channel_id, customer_id=data.customer_id, lines=data.lines,
        external_reference=data.external_reference, warehouse_id=data.warehouse_id,
        currency=data.currency, shipping_address=_address(data.shipping_address),
        billing_address=_address(data.billing_address), shipping_amount=data.shipping_amount,
        notes=data.notes, coupon_codes=data.coupon_codes)
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
