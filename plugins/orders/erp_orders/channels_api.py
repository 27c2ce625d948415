"""Channel routes: import and stock push on demand (webhooks arrive through the kernel's
``/api/v1/hooks/{driver}/{code}``, see ``erp_orders.channels_webhook``)."""

from __future__ import annotations

from typing import Any

from litestar import post
from litestar.params import FromPath

from erp_orders.channels_import import ImportResult, import_orders, push_stock
from erp_sdk import KernelDependency, PrincipalDependency


def _result(result: ImportResult) -> dict[str, Any]:
    return {"channel": result.channel, "created": list(result.created),
            "existing": result.existing,
            "failed": [{"external_reference": f.external_reference, "reason": f.reason}
                       for f in result.failed],
            "unconfirmed": [{"external_reference": f.external_reference, "reason": f.reason}
                            for f in result.unconfirmed],
            "pages": result.pages, "cursor": result.cursor, "error": result.error}


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


ROUTES = [import_now, push_stock_now]
