"""How the worker signs a webhook delivery, so a receiver can tell it came from here.

Every delivery carries::

    ERP-Event-Id: 1234
    ERP-Event-Name: orders.order.confirmed
    ERP-Webhook-Timestamp: 1767225600
    ERP-Webhook-Signature: sha256=<hex HMAC-SHA256 of b"1767225600." + raw body>

keyed with the subscription's secret. The timestamp (Unix seconds) is part of the signed
bytes, so a captured request cannot be replayed later under a fresh timestamp; a receiver
refuses a timestamp too far from its own clock (``erp_sdk.verify_signed_webhook``).
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "ERP-Webhook-Timestamp"
SIGNATURE_HEADER = "ERP-Webhook-Signature"
EVENT_ID_HEADER = "ERP-Event-Id"
EVENT_NAME_HEADER = "ERP-Event-Name"


def signed_payload(timestamp: int, body: bytes) -> bytes:
    """The bytes the signature covers: the timestamp, a dot, then the raw body."""
    return f"{timestamp}.".encode("ascii") + body


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of the signed payload."""
    return "sha256=" + hmac.new(secret.encode(), signed_payload(timestamp, body),
                                hashlib.sha256).hexdigest()


def signature_headers(secret: str, body: bytes, *, timestamp: int | None = None,
                      timestamp_header: str = TIMESTAMP_HEADER,
                      signature_header: str = SIGNATURE_HEADER) -> dict[str, str]:
    """The two headers that sign ``body``, stamped now unless ``timestamp`` is given."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {timestamp_header: str(stamp), signature_header: signature(secret, stamp, body)}
