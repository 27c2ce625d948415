"""The dashboard's tiles: which metrics each shows and how, and their figures for a
principal, a date range and a channel.

Tiles name metrics by their full names; a tile whose metric no enabled plugin defines,
or that the principal may not see, is left out, so the dashboard shows what this
database and this user have. Every figure comes through the same report query as the
API (permissions and record rules included).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs

from erp_reports.query import ReportRequest, run_report
from erp_reports.settings import ReportSettings, zone
from erp_sdk import ErpError, Kernel, Principal

SALES = "orders.net_sales"
ORDERS = "orders.orders"


@attrs.frozen
class Breakdown:
    """A tile of one metric cut by one dimension: its rows, a chart, a drill-down each."""

    key: str
    metric: str
    dimension: str
    chart: str | None = None
    limit: int = 8
    by_time: bool = True


@attrs.frozen
class Figure:
    """A tile of one figure (now, not of the date range), with a drill-down."""

    key: str
    metric: str


BREAKDOWNS = (
    Breakdown("orders_by_state", "orders.orders_placed", "state", chart="doughnut"),
    Breakdown("sales_by_channel", SALES, "channel", chart="bar"),
    Breakdown("top_products", SALES, "product", limit=5),
    Breakdown("tier_distribution", "crm.customers", "customer_tier", chart="doughnut",
              by_time=False),
)
FIGURES = (Figure("low_stock", "inventory.low_stock_alerts"),
           Figure("open_tickets", "orders.open_tickets"))


@attrs.frozen
class Period:
    """The dashboard's filter: local dates (inclusive) and a channel id or none."""

    date_from: dt.date
    date_to: dt.date
    channel: int | None = None

    def query(self) -> dict[str, str]:
        """The filter as query-string parameters, for links that keep it."""
        params = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        if self.channel is not None:
            params["channel"] = str(self.channel)
        return params


def default_period(settings: ReportSettings) -> Period:
    today = dt.datetime.now(zone(settings.time_zone)).date()
    return Period(today - dt.timedelta(days=29), today)


def _report(kernel: Kernel, principal: Principal, settings: ReportSettings,
            **body: Any) -> dict[str, Any] | None:
    """A report's answer, or ``None`` when this database or user has no such figure."""
    try:
        return run_report(kernel, principal, ReportRequest(**body), settings)
    except ErpError:
        return None


def _channel_filter(period: Period) -> tuple[Any, ...]:
    from erp_reports.query import FilterRequest

    return (FilterRequest("channel", (str(period.channel),)),) if period.channel else ()


def comparison(kernel: Kernel, principal: Principal, settings: ReportSettings,
               current: tuple[dt.date, dt.date], previous: tuple[dt.date, dt.date],
               period: Period) -> dict[str, Any] | None:
    """Sales and orders over ``current`` against ``previous`` (both inclusive)."""
    figures = []
    for start, end in (current, previous):
        answer = _report(kernel, principal, settings, metrics=(SALES, ORDERS),
                         filters=_channel_filter(period), date_from=start.isoformat(),
                         date_to=end.isoformat())
        if answer is None:
            return None
        row = answer["rows"][0] if answer["rows"] else {}
        figures.append((Decimal(row.get(SALES) or 0), int(row.get(ORDERS) or 0)))
    (sales, orders), (before, _orders_before) = figures
    change = (sales - before) / before if before else None
    return {"sales": sales, "orders": orders, "previous": before, "change": change}


def headline(kernel: Kernel, principal: Principal, settings: ReportSettings,
             period: Period) -> dict[str, Any]:
    """Today against yesterday, and this month so far against the previous month's
    same days, in the company's time zone."""
    today = dt.datetime.now(zone(settings.time_zone)).date()
    yesterday = today - dt.timedelta(days=1)
    month_start = today.replace(day=1)
    previous_month_end = month_start - dt.timedelta(days=1)
    previous_start = previous_month_end.replace(day=1)
    previous_same_day = previous_start + min(today - month_start,
                                             previous_month_end - previous_start)
    return {
        "sales_today": comparison(kernel, principal, settings, (today, today),
                                  (yesterday, yesterday), period),
        "sales_this_month": comparison(kernel, principal, settings, (month_start, today),
                                       (previous_start, previous_same_day), period),
    }


def breakdowns(kernel: Kernel, principal: Principal, settings: ReportSettings,
               period: Period, wanted: Sequence[Breakdown] = BREAKDOWNS
               ) -> list[dict[str, Any]]:
    tiles = []
    for tile in wanted:
        dated = ({"date_from": period.date_from.isoformat(),
                  "date_to": period.date_to.isoformat()} if tile.by_time else {})
        filters = _channel_filter(period) if tile.dimension != "channel" or period.channel \
            else ()
        answer = _report(kernel, principal, settings, metrics=(tile.metric,),
                         dimensions=(tile.dimension,), filters=filters,
                         order_by=tile.metric, limit=tile.limit, **dated)
        if answer is None and filters:  # a metric the channel does not cut (tiers)
            answer = _report(kernel, principal, settings, metrics=(tile.metric,),
                             dimensions=(tile.dimension,), order_by=tile.metric,
                             limit=tile.limit, **dated)
        if answer is None:
            continue
        definition = answer["metrics"][0]
        tiles.append({"tile": tile, "unit": definition["unit"], "title": definition["title"],
                      "rows": [{"key": row[tile.dimension],
                                "label": row.get(tile.dimension + "_label"),
                                "value": row[tile.metric]} for row in answer["rows"]]})
    return tiles


def figures(kernel: Kernel, principal: Principal, settings: ReportSettings,
            period: Period) -> list[dict[str, Any]]:
    tiles = []
    for tile in FIGURES:
        answer = _report(kernel, principal, settings, metrics=(tile.metric,),
                         filters=_channel_filter(period))
        if answer is None:
            answer = _report(kernel, principal, settings, metrics=(tile.metric,))
        if answer is None:
            continue
        value = answer["rows"][0][tile.metric] if answer["rows"] else 0
        tiles.append({"tile": tile, "value": value, "unit": answer["metrics"][0]["unit"]})
    return tiles


def channels(kernel: Kernel, principal: Principal, settings: ReportSettings,
             period: Period) -> list[tuple[Any, str]]:
    """The channels to filter by: those that sold in the period, with their names."""
    answer = _report(kernel, principal, settings, metrics=(SALES,), dimensions=("channel",),
                     date_from=period.date_from.isoformat(), date_to=period.date_to.isoformat(),
                     order_by="channel", descending=False)
    if answer is None:
        return []
    return [(row["channel"], row.get("channel_label") or str(row["channel"]))
            for row in answer["rows"]]
