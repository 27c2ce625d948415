"""The shop's request signature: one scheme for both directions of the channel.

A signed request carries two headers::

    X-Webstore-Timestamp: 1767225600
    X-Webstore-Signature: sha256=<hex HMAC-SHA256 of b"1767225600." + raw body>

keyed with the account's ``webhook_secret``. The timestamp (Unix seconds) is part of the
signed bytes: were only the body signed, anyone who captured a request could replay it
later with a fresh timestamp, and the freshness check would protect nothing. The
receiver refuses a timestamp further than its tolerance from its own clock, in either
direction.
"""

from __future__ import annotations

from collections.abc import Mapping

from erp_sdk.drivers import sign_webhook, verify_signed_webhook

TIMESTAMP_HEADER = "X-Webstore-Timestamp"
SIGNATURE_HEADER = "X-Webstore-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def signed_payload(timestamp: int, body: bytes) -> bytes:
    """The bytes the signature covers: the timestamp, a dot, then the raw body."""
    return f"{timestamp}.".encode("ascii") + body


def signature_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The two headers that sign ``body``, stamped now unless ``timestamp`` is given."""
    return sign_webhook(secret, body, timestamp=timestamp, timestamp_header=TIMESTAMP_HEADER,
                        signature_header=SIGNATURE_HEADER)


def verify_signed_request(secret: str, headers: Mapping[str, str], body: bytes, *,
                          tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
                          now: float | None = None) -> int:
    """Check that ``body`` was signed with ``secret`` within ``tolerance_seconds`` of
    ``now``; return the request's timestamp or raise ``WebhookRejected`` saying why.

    The scheme is the SDK's signed webhook (``erp_sdk.drivers.verify_signed_webhook``)
    under the shop's header names.
    """
    return verify_signed_webhook(secret, headers, body, now, tolerance_seconds,
                                 timestamp_header=TIMESTAMP_HEADER,
                                 signature_header=SIGNATURE_HEADER)
