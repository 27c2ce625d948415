"""Routes for splitting and merging orders (ORD-3), under ``/api/v1/orders``."""

from __future__ import annotations

from typing import Any

import attrs
from litestar import Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, RawBody

from erp_orders.split_merge import (
    LineSplit,
    merge_orders,
    merged_orders,
    split_by_availability,
    split_order,
)
from erp_sdk import (
    KernelDependency,
    ListOf,
    Nested,
    PrincipalDependency,
    body_operation,
    identifier,
    read_body,
    typed_field,
)

ORDER = "orders.order"


@attrs.frozen
class SplitRequest:
    """The lines and quantities to move to the new order."""

    lines: tuple[LineSplit, ...] = typed_field(ListOf(Nested(LineSplit), min_items=1))


@attrs.frozen
class MergeRequest:
    """The orders to merge, and the one to keep (the oldest without ``into``)."""

    order_ids: tuple[int, ...] = typed_field(ListOf(identifier(), min_items=2))
    into: int | None = typed_field(identifier(), default=None, nullable=True)


def _location(order_id: int) -> dict[str, str]:
    return {"Location": f"/api/v1/orders/orders/{order_id}"}


@post("/orders/{order_id:int}/split", sync_to_thread=True,
      opt={"permission": "orders.order.split"}, operation_class=body_operation(SplitRequest),
      summary="Move chosen lines and quantities of an unshipped order to a new order")
def split(order_id: FromPath[int], body: RawBody, kernel: KernelDependency,
          principal: PrincipalDependency) -> Response[dict[str, Any]]:
    data = read_body(SplitRequest, body)
    with kernel.context(principal) as ctx:
        result = split_order(ctx, order_id, data.lines)
        orders = ctx.records(ORDER)
        body = {"order": orders.get(result.order_id), "source": orders.get(order_id),
                "rounding_difference": f"{result.rounding_difference:f}"}
    return Response(body, status_code=201, headers=_location(result.order_id))


@post("/orders/{order_id:int}/split-by-availability", sync_to_thread=True,
      opt={"permission": "orders.order.split"}, status_code=201,
      responses={200: ResponseSpec(dict[str, Any], description="Nothing to split: one"
                                   " warehouse serves the whole order", generate_examples=False)},
      summary="Split a draft order into one order per warehouse that can serve it")
def split_by_warehouse(order_id: FromPath[int], kernel: KernelDependency,
                       principal: PrincipalDependency) -> Response[dict[str, Any]]:
    with kernel.context(principal) as ctx:
        result = split_by_availability(ctx, order_id)
        orders = ctx.records(ORDER)
        body = {"orders": [orders.get(i) for i in result.order_ids],
                "created": list(result.created_ids),
                "rounding_difference": f"{result.rounding_difference:f}"}
    return Response(body, status_code=201 if result.created_ids else 200)


@post("/merge", sync_to_thread=True, status_code=200, opt={"permission": "orders.order.merge"},
      operation_class=body_operation(MergeRequest),
      summary="Merge unshipped orders of one customer, channel and address into one")
def merge(body: RawBody, kernel: KernelDependency,
          principal: PrincipalDependency) -> Response[dict[str, Any]]:
    data = read_body(MergeRequest, body)
    with kernel.context(principal) as ctx:
        result = merge_orders(ctx, data.order_ids, data.into)
        orders = ctx.records(ORDER)
        body = {"order": orders.get(result.order_id),
                "merged": [orders.get(i) for i in result.merged_ids]}
    return Response(body, status_code=200, headers=_location(result.order_id))


@get("/orders/{order_id:int}/merged", sync_to_thread=True,
     opt={"permission": "orders.order.read"},
     summary="The orders merged into an order, with their external references")
def merged(order_id: FromPath[int], kernel: KernelDependency,
           principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        return {"items": merged_orders(ctx, order_id)}


SPLIT_MERGE_ROUTES = [split, split_by_warehouse, merge, merged]
