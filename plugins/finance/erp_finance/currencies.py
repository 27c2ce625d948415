"""Exchange rates into the books' (functional) currency.

The rates themselves are the kernel's (``erp_sdk.exchange_rate``), shared with every
plugin: finance reads and writes them quoted in the currency of its books. A document in
a foreign currency is converted at the latest rate on or before its date; a missing rate
is an error that names the currency and the date, never a silent 1.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from erp_finance.accounts import book_settings
from erp_sdk import ExactNumeric, exchange_rate, set_exchange_rate

RATE_TYPE = ExactNumeric(20, 10)


def set_rate(session: Session, currency: str, day: dt.date, rate: Decimal,
             source: str | None = "manual") -> None:
    """Enter the rate of ``currency`` in the books' currency from ``day`` on."""
    set_exchange_rate(session, currency, book_settings(session).currency, day, rate, source)


def rate_on(session: Session, currency: str, day: dt.date) -> Decimal:
    """Functional units per unit of ``currency`` on ``day`` (1 for the functional one)."""
    return exchange_rate(session, currency, book_settings(session).currency, day)
