"""A fake of the Tillpoint payments HTTP API, served for real on a local port.

It behaves as Tillpoint documents its API (see the package README):

- ``POST /v1/payments`` ``{"reference", "amount", "currency", "customer", "capture"}``:
  authorises (and with ``"capture": true`` captures) a payment; an amount the account
  declines (``decline_amounts``) answers 402 with the decline's code;
- ``POST /v1/payments/{id}/capture`` ``{"amount"}``: captures at most what was authorised,
  once;
- ``POST /v1/payments/{id}/refunds`` ``{"amount"}``: gives back at most what is captured
  and not yet refunded;
- ``GET /v1/payments/{id}``: the payment as it stands;
- ``GET /v1/payouts?since=YYYY-MM-DD``: the payouts arriving on or after the day, each
  with its lines (sales, refunds, fees, reserves held and released);
- every call needs ``Authorization: Bearer <api key>``; a POST with an
  ``Idempotency-Key`` header is done once per key (a repeat answers the first answer).

Events (``payment.captured``, ``payment.refunded``, ``payout.paid``) are signed webhooks:
``Tillpoint-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + raw body>`` and
``Tillpoint-Timestamp``, keyed with the account's webhook secret. They are POSTed to
``webhook_url`` when it is set, and always kept in ``sent`` (body, headers) so a test can
hand them over itself.

Fees are ``fee_percent`` of each sale plus ``fee_fixed`` (half up to the cent), charged
in the payout that pays the sale; a refund's fee is not given back. ``reserve_percent`` of
each payout's sales is held back, and released in the first payout made with
``release_reserves=True``. Tests steer it through its Python object: ``capture(...)``
captures from the provider's side (a customer finishing a 3-D Secure check) and notifies,
``pay_out(arrival_date)`` makes the next payout of everything not paid out yet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import threading
import urllib.parse
import urllib.request
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from erp_sdk.drivers import sign_webhook

TIMESTAMP_HEADER = "Tillpoint-Timestamp"
SIGNATURE_HEADER = "Tillpoint-Signature"
CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FakeTillpoint:
    """The fake API and its state; ``start()`` serves it, ``url`` is its base URL."""

    def __init__(self, *, api_key: str = "tp-test-key", webhook_secret: str = "tp-hook-secret",
                 webhook_url: str | None = None, currency: str = "EUR",
                 fee_percent: Decimal = Decimal("1.4"), fee_fixed: Decimal = Decimal("0.25"),
                 reserve_percent: Decimal = Decimal("10"), decline_amounts: tuple[str, ...] = (),
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.currency = currency
        self.fee_percent, self.fee_fixed = fee_percent, fee_fixed
        self.reserve_percent = reserve_percent
        self.decline_amounts = {Decimal(a) for a in decline_amounts}
        self.payments: dict[str, dict[str, Any]] = {}
        self.balance: list[dict[str, Any]] = []
        """What payouts pay: sales and refunds not paid out yet, reserves held."""
        self.payouts: list[dict[str, Any]] = []
        self.sent: list[tuple[bytes, dict[str, str]]] = []
        self.by_key: dict[str, tuple[int, Any]] = {}
        self.lock = threading.RLock()
        self._payment_ids = itertools.count(1)
        self._refund_ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        self._payout_ids = itertools.count(1)
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTillpoint:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="fake-tillpoint")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeTillpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- payments --------------------------------------------------------------------

    def _payment(self, payment_id: str) -> dict[str, Any]:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise Refused(404, "not_found", f"no payment {payment_id}")
        return payment

    def create_payment(self, document: dict[str, Any]) -> dict[str, Any]:
        amount = Decimal(str(document["amount"]))
        currency = str(document["currency"]).upper()
        if amount <= 0 or amount != cents(amount):
            raise Refused(422, "invalid_amount", f"{amount} is not a positive amount in cents")
        if currency != self.currency:
            raise Refused(422, "invalid_currency", f"this account takes {self.currency} only")
        if amount in self.decline_amounts:
            raise Refused(402, "card_declined", "the card issuer declined the payment")
        with self.lock:
            payment = {"id": f"tp_pay_{next(self._payment_ids):06d}",
                       "reference": str(document.get("reference") or ""),
                       "customer": document.get("customer"), "currency": currency,
                       "authorized": str(amount), "captured": "0.00", "refunded": "0.00",
                       "status": "authorized"}
            self.payments[payment["id"]] = payment
        if document.get("capture"):
            return self.capture(payment["id"], amount, notify=False)
        return dict(payment)

    def capture(self, payment_id: str, amount: Decimal | None = None, *,
                notify: bool = True) -> dict[str, Any]:
        """Capture (from the API, or from the provider's side with ``notify``: a webhook
        ``payment.captured`` follows)."""
        with self.lock:
            payment = self._payment(payment_id)
            authorized = Decimal(payment["authorized"])
            amount = authorized if amount is None else amount
            if payment["status"] != "authorized":
                raise Refused(409, "not_capturable", f"{payment_id} is {payment['status']}")
            if amount <= 0 or amount > authorized:
                raise Refused(422, "invalid_amount", f"capture between 0 and {authorized}")
            payment["captured"], payment["status"] = str(amount), "captured"
            self.balance.append({"kind": "sale", "amount": amount, "payment": payment_id,
                                 "reference": payment["reference"]})
            answer = dict(payment)
        if notify:
            self.notify("payment.captured", {"payment": payment_id, "amount": str(amount),
                                             "currency": payment["currency"],
                                             "reference": payment["reference"]})
        return answer

    def refund(self, payment_id: str, amount: Decimal) -> dict[str, Any]:
        with self.lock:
            payment = self._payment(payment_id)
            left = Decimal(payment["captured"]) - Decimal(payment["refunded"])
            if amount <= 0 or amount > left or amount != cents(amount):
                raise Refused(422, "invalid_amount", f"refund between 0 and {left}")
            payment["refunded"] = str(Decimal(payment["refunded"]) + amount)
            payment["status"] = "refunded" if amount == left else "partially_refunded"
            refund = {"id": f"tp_re_{next(self._refund_ids):06d}", "payment": payment_id,
                      "amount": str(amount), "currency": payment["currency"],
                      "status": "succeeded", "payment_status": payment["status"]}
            self.balance.append({"kind": "refund", "amount": -amount, "payment": payment_id,
                                 "reference": payment["reference"]})
        self.notify("payment.refunded", {"payment": payment_id, "amount": str(amount),
                                         "currency": payment["currency"],
                                         "reference": payment["reference"]})
        return refund

    # -- payouts -----------------------------------------------------------------------

    def pay_out(self, arrival_date: dt.date, *, release_reserves: bool = False
                ) -> dict[str, Any]:
        """Pay out every sale and refund not paid out yet, less their fees and the reserve
        (and plus the reserves held before, with ``release_reserves``)."""
        with self.lock:
            lines: list[dict[str, str]] = []
            sales = Decimal(0)
            for item in [i for i in self.balance if i["kind"] in ("sale", "refund")]:
                lines.append({"type": item["kind"], "amount": str(item["amount"]),
                              "payment": item["payment"], "reference": item["reference"]})
                if item["kind"] == "sale":
                    sales += item["amount"]
                    fee = cents(item["amount"] * self.fee_percent / 100) + self.fee_fixed
                    lines.append({"type": "fee", "amount": str(-fee),
                                  "payment": item["payment"], "reference": item["reference"],
                                  "description": f"{self.fee_percent}% + {self.fee_fixed}"})
                self.balance.remove(item)
            if release_reserves:
                for held in [i for i in self.balance if i["kind"] == "reserve"]:
                    lines.append({"type": "reserve_release", "amount": str(held["amount"]),
                                  "description": f"released from {held['payout']}"})
                    self.balance.remove(held)
            payout_id = f"tp_po_{next(self._payout_ids):06d}"
            reserve = cents(sales * self.reserve_percent / 100)
            if reserve:
                lines.append({"type": "reserve", "amount": str(-reserve),
                              "description": f"{self.reserve_percent}% rolling reserve"})
                self.balance.append({"kind": "reserve", "amount": reserve,
                                     "payout": payout_id})
            amount = sum((Decimal(line["amount"]) for line in lines), Decimal(0))
            payout = {"id": payout_id, "arrival_date": arrival_date.isoformat(),
                      "currency": self.currency, "amount": str(amount), "lines": lines}
            self.payouts.append(payout)
        self.notify("payout.paid", {"payout": payout_id, "amount": str(amount),
                                    "currency": self.currency})
        return payout

    def payouts_since(self, since: dt.date) -> list[dict[str, Any]]:
        with self.lock:
            return [p for p in self.payouts if dt.date.fromisoformat(p["arrival_date"]) >= since]

    # -- webhooks ----------------------------------------------------------------------

    def notify(self, event_type: str, data: dict[str, Any]) -> bytes:
        body = json.dumps({"id": f"tp_evt_{next(self._event_ids):06d}", "type": event_type,
                           "created": dt.datetime.now(dt.UTC).isoformat(), "data": data}
                          ).encode()
        headers = self.signed_headers(body)
        self.sent.append((body, headers))
        if self.webhook_url:
            request = urllib.request.Request(self.webhook_url, data=body, method="POST",
                                             headers={"Content-Type": "application/json",
                                                      **headers})
            with urllib.request.urlopen(request, timeout=10):
                pass
        return body

    def signed_headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        return sign_webhook(self.webhook_secret, body, timestamp=timestamp,
                            timestamp_header=TIMESTAMP_HEADER, signature_header=SIGNATURE_HEADER)


def _handler(api: FakeTillpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, document: Any) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {api.api_key}":
                self._answer(401, {"error": {"code": "unauthorized",
                                             "message": "bad or missing API key"}})
                return False
            return True

        def _post(self, path: str, document: dict[str, Any]) -> tuple[int, Any]:
            parts = path.strip("/").split("/")
            if parts == ["v1", "payments"]:
                return 201, api.create_payment(document)
            if len(parts) == 4 and parts[:2] == ["v1", "payments"] and parts[3] == "capture":
                amount = document.get("amount")
                return 200, api.capture(parts[2], Decimal(str(amount)) if amount else None,
                                        notify=False)
            if len(parts) == 4 and parts[:2] == ["v1", "payments"] and parts[3] == "refunds":
                return 201, api.refund(parts[2], Decimal(str(document["amount"])))
            return 404, {"error": {"code": "no_route", "message": f"no route {path}"}}

        def do_POST(self) -> None:
            if not self._authorised():
                return
            path = urllib.parse.urlparse(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            try:
                document = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                self._answer(400, {"error": {"code": "bad_json", "message": "not JSON"}})
                return
            key = self.headers.get("Idempotency-Key")
            with api.lock:
                if key and key in api.by_key:
                    self._answer(*api.by_key[key])
                    return
                try:
                    answer = self._post(path, document)
                except Refused as refused:
                    answer = (refused.status, {"error": {"code": refused.code,
                                                         "message": refused.message}})
                except (KeyError, ArithmeticError, ValueError) as exc:
                    answer = (422, {"error": {"code": "invalid", "message": str(exc)}})
                if key:
                    api.by_key[key] = answer
            self._answer(*answer)

        def do_GET(self) -> None:
            if not self._authorised():
                return
            url = urllib.parse.urlparse(self.path)
            query = urllib.parse.parse_qs(url.query)
            parts = url.path.strip("/").split("/")
            if len(parts) == 3 and parts[:2] == ["v1", "payments"]:
                payment = api.payments.get(parts[2])
                if payment is None:
                    self._answer(404, {"error": {"code": "not_found",
                                                 "message": f"no payment {parts[2]}"}})
                else:
                    self._answer(200, payment)
            elif parts == ["v1", "payouts"]:
                since = dt.date.fromisoformat((query.get("since") or ["1970-01-01"])[0])
                self._answer(200, {"payouts": api.payouts_since(since)})
            else:
                self._answer(404, {"error": {"code": "no_route",
                                             "message": f"no route {url.path}"}})

    return Handler


def main() -> None:
    """``tillpoint-fake-api --port 8766``: serve the fake until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--api-key", default="tp-test-key")
    parser.add_argument("--webhook-secret", default="tp-hook-secret")
    parser.add_argument("--webhook-url")
    parser.add_argument("--currency", default="EUR")
    args = parser.parse_args()
    api = FakeTillpoint(api_key=args.api_key, webhook_secret=args.webhook_secret,
                        webhook_url=args.webhook_url, currency=args.currency,
                        port=args.port).start()
    print(f"Tillpoint fake API at {api.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        api.stop()


if __name__ == "__main__":
    main()
