"""``SwiftPostCarrier``: the ``swiftpost`` driver of the ``erp.carriers`` namespace.

settings: ``{"base_url": "https://api.swiftpost.example", "timeout_seconds": 10}``;
secrets: ``{"api_key": "...", "webhook_secret": "..."}``. Every call goes over HTTP to
the SwiftPost API (the stdlib's ``urllib``, nothing else to install).

A purchase sends the ERP's idempotency key as SwiftPost's ``Idempotency-Key`` header, so
SwiftPost books once however often it is asked; a purchase whose answer is lost (timeout,
broken connection, 5xx) raises ``OutcomeUnknown``, and ``find_shipment`` asks SwiftPost
for the label bought with the key.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from erp_sdk import ValidationError
from erp_sdk.drivers import (
    Address,
    Amount,
    DriverFailure,
    FreightInvoice,
    FreightInvoiceLine,
    OutcomeUnknown,
    RateQuote,
    ShipmentLabel,
    ShipmentRequest,
    TrackingEvent,
    TrackingStatus,
    WebhookRequest,
    verify_signed_webhook,
)

STATUSES = {
    "label_created": TrackingStatus.PENDING,
    "picked_up": TrackingStatus.IN_TRANSIT,
    "in_transit": TrackingStatus.IN_TRANSIT,
    "arrived_at_hub": TrackingStatus.IN_TRANSIT,
    "out_for_delivery": TrackingStatus.OUT_FOR_DELIVERY,
    "delivered": TrackingStatus.DELIVERED,
    "delivery_attempt_failed": TrackingStatus.FAILED_ATTEMPT,
    "exception": TrackingStatus.EXCEPTION,
    "damaged": TrackingStatus.EXCEPTION,
    "return_to_sender": TrackingStatus.RETURNED,
}
"""SwiftPost's scan codes -> the ERP's normalised statuses (an unknown code: exception)."""


def _address(address: Address) -> dict[str, str]:
    return {"name": address.name, "line1": address.line1, "line2": address.line2,
            "city": address.city, "postal_code": address.postal_code,
            "region": address.region, "country": address.country}


def _document(request: ShipmentRequest) -> dict[str, Any]:
    return {
        "reference": request.reference, "service": request.service,
        "from": _address(request.sender), "to": _address(request.recipient),
        "is_return": request.is_return,
        "parcels": [{"weight_kg": str(p.weight_kg),
                     "dimensions_cm": [str(d) for d in (p.length_cm, p.width_cm, p.height_cm)
                                       if d is not None]} for p in request.parcels],
        "customs": [{"description": c.description, "quantity": str(c.quantity),
                     "value": str(c.value.value), "currency": c.value.currency,
                     "hs_code": c.hs_code, "origin_country": c.origin_country}
                    for c in request.customs],
    }


class SwiftPostCarrier:
    """The SwiftPost API, as the ERP's ``Carrier`` protocol."""

    name = "SwiftPost"

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        errors = {}
        if not str(settings.get("base_url") or "").startswith(("http://", "https://")):
            errors["settings.base_url"] = "the SwiftPost API's URL (http:// or https://)"
        for name in ("api_key", "webhook_secret"):
            if not secrets.get(name):
                errors[f"secrets.{name}"] = "required"
        if errors:
            raise ValidationError("the SwiftPost account is not configured", errors)
        self._base = str(settings["base_url"]).rstrip("/")
        self._timeout = float(settings.get("timeout_seconds") or 10)
        self._api_key = str(secrets["api_key"])
        self._webhook_secret = str(secrets["webhook_secret"])

    def _call(self, method: str, path: str, document: Any = None,
              headers: Mapping[str, str] | None = None, *, unknown_on_failure: bool = False
              ) -> Any:
        """The JSON answer; ``OutcomeUnknown`` (when SwiftPost may have acted) or
        ``DriverFailure`` when there is none."""
        request = urllib.request.Request(
            self._base + path, method=method,
            data=json.dumps(document).encode() if document is not None else None,
            headers={"Authorization": f"Bearer {self._api_key}",
                     "Content-Type": "application/json", **(headers or {})})
        failure = OutcomeUnknown if unknown_on_failure else DriverFailure
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace")
            if exc.code >= 500:
                raise failure(f"SwiftPost answered {exc.code}: {detail}") from None
            raise DriverFailure(f"SwiftPost refused ({exc.code}): {detail}") from None
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            raise failure(f"SwiftPost did not answer: {exc}") from None

    def quote(self, request: ShipmentRequest) -> Sequence[RateQuote]:
        answer = self._call("POST", "/v1/rates", _document(request))
        return [RateQuote(self.name, rate["service"], Amount(rate["amount"], rate["currency"]),
                          rate.get("transit_days")) for rate in answer["rates"]]

    def _label(self, answer: Mapping[str, Any]) -> ShipmentLabel:
        return ShipmentLabel(answer["tracking_number"], answer["service"],
                             Amount(answer["amount"], answer["currency"]),
                             base64.b64decode(answer["label_pdf"]), "pdf")

    def create_shipment(self, request: ShipmentRequest) -> ShipmentLabel:
        key = request.idempotency_key or request.reference
        return self._label(self._call("POST", "/v1/labels", _document(request),
                                      {"Idempotency-Key": key}, unknown_on_failure=True))

    def find_shipment(self, idempotency_key: str) -> ShipmentLabel | None:
        query = urllib.parse.urlencode({"idempotency_key": idempotency_key})
        labels = self._call("GET", f"/v1/labels?{query}")["labels"]
        return self._label(labels[0]) if labels else None

    def void_shipment(self, tracking_number: str) -> None:
        self._call("POST", f"/v1/labels/{urllib.parse.quote(tracking_number)}/void", {})

    def _event(self, scan: Mapping[str, Any]) -> TrackingEvent:
        at = dt.datetime.fromisoformat(scan["occurred_at"])
        if at.tzinfo is None:
            raise ValidationError(f"SwiftPost scan {scan.get('id')} has no time zone")
        return TrackingEvent(scan["tracking_number"],
                             STATUSES.get(scan["code"], TrackingStatus.EXCEPTION),
                             at.astimezone(dt.UTC), scan.get("location") or "",
                             scan["code"], str(scan.get("id") or ""), dict(scan))

    def track(self, tracking_number: str) -> Sequence[TrackingEvent]:
        answer = self._call("GET", f"/v1/tracking/{urllib.parse.quote(tracking_number)}")
        return sorted((self._event(scan) for scan in answer["scans"]), key=lambda e: e.at)

    def parse_tracking_webhook(self, request: WebhookRequest) -> Sequence[TrackingEvent]:
        verify_signed_webhook(self._webhook_secret, request.headers, request.body,
                              timestamp_header="swiftpost-timestamp",
                              signature_header="swiftpost-signature")
        try:
            document = json.loads(request.body)
            return [self._event(scan) for scan in document["scans"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError(f"the SwiftPost webhook is malformed: {exc}") from None

    def fetch_invoices(self, since: dt.date) -> Sequence[FreightInvoice]:
        answer = self._call("GET", f"/v1/invoices?since={since.isoformat()}")
        return [FreightInvoice(
            invoice["number"], dt.date.fromisoformat(invoice["date"]), invoice["currency"],
            [FreightInvoiceLine(line["tracking_number"],
                                Amount(Decimal(line["amount"]), invoice["currency"]),
                                line.get("description", ""))
             for line in invoice["lines"]]) for invoice in answer["invoices"]]
