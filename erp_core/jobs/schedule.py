"""When a job is due: every fixed interval, or on a cron expression, both in UTC.

A schedule answers two questions for any instant: the latest due time at or before it
(the run a runner owes) and the first one after it (what ``erp jobs list`` shows next).
Intervals are counted from the Unix epoch, so every process agrees on the due times of
``every=5 minutes`` without having to agree on when it started.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from erp_core.errors import ValidationError

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_TICK = dt.timedelta(microseconds=1)


def _cron(expression: str, start: dt.datetime, reverse: bool = False) -> Any:
    """A ``cronsim`` iterator, imported on first use: a CLI command that runs no job
    does not pay for it."""
    from cronsim import CronSim

    return CronSim(expression, start, reverse=reverse)


@attrs.frozen
class Schedule:
    """``every`` (a ``timedelta`` of at least one second) or ``cron`` (five fields,
    evaluated in UTC), exactly one of them."""

    every: dt.timedelta | None = None
    cron: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.every is None) == (self.cron is None):
            raise ValidationError("a job's schedule is `every` (an interval) or `cron`"
                                  " (an expression), exactly one of them",
                                  {"schedule": "give every or cron"})
        if self.every is not None and self.every < dt.timedelta(seconds=1):
            raise ValidationError(f"a job's interval must be at least one second, not"
                                  f" {self.every}", {"every": "at least one second"})
        if self.cron is not None:
            from cronsim import CronSimError

            try:
                _cron(self.cron, _EPOCH)
            except CronSimError as exc:
                raise ValidationError(f"the cron expression {self.cron!r} is invalid: {exc}",
                                      {"cron": str(exc)}) from None

    def due_at_or_before(self, now: dt.datetime) -> dt.datetime:
        """The latest due time that is not after ``now``."""
        if self.every is not None:
            step = self.every // _TICK
            return _EPOCH + ((now - _EPOCH) // _TICK // step) * step * _TICK
        return next(_cron(self.cron, now.astimezone(dt.UTC) + _TICK, reverse=True))  # type: ignore[arg-type]

    def due_after(self, now: dt.datetime) -> dt.datetime:
        """The first due time strictly after ``now``."""
        if self.every is not None:
            return self.due_at_or_before(now) + self.every
        return next(_cron(self.cron, now.astimezone(dt.UTC)))  # type: ignore[arg-type]

    def describe(self) -> str:
        if self.cron is not None:
            return f"cron {self.cron}"
        seconds = int(self.every.total_seconds())  # type: ignore[union-attr]
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds % size == 0:
                return f"every {seconds // size}{unit}"
        return f"every {seconds}s"
