"""A fake of the SwiftPost HTTP API, served for real on a local port.

It behaves as the carrier documents its API (see the package README):

- ``POST /v1/rates``: prices per service, answered after ``rate_delay`` seconds;
- ``POST /v1/labels`` with an ``Idempotency-Key`` header: books a label once per key (a
  repeat answers the same label) and returns it as a base64 PDF;
- ``GET /v1/labels?idempotency_key=K``: the label bought with a key, if any;
- ``POST /v1/labels/{tracking}/void``: cancels a label not yet collected;
- ``GET /v1/tracking/{tracking}``: the parcel's scans;
- ``GET /v1/invoices?since=YYYY-MM-DD``: invoices of the labels bought, with some
  deliberate discrepancies (a weight surcharge on every third parcel, a parcel billed
  twice, a charge for a parcel it never labelled);
- every call needs ``Authorization: Bearer <api key>``.

Tests steer it through its Python object: ``scan(...)`` records a scan and pushes it as a
signed webhook to ``webhook_url``; ``purchase_fault`` makes the next purchases book the
label and then time out (``"timeout"``) or answer 503 (``"server_error"``), as a carrier
whose answer is lost does; ``rate_delay`` slows the rates down, ``purchase_delay`` the
purchases.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import itertools
import json
import threading
import time
import urllib.parse
import urllib.request
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from erp_carrier_swiftpost.pdf import label_pdf
from erp_sdk.drivers import sign_webhook

TIMESTAMP_HEADER = "SwiftPost-Timestamp"
SIGNATURE_HEADER = "SwiftPost-Signature"
SERVICES = {"standard": (Decimal("4.90"), Decimal("1.10"), 3),
            "express": (Decimal("9.90"), Decimal("1.60"), 1)}
"""service -> (base price, price per kg, transit days), inside one country; abroad x1.8."""
CENT = Decimal("0.01")


def price(service: str, weight_kg: Decimal, domestic: bool) -> Decimal:
    base, per_kg, _ = SERVICES[service]
    amount = base + per_kg * weight_kg
    return (amount if domestic else amount * Decimal("1.8")).quantize(CENT)


class FakeSwiftPost:
    """The fake API and its state; ``start()`` serves it, ``url`` is its base URL."""

    def __init__(self, *, api_key: str = "sp-test-key", webhook_secret: str = "sp-hook-secret",
                 webhook_url: str | None = None, rate_delay: float = 0.0,
                 currency: str = "EUR", host: str = "127.0.0.1", port: int = 0) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.rate_delay = rate_delay
        self.currency = currency
        self.purchase_fault: str | None = None
        self.fault_delay = 3.0
        self.purchase_delay = 0.0
        self.labels: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.scans: dict[str, list[dict[str, Any]]] = {}
        self.purchases = 0
        self.lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._events = itertools.count(1)
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeSwiftPost:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="fake-swiftpost")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeSwiftPost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the API does ---------------------------------------------------------------

    def rates(self, document: dict[str, Any]) -> list[dict[str, Any]]:
        time.sleep(self.rate_delay)
        weight = sum(Decimal(str(p["weight_kg"])) for p in document["parcels"])
        domestic = document["from"]["country"] == document["to"]["country"]
        wanted = document.get("service")
        return sorted(({"service": name, "amount": str(price(name, weight, domestic)),
                        "currency": self.currency, "transit_days": days if domestic else days + 2}
                       for name, (_, _, days) in SERVICES.items() if wanted in (None, name)),
                      key=lambda rate: Decimal(rate["amount"]))

    def buy(self, key: str, document: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The label bought with ``key``: booked now, or the one booked before (True)."""
        with self.lock:
            known = self.by_key.get(key)
            if known is not None:
                return self.labels[known], True
            service = document.get("service") or "standard"
            weight = sum(Decimal(str(p["weight_kg"])) for p in document["parcels"])
            domestic = document["from"]["country"] == document["to"]["country"]
            number = f"SP{next(self._numbers):010d}"
            amount = price(service, weight, domestic)
            pdf = label_pdf([f"SwiftPost {service}", f"Tracking {number}",
                             f"Ref {document.get('reference', '')}",
                             f"To {document['to'].get('name', '')}",
                             f"{document['to'].get('postal_code', '')}"
                             f" {document['to'].get('city', '')} {document['to']['country']}",
                             f"{weight} kg"] + (["RETURN"] if document.get("is_return") else []))
            label = {"tracking_number": number, "service": service, "amount": str(amount),
                     "currency": self.currency, "weight_kg": str(weight),
                     "label_pdf": base64.b64encode(pdf).decode(), "idempotency_key": key,
                     "status": "active", "created": dt.datetime.now(dt.UTC).date().isoformat()}
            self.labels[number] = label
            self.by_key[key] = number
            self.purchases += 1
            self.scans[number] = [self._scan_record(number, "label_created", "")]
            return label, False

    def _scan_record(self, number: str, code: str, location: str,
                     at: dt.datetime | None = None) -> dict[str, Any]:
        return {"id": f"evt_{next(self._events):08d}", "tracking_number": number,
                "code": code, "location": location,
                "occurred_at": (at or dt.datetime.now(dt.UTC)).isoformat()}

    def void(self, number: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            label = self.labels.get(number)
            if label is None:
                return 404, {"error": f"no label {number}"}
            if any(scan["code"] != "label_created" for scan in self.scans[number]):
                return 409, {"error": f"{number} was collected; it cannot be voided"}
            label["status"] = "voided"
            return 200, {"tracking_number": number, "status": "voided"}

    def scan(self, number: str, code: str, *, location: str = "",
             at: dt.datetime | None = None, push: bool = True) -> dict[str, Any]:
        """A scan of a parcel; pushed as a signed webhook when ``webhook_url`` is set."""
        record = self._scan_record(number, code, location, at)
        with self.lock:
            self.scans.setdefault(number, []).append(record)
        if push and self.webhook_url:
            self.push(self.webhook_body([record]))
        return record

    def webhook_body(self, scans: list[dict[str, Any]]) -> bytes:
        return json.dumps({"type": "tracking.updated", "scans": scans}).encode()

    def signed_headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        return sign_webhook(self.webhook_secret, body, timestamp=timestamp,
                            timestamp_header=TIMESTAMP_HEADER,
                            signature_header=SIGNATURE_HEADER)

    def push(self, body: bytes) -> int:
        request = urllib.request.Request(
            self.webhook_url or "", data=body, method="POST",
            headers={"Content-Type": "application/json", **self.signed_headers(body)})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status

    def invoices(self, since: dt.date) -> list[dict[str, Any]]:
        """One invoice of every label bought since ``since`` (voided ones are not billed),
        with the discrepancies a real carrier's invoices have."""
        with self.lock:
            labels = [label for label in self.labels.values()
                      if label["status"] == "active"
                      and dt.date.fromisoformat(label["created"]) >= since]
        lines = []
        for index, label in enumerate(labels, start=1):
            amount = Decimal(label["amount"])
            if index % 3 == 0:
                lines.append({"tracking_number": label["tracking_number"],
                              "amount": str(amount + Decimal("1.25")),
                              "description": "weight correction"})
            else:
                lines.append({"tracking_number": label["tracking_number"],
                              "amount": str(amount), "description": label["service"]})
        if labels:
            lines.append({"tracking_number": labels[0]["tracking_number"],
                          "amount": labels[0]["amount"], "description": "billed again"})
            lines.append({"tracking_number": "SP9999999999", "amount": "6.00",
                          "description": "parcel not labelled by this account"})
        if not lines:
            return []
        today = dt.datetime.now(dt.UTC).date().isoformat()
        return [{"number": f"SPINV-{since.strftime('%Y%m%d')}", "date": today,
                 "currency": self.currency, "lines": lines}]


def _handler(api: FakeSwiftPost) -> type[BaseHTTPRequestHandler]:
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
                self._answer(401, {"error": "bad or missing API key"})
                return False
            return True

        def _document(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def do_POST(self) -> None:
            if not self._authorised():
                return
            path = urllib.parse.urlparse(self.path).path
            try:
                document = self._document()
            except json.JSONDecodeError:
                self._answer(400, {"error": "the body is not JSON"})
                return
            if path == "/v1/rates":
                self._answer(200, {"rates": api.rates(document)})
            elif path == "/v1/labels":
                key = self.headers.get("Idempotency-Key")
                if not key:
                    self._answer(400, {"error": "Idempotency-Key header required"})
                    return
                if document.get("service") not in (None, *SERVICES):
                    self._answer(422, {"error": f"unknown service {document['service']}"})
                    return
                label, replay = api.buy(key, document)
                time.sleep(api.purchase_delay)
                fault = api.purchase_fault
                if fault == "timeout" and not replay:
                    time.sleep(api.fault_delay)
                elif fault == "server_error" and not replay:
                    self._answer(503, {"error": "temporarily unavailable"})
                    return
                self._answer(200 if replay else 201, {**label, "replayed": replay})
            elif path.startswith("/v1/labels/") and path.endswith("/void"):
                status, answer = api.void(path.split("/")[3])
                self._answer(status, answer)
            else:
                self._answer(404, {"error": f"no route {path}"})

        def do_GET(self) -> None:
            if not self._authorised():
                return
            url = urllib.parse.urlparse(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path == "/v1/labels":
                key = (query.get("idempotency_key") or [""])[0]
                number = api.by_key.get(key)
                label = api.labels.get(number) if number else None
                self._answer(200, {"labels": [label] if label and label["status"] == "active"
                                   else []})
            elif url.path.startswith("/v1/tracking/"):
                number = url.path.rsplit("/", 1)[1]
                if number not in api.scans:
                    self._answer(404, {"error": f"no parcel {number}"})
                else:
                    self._answer(200, {"tracking_number": number, "scans": api.scans[number]})
            elif url.path == "/v1/invoices":
                since = dt.date.fromisoformat((query.get("since") or ["1970-01-01"])[0])
                self._answer(200, {"invoices": api.invoices(since)})
            else:
                self._answer(404, {"error": f"no route {url.path}"})

    return Handler


def main() -> None:
    """``swiftpost-fake-api --port 8765 --rate-delay 0.2``: serve the fake until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rate-delay", type=float, default=0.0)
    parser.add_argument("--api-key", default="sp-test-key")
    parser.add_argument("--webhook-secret", default="sp-hook-secret")
    parser.add_argument("--webhook-url")
    args = parser.parse_args()
    api = FakeSwiftPost(api_key=args.api_key, webhook_secret=args.webhook_secret,
                        webhook_url=args.webhook_url, rate_delay=args.rate_delay,
                        port=args.port).start()
    print(f"SwiftPost fake API at {api.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        api.stop()


if __name__ == "__main__":
    main()
