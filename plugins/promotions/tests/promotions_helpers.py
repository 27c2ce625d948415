"""Helpers of the promotions tests (a uniquely named module, not a conftest, so it cannot
shadow another test directory's helpers in a combined run)."""

from __future__ import annotations

from decimal import Decimal


def money(value: str | Decimal) -> Decimal:
    """An amount to the cent, for comparing the API's four-decimal strings."""
    return Decimal(value).quantize(Decimal("0.01"))
