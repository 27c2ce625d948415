"""The dashboard in English and Chinese (zh-CN): message catalogues, the choice of
language, and numbers, money, percentages and dates formatted for it (Babel).

The language comes from the page's switch (remembered in a cookie), else from the
browser's ``Accept-Language``; English when neither names a language the dashboard has.
Each catalogue is a JSON file of ``locales/``, with the same keys in every language (a
test checks it).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import attrs
from babel import Locale, negotiate_locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

LANGUAGES = ("en", "zh_CN")
DEFAULT = "en"
NAMES = {"en": "English", "zh_CN": "中文"}
NOTHING = "\u2013"  # an en dash where a figure is missing
SPOKEN_AS = {"zh": "zh_CN", "zh_hans": "zh_CN", "zh_sg": "zh_CN", "en_us": "en", "en_gb": "en"}
"""Tags a browser sends for a language the dashboard has under another name."""


@cache
def catalogue(language: str) -> dict[str, str]:
    text = resources.files("erp_reports").joinpath(f"locales/{language}.json").read_text(
        encoding="utf-8")
    return json.loads(text)


def accepted(header: str | None) -> list[str]:
    """The languages of an ``Accept-Language`` header, most wanted first."""
    weighted = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        if not tag or tag == "*":
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, position, tag.replace("-", "_")))
    return [tag for _q, _p, tag in sorted(weighted)]


def choose_language(asked: str | None, remembered: str | None, header: str | None) -> str:
    for choice in (asked, remembered):
        if choice in LANGUAGES:
            return choice  # type: ignore[return-value]
    wanted = [SPOKEN_AS.get(tag.lower(), tag) for tag in accepted(header)]
    return negotiate_locale(wanted, list(LANGUAGES)) or DEFAULT


@attrs.frozen
class Speaker:
    """Messages and formats of one language, for one page."""

    language: str
    currency: str
    zone: Any

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    @property
    def html_lang(self) -> str:
        return self.language.replace("_", "-")

    def __call__(self, key: str, **values: Any) -> str:
        message = catalogue(self.language).get(key) or catalogue(DEFAULT)[key]
        return message.format(**values) if values else message

    def money(self, value: Any) -> str:
        if value is None:
            return NOTHING
        return format_currency(Decimal(value), self.currency, locale=self.locale)

    def number(self, value: Any) -> str:
        if value is None:
            return NOTHING
        return format_decimal(Decimal(value), locale=self.locale)

    def percent(self, value: Any) -> str:
        if value is None:
            return NOTHING
        return format_percent(Decimal(value), locale=self.locale, format="#,##0.#%")

    def date(self, value: str | dt.date) -> str:
        day = dt.date.fromisoformat(value) if isinstance(value, str) else value
        return format_date(day, format="medium", locale=self.locale)

    def moment(self, value: dt.datetime) -> str:
        return format_datetime(value, format="short", tzinfo=self.zone, locale=self.locale)

    def value(self, unit: str, value: Any) -> str:
        """A metric's figure as its unit reads."""
        if unit == "money":
            return self.money(value)
        if unit == "share":
            return self.percent(value)
        return self.number(value)
