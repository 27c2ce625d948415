"""Amounts of foreign purchases in the company currency.

Stock is costed in the company currency, ``ERP_COMPANY_CURRENCY`` (default EUR). The
rates are the kernel's (``erp_sdk.exchange_rate``), shared with finance and every other
plugin: a rate entered once, through ``/api/v1/kernel/exchange-rates``, ``erp rates set`` or the
finance plugin, is the rate a receipt and a replenishment run convert with.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from erp_sdk import exchange_rate, exchange_rates

COST_QUANTUM = Decimal("0.0001")


def company_currency() -> str:
    return os.environ.get("ERP_COMPANY_CURRENCY", "EUR").upper()


def rate_on(session: Session, currency: str, on: dt.date) -> Decimal:
    """Company currency units per unit of ``currency`` on a day; 1 for the company
    currency; 422 when no rate was entered on or before it."""
    return exchange_rate(session, currency, company_currency(), on)


def rates_on(session: Session, on: dt.date) -> dict[str, Decimal]:
    """Every currency's rate on a day (for runs that price many offers at once)."""
    return exchange_rates(session, company_currency(), on)


def to_company(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
