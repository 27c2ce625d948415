"""Calendar buckets (hour, day, week, month, quarter, year) of a UTC timestamp, counted in a
time zone, in SQL.

PostgreSQL converts with its own time-zone database (``timezone(zone, t)``). SQLite has
none, so the conversion is spelled out: the UTC offsets the zone takes between the first
and the last instant asked about, each over the span where it holds, as a ``CASE`` of
``datetime(t, '+N seconds')``. Either way an instant falls in the day, week or month a
clock on the seller's wall showed, across daylight-saving changes.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa


class TimeGrain(enum.StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


def offset_spans(zone: ZoneInfo, start: dt.datetime, end: dt.datetime
                 ) -> list[tuple[dt.datetime, int]]:
    """``(from_utc, offset_seconds)`` for each span between ``start`` and ``end`` over
    which ``zone`` keeps one UTC offset; the first span starts at ``start``."""
    def offset(instant: dt.datetime) -> int:
        return int(instant.astimezone(zone).utcoffset().total_seconds())  # type: ignore[union-attr]

    spans = [(start, offset(start))]
    step = dt.timedelta(hours=6)  # zones change offset at most a few times a year
    cursor = start
    while cursor < end:
        following = min(cursor + step, end)
        if offset(following) != spans[-1][1]:
            low, high = cursor, following  # the change is in (low, high]: bisect to the minute
            while high - low > dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == spans[-1][1] else (low, middle)
            spans.append((high.replace(second=0, microsecond=0), offset(high)))
        cursor = following
    return spans


def keeps_one_offset(zone: ZoneInfo) -> bool:
    """Whether ``zone`` has had one UTC offset over the last and next decades (UTC,
    Asia/Shanghai): then SQLite needs no span of instants to bucket in it."""
    year = dt.datetime.now(dt.UTC).year
    offsets = {dt.datetime(y, m, 1, tzinfo=dt.UTC).astimezone(zone).utcoffset()
               for y in range(year - 20, year + 11) for m in (1, 4, 7, 10)}
    return len(offsets) == 1


def _sqlite_shift(column: sa.ColumnElement[Any], spans: list[tuple[dt.datetime, int]]
                  ) -> sa.ColumnElement[Any]:
    """The modifier ``'+N seconds'`` for ``column``'s instant (a CASE over the spans)."""
    def modifier(seconds: int) -> str:
        return f"{seconds:+d} seconds"

    if len(spans) == 1:
        return sa.literal(modifier(spans[0][1]))
    whens = [(column < boundary, sa.literal(modifier(before)))
             for (boundary, _), (_, before) in zip(spans[1:], spans, strict=False)]
    return sa.case(*whens, else_=sa.literal(modifier(spans[-1][1])))


def bucket(column: sa.ColumnElement[Any], grain: TimeGrain, zone: ZoneInfo, dialect: str,
           start: dt.datetime, end: dt.datetime) -> sa.ColumnElement[Any]:
    """The first day (or hour) of the bucket holding ``column``'s instant, as text
    ``YYYY-MM-DD`` (``YYYY-MM-DD HH:00`` for hours) in ``zone``; ``start`` and ``end``
    bound the instants the query reads (SQLite needs them to know the offsets)."""
    if dialect == "postgresql":
        local = sa.func.timezone(zone.key, column)
        truncated = sa.func.date_trunc(grain.value, local)
        pattern = "YYYY-MM-DD HH24:00" if grain is TimeGrain.HOUR else "YYYY-MM-DD"
        return sa.func.to_char(truncated, pattern)
    shift = _sqlite_shift(column, offset_spans(zone, start, end))
    if grain is TimeGrain.HOUR:
        return sa.func.strftime("%Y-%m-%d %H:00", column, shift)
    if grain is TimeGrain.DAY:
        return sa.func.date(column, shift)
    if grain is TimeGrain.WEEK:  # the Monday on or before the day
        return sa.func.date(column, shift, "-6 days", "weekday 1")
    if grain is TimeGrain.MONTH:
        return sa.func.strftime("%Y-%m-01", column, shift)
    if grain is TimeGrain.QUARTER:
        month = sa.cast(sa.func.strftime("%m", column, shift), sa.Integer)
        first = (month - 1) / 3 * 3 + 1
        return sa.func.printf("%s-%02d-01", sa.func.strftime("%Y", column, shift), first)
    return sa.func.strftime("%Y-01-01", column, shift)


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant at which ``day`` starts in ``zone``."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
