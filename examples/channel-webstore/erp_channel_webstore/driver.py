"""``WebStoreChannel``: the ``SalesChannel`` driver for a web shop.

The kernel builds it as ``WebStoreChannel(settings=..., secrets=...)`` from a configured
channel account; a bad configuration fails right there with every problem listed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from erp_channel_webstore.exact_json import dumps_exact, loads_exact
from erp_channel_webstore.orders import OrderDocumentError, read_orders
from erp_channel_webstore.settings import read_configuration
from erp_channel_webstore.shop_api import ShopClient
from erp_channel_webstore.signing import signature_headers, verify_signed_request
from erp_sdk import ValidationError
from erp_sdk.drivers import (
    ChannelOrder,
    DriverFailure,
    OrderBatch,
    ShipmentNotice,
    StockLevel,
    WebhookRequest,
)

STOCK_LEVELS_PER_REQUEST = 500
"""``push_stock`` sends at most this many levels in one request, so a full catalogue
goes out in several."""


class WebStoreChannel:
    """A web shop that pushes orders as signed webhooks, serves them page by page, and
    takes stock levels and shipments back (see the README for every request)."""

    def __init__(self, settings: Mapping[str, Any] | None = None,
                 secrets: Mapping[str, Any] | None = None) -> None:
        self.settings, self._secrets = read_configuration(settings, secrets)
        self._shop = ShopClient(self.settings.base_url, self._secrets.api_key,
                                self.settings.timeout_seconds)

    def __repr__(self) -> str:
        return f"WebStoreChannel(base_url={self.settings.base_url!r})"

    def parse_order_webhook(self, request: WebhookRequest) -> Sequence[ChannelOrder]:
        """The orders in a webhook the shop sent.

        Raises ``WebhookRejected`` (401) when the signature is missing or wrong or the
        timestamp is outside the tolerance, and ``ValidationError`` (422) naming the field
        when an authentic webhook breaks the order format.
        """
        verify_signed_request(self._secrets.webhook_secret, request.headers, request.body,
                              tolerance_seconds=self.settings.webhook_tolerance_seconds)
        try:
            document = loads_exact(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise OrderDocumentError("body", f"is not valid UTF-8 JSON ({exc})") from None
        return read_orders(document)

    def fetch_orders(self, cursor: str | None) -> OrderBatch:
        """The next page of at most ``page_size`` orders after ``cursor``, oldest first.

        ``next_cursor`` is where the next call resumes: the shop's cursor after the last
        order returned, or ``cursor`` itself when nothing new was placed. It is never
        ``None`` once a cursor is known, so a caller that stores it and polls again never
        starts over; a caller draining a backlog stops at the first empty page.
        """
        query = {"limit": str(self.settings.page_size)}
        if cursor:
            query["after"] = cursor
        page = self._shop.get_json("/orders", query)
        try:
            orders = read_orders(page, "GET /orders")
        except OrderDocumentError as error:
            raise DriverFailure(f"the web shop at {self.settings.base_url} sent an order the"
                                f" ERP cannot read: {error.message}") from None
        next_cursor = page.get("next_cursor")
        if next_cursor is not None and not isinstance(next_cursor, str | int):
            raise DriverFailure(f"the web shop at {self.settings.base_url} sent a next_cursor"
                                f" that is not text: {next_cursor!r}")
        if next_cursor is None or next_cursor == "":
            if orders:
                raise DriverFailure(
                    f"the web shop at {self.settings.base_url} returned orders without a"
                    " next_cursor, so the import could not resume after them")
            next_cursor = cursor
        return OrderBatch(orders, None if next_cursor is None else str(next_cursor))

    def push_stock(self, levels: Sequence[StockLevel]) -> None:
        """POST the available quantity of each SKU to ``/stock``, signed; nothing is sent
        for an empty list."""
        levels = list(levels)
        for start in range(0, len(levels), STOCK_LEVELS_PER_REQUEST):
            chunk = levels[start:start + STOCK_LEVELS_PER_REQUEST]
            self._post_signed("/stock", {"levels": [
                {"sku": level.sku, "available": format(level.available, "f")}
                for level in chunk]})

    def push_shipment(self, notice: ShipmentNotice) -> None:
        """POST a shipped order's carrier and tracking number to ``/shipments``, signed."""
        if notice.shipped_at.tzinfo is None or notice.shipped_at.utcoffset() is None:
            raise ValidationError("ShipmentNotice.shipped_at must be timezone-aware",
                                  errors={"shipped_at": "must be timezone-aware"})
        shipped_at = notice.shipped_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        self._post_signed("/shipments", {
            "order_id": notice.external_reference,
            "carrier": notice.carrier,
            "tracking_number": notice.tracking_number,
            "shipped_at": shipped_at,
        })

    def _post_signed(self, path: str, document: Mapping[str, Any]) -> None:
        body = dumps_exact(document)
        self._shop.post_json(path, body, signature_headers(self._secrets.webhook_secret, body))
