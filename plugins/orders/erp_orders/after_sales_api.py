"""After-sales routes beyond the generic API, mounted under ``/api/v1/orders``: a return
with its lines in one request, and a ticket message written in the caller's name."""

from __future__ import annotations

from typing import Any

import attrs
import msgspec
from litestar import Response, post
from litestar.params import FromPath, JSONBody, RawBody

from erp_orders.returns import ReturnLineRequest, request_return
from erp_orders.tickets import post_message
from erp_sdk import (
    KernelDependency,
    ListOf,
    Nested,
    PrincipalDependency,
    body_operation,
    read_body,
    text,
    typed_field,
)


@attrs.frozen
class ReturnBody:
    """A return request with its lines."""

    lines: tuple[ReturnLineRequest, ...] = typed_field(
        ListOf(Nested(ReturnLineRequest), min_items=1))
    reason: str | None = typed_field(text(), default=None, nullable=True)


class MessageBody(msgspec.Struct, forbid_unknown_fields=True):
    body: str
    from_customer: bool = False


@post("/orders/{order_id:int}/returns", sync_to_thread=True,
      opt={"permission": "orders.return_request.create"},
      operation_class=body_operation(ReturnBody),
      summary="Request a return of shipped lines, with its lines, in one transaction")
def create_return(order_id: FromPath[int], body: RawBody, kernel: KernelDependency,
                  principal: PrincipalDependency) -> Response[dict[str, Any]]:
    data = read_body(ReturnBody, body)
    with kernel.context(principal) as ctx:
        created = request_return(ctx, order_id, data.lines, data.reason)
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
