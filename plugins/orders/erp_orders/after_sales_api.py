"""After-sales routes beyond the generic API, mounted under ``/api/v1/orders``: a return
with its lines in one request, and a ticket message written in the caller's name."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from litestar import Response, post
from litestar.params import FromPath, JSONBody

from erp_orders.returns import ReturnLineRequest, request_return
from erp_orders.tickets import post_message
from erp_sdk import KernelDependency, PrincipalDependency


class ReturnLineBody(msgspec.Struct, forbid_unknown_fields=True):
    order_line_id: int
    quantity: Decimal
    damaged: bool = False


class ReturnBody(msgspec.Struct, forbid_unknown_fields=True):
    lines: list[ReturnLineBody]
    reason: str | None = None


class MessageBody(msgspec.Struct, forbid_unknown_fields=True):
    body: str
    from_customer: bool = False


@post("/orders/{order_id:int}/returns", sync_to_thread=True,
      opt={"permission": "orders.return_request.create"},
      summary="Request a return of shipped lines, with its lines, in one transaction")
def create_return(order_id: FromPath[int], data: JSONBody[ReturnBody], kernel: KernelDependency,
                  principal: PrincipalDependency) -> Response[dict[str, Any]]:
    lines = [ReturnLineRequest(line.order_line_id, line.quantity, line.damaged)
             for line in data.lines]
    with kernel.context(principal) as ctx:
        created = request_return(ctx, order_id, lines, data.reason)
    return Response(created, status_code=201, headers={
        "Location": f"/api/v1/orders/return-requests/{created['id']}",
        "ETag": f'"{created["version"]}"'})


@post("/tickets/{ticket_id:int}/messages", sync_to_thread=True,
      opt={"permission": "orders.ticket_message.create"},
      summary="Add a message to a ticket (its author is the caller); logged in CRM")
def create_message(ticket_id: FromPath[int], data: JSONBody[MessageBody],
                   kernel: KernelDependency, principal: PrincipalDependency
                   ) -> Response[dict[str, Any]]:
    with kernel.context(principal) as ctx:
        message = post_message(ctx, ticket_id, data.body, from_customer=data.from_customer)
    return Response(message, status_code=201, headers={
        "Location": f"/api/v1/orders/ticket-messages/{message['id']}"})


ROUTES = [create_return, create_message]
