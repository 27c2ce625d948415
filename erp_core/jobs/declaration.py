"""What a plugin declares to have work done periodically (``erp_register_jobs``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from erp_core.jobs.schedule import Schedule

if TYPE_CHECKING:
    from erp_core.context import KernelServices

DEFAULT_TIMEOUT = dt.timedelta(hours=1)


@attrs.frozen
class Job:
    """A periodic job: ``run(kernel)`` every ``every`` or on the ``cron`` expression (UTC).

    ``run`` receives the booted kernel and does its work in transactions of its own
    (``kernel.run``), talking to outside services outside them; what it returns (a short
    text, or ``None``) is kept as the run's summary, and an exception marks the run
    failed with its message. Each due time is run at most once across every process
    sharing the database. A run still unfinished after ``timeout`` is taken for dead
    (its process crashed): only then may another runner start the job again.
    """

    name: str
    run: Callable[[KernelServices], Any] = attrs.field(repr=False)
    every: dt.timedelta | None = None
    cron: str | None = None
    description: str = ""
    timeout: dt.timedelta = DEFAULT_TIMEOUT

    @property
    def schedule(self) -> Schedule:
        return Schedule(every=self.every, cron=self.cron)


@attrs.frozen
class RegisteredJob:
    """A job under its full name, ``<plugin>.<name>``, with its checked schedule."""

    name: str
    plugin: str
    job: Job
    schedule: Schedule
