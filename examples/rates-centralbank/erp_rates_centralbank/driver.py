"""The central bank's daily reference rates as an ERP exchange-rate source.

The bank publishes, each business day, what ``units`` of each currency are worth in its
own currency (``base``), as strings. Asked for rates in the base currency, the source
divides each rate by its units (exact for the bank's four to six decimals). Asked for
another quote currency ``Q`` that the bank lists, it gives the cross rates: a currency
``X`` is worth ``rate(X) / rate(Q)`` units of ``Q`` and the base is worth ``1 / rate(Q)``,
rounded half-even to the ten decimal places the ERP keeps for a rate. A day without a
publication (404) gives no rates: the ERP then converts with the latest earlier day's.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from erp_sdk import ValidationError
from erp_sdk.drivers import DriverFailure, FetchedRate

TEN_PLACES = Decimal(1).scaleb(-10)


class CentralBankRates:
    """Entry point ``centralbank`` of ``erp.exchange_rate_sources``.

    Settings: ``url`` (the feed, e.g. ``https://rates.example-bank.eu``),
    ``timeout_seconds`` (default 10). Secrets: ``api_key`` when the feed wants one.
    """

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        url = str(settings.get("url") or "")
        if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
            raise ValidationError("the central bank source needs a url setting such as"
                                  " https://rates.example-bank.eu", {"url": "required"})
        self._url = url.rstrip("/")
        try:
            self._timeout = float(settings.get("timeout_seconds", 10))
        except (TypeError, ValueError):
            raise ValidationError("timeout_seconds must be a number of seconds",
                                  {"timeout_seconds": "not a number"}) from None
        self._api_key = secrets.get("api_key")

    def fetch(self, day: dt.date, quote_currency: str) -> Sequence[FetchedRate]:
        document = self._get(f"/api/reference-rates/{day.isoformat()}")
        if document is None:
            return []
        base, per_unit = self._per_unit_of_base(document)
        quote = quote_currency.upper()
        if quote == base:
            return [FetchedRate(currency, rate) for currency, rate in sorted(per_unit.items())]
        if quote not in per_unit:
            raise DriverFailure(f"the central bank quotes no rate for {quote} (base {base})")
        divisor = per_unit.pop(quote)
        per_unit[base] = Decimal(1)
        return [FetchedRate(currency, (rate / divisor).quantize(TEN_PLACES, ROUND_HALF_EVEN))
                for currency, rate in sorted(per_unit.items())]

    def _get(self, path: str) -> dict[str, Any] | None:
        request = urllib.request.Request(self._url + path, headers={"Accept": "application/json"})
        if self._api_key:
            request.add_header("X-Api-Key", str(self._api_key))
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise DriverFailure(f"the central bank's feed answered {exc.code}"
                                f" for {path}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DriverFailure(f"the central bank's feed cannot be reached: {exc}") from None
        except ValueError:
            raise DriverFailure(f"the central bank's feed sent no JSON for {path}") from None

    @staticmethod
    def _per_unit_of_base(document: Mapping[str, Any]) -> tuple[str, dict[str, Decimal]]:
        """The base currency and what one unit of each listed currency is worth in it."""
        try:
            base = str(document["base"]).upper()
            rates: dict[str, Decimal] = {}
            for row in document["rates"]:
                if not isinstance(row["rate"], str):
                    raise DriverFailure(f"the rate of {row['currency']} is not a string:"
                                        " refusing a number that may have been rounded")
                rate, units = Decimal(row["rate"]), Decimal(int(row.get("units", 1)))
                if not rate.is_finite() or units <= 0:
                    raise DriverFailure(f"the feed's rate of {row['currency']} is unusable")
                rates[str(row["currency"]).upper()] = rate / units
            return base, rates
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise DriverFailure(f"the central bank's feed is not the documented table: {exc}"
                                ) from None
