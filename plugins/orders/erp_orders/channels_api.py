"""Channel routes: the order webhook a channel calls, and import and stock push on demand."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, RawBody

from erp_orders.channels_import import (
    ImportResult,
    import_orders,
    push_stock,
    receive_order_webhook,
)
from erp_sdk import KernelDependency, PrincipalDependency, ValidationError


def _result(result: ImportResult) -> dict[str, Any]:
    return {"channel": result.channel, "created": list(result.created),
            "existing": result.existing,
            "failed": [{"external_reference": f.external_reference, "reason": f.reason}
                       for f in result.failed],
            "unconfirmed": [{"external_reference": f.external_reference, "reason": f.reason}
                            for f in result.unconfirmed],
            "pages": result.pages, "cursor": result.cursor, "error": result.error}


# Public: the caller is the channel, not an ERP user; the channel's driver authenticates
# the request by its signature (a bad one is a 401) before anything is read from it.
@post("/channels/{code:str}/webhook", sync_to_thread=True, status_code=200,
      opt={"public": True, "request_body": {
          "type": "object", "description": "The channel's own order format, as its driver"
                                           " reads it, signed as the driver expects."}},
      responses={401: ResponseSpec(None, description="The signature does not verify")},
      summary="Orders a sales channel pushes (signed as its driver expects)")
def order_webhook(code: FromPath[str], request: Request[Any, Any, Any], body: RawBody,
                  kernel: KernelDependency) -> dict[str, Any]:
    result = receive_order_webhook(kernel, code, dict(request.headers.items()), body)
    if result.failed:
        # The orders that imported stay (a resend finds them); the channel learns which
        # did not, by index in its webhook, as the driver names its own format errors.
        raise ValidationError(
            f"{len(result.failed)} of the webhook's orders could not be imported: "
            + "; ".join(f.reason for f in result.failed),
            {f"orders[{f.external_reference}]{'.' + f.field if f.field else ''}": f.reason
             for f in result.failed})
    return _result(result)


@post("/channels/{code:str}/import", sync_to_thread=True, status_code=200,
      opt={"permission": "orders.order.create"},
      summary="Pull the channel's new orders now (what `erp orders import` does)")
def import_now(code: FromPath[str], kernel: KernelDependency,
               principal: PrincipalDependency) -> dict[str, Any]:
    return _result(import_orders(kernel, code, principal=principal))


@post("/channels/{code:str}/push-stock", sync_to_thread=True, status_code=200,
      opt={"permission": "inventory.stock_level.read"},
      summary="Send the channel the available stock of its warehouse now")
def push_stock_now(code: FromPath[str], kernel: KernelDependency,
                   principal: PrincipalDependency) -> dict[str, Any]:
    return {"channel": code, "levels": push_stock(kernel, code, principal=principal)}


ROUTES = [order_webhook, import_now, push_stock_now]
