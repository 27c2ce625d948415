"""Routes for splitting and merging orders (ORD-3), under ``/api/v1/orders``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from litestar import Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from erp_orders.split_merge import (
    LineSplit,
    merge_orders,
    merged_orders,
    split_by_availability,
    split_order,
)
from erp_sdk import KernelDependency, PrincipalDependency

ORDER = "orders.order"


class SplitLine(msgspec.Struct, forbid_unknown_fields=True):
    line_id: int
    quantity: Decimal


class SplitRequest(msgspec.Struct, forbid_unknown_fields=True):
    lines: list[SplitLine]


class MergeRequest(msgspec.Struct, forbid_unknown_fields=True):
    order_ids: list[int]
    into: int | None = None


def _location(order_id: int) -> dict[str, str]:
    return {"Location": f"/api/v1/orders/orders/{order_id}"}


@post("/orders/{order_id:int}/split", sync_to_thread=True,
      opt={"permission": "orders.order.split"},
      summary="Move chosen lines and quantities of an unshipped order to a new order")
def split(order_id: FromPath[int], data: JSONBody[SplitRequest], kernel: KernelDependency,
          principal: PrincipalDependency) -> Response[dict[str, Any]]:
    with kernel.context(principal) as ctx:
        result = split_order(ctx, order_id, [LineSplit(line.line_id, line.quantity)
                                             for line in data.lines])
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
      summary="Merge unshipped orders of one customer, channel and address into one")
def merge(data: JSONBody[MergeRequest], kernel: KernelDependency,
          principal: PrincipalDependency) -> Response[dict[str, Any]]:
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
