"""A real web shop on a local port, for tests of this driver and of anything that uses it.

``FakeShop`` is a threaded ``http.server`` on 127.0.0.1 with a port the system picks. It
implements the shop's side of the contract in the README: it holds orders and serves
``GET /orders`` page by page behind the API key, records the bodies of ``POST /stock``
and ``POST /shipments`` after checking their signature, and delivers signed order
webhooks to a URL. Tests script failures (``fail_next``, ``answer_next``) and slow answers
(``stall_next``) and read everything it received back.

    with FakeShop() as shop:
        shop.add_order("WS-1001", lines=[("TEE-M", 2, "19.90")])
        channel = WebStoreChannel(settings=shop.channel_settings(),
                                  secrets=shop.channel_secrets())
        batch = channel.fetch_orders(None)

``stop()`` (also on leaving the ``with`` block, whatever happened inside it) closes the
port, wakes stalled answers and waits for every request in progress, so nothing is left
running after a test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import threading
import traceback
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import attrs

from erp_channel_webstore.exact_json import dumps_exact, loads_exact
from erp_channel_webstore.shop_api import API_KEY_HEADER
from erp_channel_webstore.signing import signature_headers, verify_signed_request
from erp_sdk.drivers import WebhookRejected

MAX_REQUEST_BYTES = 16 * 1024 * 1024
_STOP_WAIT_SECONDS = 10.0


@attrs.frozen
class RecordedRequest:
    """A request the shop received and the status it answered; header names lower case."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    status: int


@attrs.frozen
class WebhookDelivery:
    """What the receiver of an order webhook answered."""

    status: int
    body: bytes


@attrs.frozen
class _Scripted:
    status: int | None
    body: bytes
    stall_seconds: float


@attrs.frozen
class _Answer:
    status: int
    document: Any = None


class FakeShop:
    """A web shop for tests; see the module docstring."""

    def __init__(self, *, api_key: str = "shop-api-key",
                 webhook_secret: str = "shop-webhook-secret",
                 max_page_size: int = 100, tolerance_seconds: int = 300) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.max_page_size = max_page_size
        self.tolerance_seconds = tolerance_seconds
        self._lock = threading.Lock()
        self._orders: list[dict[str, Any]] = []
        self._stock_updates: list[dict[str, Any]] = []
        self._shipments: list[dict[str, Any]] = []
        self._requests: list[RecordedRequest] = []
        self._server_errors: list[str] = []
        self._scripted: list[_Scripted] = []
        self._stopping = threading.Event()
        self._in_progress = 0
        self._idle = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- running -------------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on 127.0.0.1 on a free port and answer requests in threads."""
        if self._server is not None:
            raise RuntimeError("the fake shop is already running")
        handler = type("FakeShopHandler", (_ShopRequestHandler,), {"shop": self})
        self._stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        server.handle_error = self._handle_server_error  # type: ignore[method-assign]
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  name=f"fakeshop-{server.server_address[1]}", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop listening, wake stalled answers, and wait for requests in progress; safe to
        call twice or before ``start``."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        try:
            server.shutdown()
            thread.join(_STOP_WAIT_SECONDS)
        finally:
            server.server_close()
            with self._idle:
                self._idle.wait_for(lambda: self._in_progress == 0, _STOP_WAIT_SECONDS)
            self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, the driver's ``base_url``."""
        if self._server is None:
            raise RuntimeError("the fake shop is not running; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def channel_settings(self, **overrides: Any) -> dict[str, Any]:
        """Settings for a ``WebStoreChannel`` that talks to this shop."""
        return {"base_url": self.base_url, **overrides}

    def channel_secrets(self) -> dict[str, str]:
        """Secrets for a ``WebStoreChannel`` that talks to this shop."""
        return {"api_key": self.api_key, "webhook_secret": self.webhook_secret}

    # -- orders --------------------------------------------------------------------------

    def add_order(self, external_reference: str | None = None, *,
                  lines: Sequence[Sequence[Any] | Mapping[str, Any]] = (("SKU-1", 1, "10.00"),),
                  currency: str = "EUR", placed_at: dt.datetime | str | None = None,
                  customer: Mapping[str, Any] | None = None,
                  shipping_address: Mapping[str, Any] | None = None,
                  billing_address: Mapping[str, Any] | None = None,
                  shipping_amount: Decimal | int | str = "0.00",
                  notes: str = "") -> dict[str, Any]:
        """Place an order and return its document as the shop sends it.

        A line is a mapping in the README's format or a tuple ``(sku, quantity,
        unit_price[, discount[, tax_rate]])``. Amounts keep their type: a ``Decimal`` or
        ``int`` is sent as a JSON number, a ``str`` as JSON text, both exact. The
        reference defaults to ``WS-<1000 + n>``; it must be unique.
        """
        with self._lock:
            number = len(self._orders) + 1
        moment = placed_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
        document: dict[str, Any] = {
            "id": external_reference or f"WS-{1000 + number}",
            "placed_at": _iso(moment) if isinstance(moment, dt.datetime) else moment,
            "currency": currency,
            "customer": dict(customer or {"id": "C-100", "name": "Ada Lovelace",
                                          "email": "ada@example.com", "phone": "+44 20 0000"}),
            "shipping_address": dict(shipping_address or {
                "name": "Ada Lovelace", "line1": "12 Analytical Row", "line2": "",
                "city": "London", "postal_code": "N1 7AA", "region": "", "country": "GB",
                "phone": "+44 20 0000", "email": "ada@example.com"}),
            "billing_address": None if billing_address is None else dict(billing_address),
            "lines": [_line_document(line) for line in lines],
            "shipping_amount": shipping_amount,
            "notes": notes,
        }
        return self.add_order_document(document)

    def add_order_document(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """Place an order given as a raw document, even a malformed one (to test how a
        reader copes); only its ``id`` must be unique."""
        document = dict(document)
        dumps_exact(document)  # refuse a float now rather than fail inside a request
        with self._lock:
            if any(order.get("id") == document.get("id") for order in self._orders):
                raise ValueError(f"the shop already has an order {document.get('id')!r}")
            self._orders.append(document)
        return document

    @property
    def orders(self) -> list[dict[str, Any]]:
        """Every order placed, oldest first."""
        with self._lock:
            return list(self._orders)

    # -- what the ERP sent ---------------------------------------------------------------

    @property
    def stock_updates(self) -> list[dict[str, Any]]:
        """Bodies of accepted ``POST /stock`` requests (numbers as ``Decimal``)."""
        with self._lock:
            return list(self._stock_updates)

    @property
    def stock(self) -> dict[str, Decimal]:
        """The latest available quantity pushed for each SKU."""
        levels: dict[str, Decimal] = {}
        for update in self.stock_updates:
            for level in update["levels"]:
                levels[level["sku"]] = Decimal(level["available"])
        return levels

    @property
    def shipments(self) -> list[dict[str, Any]]:
        """Bodies of accepted ``POST /shipments`` requests."""
        with self._lock:
            return list(self._shipments)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order, with the status answered."""
        with self._lock:
            return list(self._requests)

    @property
    def server_errors(self) -> list[str]:
        """Tracebacks of exceptions in the shop itself (a test may assert it is empty)."""
        with self._lock:
            return list(self._server_errors)

    # -- scripting -----------------------------------------------------------------------

    def answer_next(self, status: int, body: str | bytes, *, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status`` and ``body`` whatever they
        ask (a malformed page, a redirect, an error)."""
        raw = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._scripted.extend([_Scripted(status, raw, 0.0)] * times)

    def fail_next(self, status: int = 500, body: str = '{"error": "shop failure"}', *,
                  times: int = 1) -> None:
        """Answer the next ``times`` requests with an error ``status``."""
        self.answer_next(status, body, times=times)

    def stall_next(self, seconds: float, *, times: int = 1) -> None:
        """Wait ``seconds`` before answering the next ``times`` requests (``stop`` cuts
        the wait short), to make a client time out."""
        with self._lock:
            self._scripted.extend([_Scripted(None, b"", seconds)] * times)

    # -- webhooks ------------------------------------------------------------------------

    def order_webhook(self, orders: Sequence[Mapping[str, Any]], *,
                      timestamp: int | None = None,
                      secret: str | None = None) -> tuple[dict[str, str], bytes]:
        """The headers and body of an order webhook for ``orders`` (documents such as
        ``add_order`` returns), signed now (or at ``timestamp``) with the shop's secret
        (or ``secret``)."""
        body = dumps_exact({"orders": list(orders)})
        headers = {"Content-Type": "application/json",
                   **signature_headers(secret or self.webhook_secret, body,
                                       timestamp=timestamp)}
        return headers, body

    def deliver_order_webhook(self, url: str, orders: Sequence[Mapping[str, Any]], *,
                              timestamp: int | None = None, secret: str | None = None,
                              timeout: float = 10.0) -> WebhookDelivery:
        """POST a signed order webhook to ``url`` and return what it answered (an error
        status is returned, not raised)."""
        headers, body = self.order_webhook(orders, timestamp=timestamp, secret=secret)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return WebhookDelivery(response.status, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return WebhookDelivery(error.code, error.read())

    # -- serving -------------------------------------------------------------------------

    def _answer(self, handler: _ShopRequestHandler) -> None:
        with self._idle:
            self._in_progress += 1
        try:
            self._answer_request(handler)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a driver that timed out)
        except Exception:
            with self._lock:
                self._server_errors.append(traceback.format_exc())
            with contextlib.suppress(OSError):
                handler.send_json(500, {"error": "the fake shop failed; see server_errors"})
        finally:
            with self._idle:
                self._in_progress -= 1
                self._idle.notify_all()

    def _answer_request(self, handler: _ShopRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            handler.send_json(413, {"error": "request too large"})
            return
        body = handler.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(handler.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        headers = {name.lower(): value for name, value in handler.headers.items()}
        with self._lock:
            scripted = self._scripted.pop(0) if self._scripted else None
        if scripted and scripted.stall_seconds and self._stopping.wait(scripted.stall_seconds):
            return  # stopping: leave without an answer, as a shop going down would
        if scripted and scripted.status is not None:
            status, raw = scripted.status, scripted.body
        else:
            answer = self._route(handler.command, url.path, query, headers, body)
            status = answer.status
            raw = b"" if answer.document is None else dumps_exact(answer.document)
        # Recorded before answering, so a client that got its answer finds it here.
        with self._lock:
            self._requests.append(RecordedRequest(handler.command, url.path, query, headers,
                                                  body, status))
        handler.send_raw(status, raw)

    def _route(self, method: str, path: str, query: Mapping[str, str],
               headers: Mapping[str, str], body: bytes) -> _Answer:
        routes = {("GET", "/orders"): self._list_orders,
                  ("POST", "/stock"): self._receive_stock,
                  ("POST", "/shipments"): self._receive_shipment}
        route = routes.get((method, path))
        if route is None:
            return _Answer(404, {"error": f"no route {method} {path}"})
        given_key = headers.get(API_KEY_HEADER.lower(), "")
        if not hmac.compare_digest(given_key.encode(), self.api_key.encode()):
            return _Answer(401, {"error": "invalid API key"})
        if method == "POST":
            try:
                verify_signed_request(self.webhook_secret, headers, body,
                                      tolerance_seconds=self.tolerance_seconds)
            except WebhookRejected as rejected:
                return _Answer(401, {"error": rejected.message})
            try:
                document = loads_exact(body)
            except (ValueError, UnicodeDecodeError) as exc:
                return _Answer(400, {"error": f"body is not JSON: {exc}"})
            return route(query, document)
        return route(query, None)

    def _list_orders(self, query: Mapping[str, str], _document: Any) -> _Answer:
        after, limit = query.get("after"), query.get("limit", "50")
        if not limit.isdigit() or int(limit) < 1:
            return _Answer(400, {"error": f"limit must be a positive whole number: {limit!r}"})
        with self._lock:
            orders = list(self._orders)
        position = 0
        if after is not None:
            if not (after.startswith("o") and after[1:].isdigit()
                    and int(after[1:]) <= len(orders)):
                return _Answer(400, {"error": f"unknown cursor {after!r}"})
            position = int(after[1:])
        page = orders[position:position + min(int(limit), self.max_page_size)]
        next_cursor = f"o{position + len(page)}" if page else after
        return _Answer(200, {"orders": page, "next_cursor": next_cursor})

    def _receive_stock(self, _query: Mapping[str, str], document: Any) -> _Answer:
        levels = document.get("levels") if isinstance(document, dict) else None
        if not isinstance(levels, list) or not all(
                isinstance(level, dict) and {"sku", "available"} <= level.keys()
                for level in levels):
            return _Answer(422, {"error": "expected {\"levels\": [{\"sku\", \"available\"}]}"})
        with self._lock:
            self._stock_updates.append(document)
        return _Answer(200, {"accepted": len(levels)})

    def _receive_shipment(self, _query: Mapping[str, str], document: Any) -> _Answer:
        fields = ("order_id", "carrier", "tracking_number", "shipped_at")
        if not isinstance(document, dict) or not all(
                isinstance(document.get(name), str) and document[name] for name in fields):
            return _Answer(422, {"error": f"expected text fields {', '.join(fields)}"})
        with self._lock:
            if not any(order.get("id") == document["order_id"] for order in self._orders):
                return _Answer(404, {"error": f"no order {document['order_id']!r}"})
            self._shipments.append(document)
        return _Answer(200, {"accepted": 1})

    def _handle_server_error(self, _request: Any, _client_address: Any) -> None:
        # Kept for the test to see instead of printed to stderr; a client that hung up
        # (a driver that timed out) is expected and not an error.
        error = traceback.format_exc()
        if "BrokenPipeError" in error or "ConnectionResetError" in error:
            return
        with self._lock:
            self._server_errors.append(error)


class _ShopRequestHandler(BaseHTTPRequestHandler):
    shop: FakeShop
    timeout = 10  # a client that sends nothing cannot hold a thread for longer
    server_version = "FakeShop/1"

    def do_GET(self) -> None:
        self.shop._answer(self)

    def do_POST(self) -> None:
        self.shop._answer(self)

    def send_json(self, status: int, document: Any) -> None:
        self.send_raw(status, dumps_exact(document) if document is not None else b"")

    def send_raw(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``FakeShop.requests`` instead."""


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("placed_at must be timezone-aware")
    return moment.isoformat().replace("+00:00", "Z")


def _line_document(line: Sequence[Any] | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(line, Mapping):
        return dict(line)
    names = ("sku", "quantity", "unit_price", "discount", "tax_rate")
    if not 3 <= len(line) <= len(names):
        raise ValueError(f"a line is (sku, quantity, unit_price[, discount[, tax_rate]]): {line}")
    return dict(zip(names, line, strict=False))
