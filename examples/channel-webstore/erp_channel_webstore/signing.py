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

import re
import time
from collections.abc import Mapping

from erp_sdk.drivers import WebhookRejected, hmac_sha256_hex, verify_hmac_sha256

TIMESTAMP_HEADER = "X-Webstore-Timestamp"
SIGNATURE_HEADER = "X-Webstore-Signature"
DEFAULT_TOLERANCE_SECONDS = 300

_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


def signed_payload(timestamp: int, body: bytes) -> bytes:
    """The bytes the signature covers: the timestamp, a dot, then the raw body."""
    return f"{timestamp}.".encode("ascii") + body


def signature_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The two headers that sign ``body``, stamped now unless ``timestamp`` is given."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: "sha256=" + hmac_sha256_hex(secret, signed_payload(stamp, body)),
    }


def verify_signed_request(secret: str, headers: Mapping[str, str], body: bytes, *,
                          tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
                          now: float | None = None) -> int:
    """Check that ``body`` was signed with ``secret`` within ``tolerance_seconds`` of
    ``now``; return the request's timestamp or raise ``WebhookRejected`` saying why.

    ``headers`` may use any letter case. The signature is checked before the clock, so a
    forged request is never told that only its timestamp is wrong.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    raw_stamp = lowered.get(TIMESTAMP_HEADER.lower())
    signature = lowered.get(SIGNATURE_HEADER.lower())
    if not signature:
        raise WebhookRejected(f"the request has no {SIGNATURE_HEADER} header")
    if raw_stamp is None:
        raise WebhookRejected(f"the request has no {TIMESTAMP_HEADER} header")
    if not _UNIX_SECONDS.fullmatch(raw_stamp.strip()):
        raise WebhookRejected(f"the {TIMESTAMP_HEADER} header is not a time in Unix seconds")
    stamp = int(raw_stamp)
    verify_hmac_sha256(secret, signed_payload(stamp, body), signature)
    age = (time.time() if now is None else now) - stamp
    if age > tolerance_seconds:
        raise WebhookRejected(
            f"the request was signed {age:.0f} s ago, more than the {tolerance_seconds} s"
            " allowed; a late retry must be signed again (or this is a replay)")
    if -age > tolerance_seconds:
        raise WebhookRejected(
            f"the request's timestamp is {-age:.0f} s in the future, more than the"
            f" {tolerance_seconds} s allowed; check the sender's clock")
    return stamp
