"""Running periodic jobs once per due time across every process (table ``kernel_job_run``).

One row per job holds the due time last claimed. A runner claims a due time with one
conditional ``UPDATE`` (``... WHERE due_at < :due``) committed before the job starts:
the database lets exactly one runner change the row, whichever process or machine it
runs in (PostgreSQL re-checks the condition after the row lock it waited for; SQLite
has one writer at a time). The runner that changed it runs the job and records the
outcome on the same row; the others see the due time taken and move on. Nothing about
schedules is kept in memory, so a runner that starts late or restarts catches up on the
latest due time only, once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.db.base import Base
from erp_core.db.types import UtcDateTime, utcnow
from erp_core.db.upsert import Upsert
from erp_core.errors import ErpError, NotFoundError, PluginError
from erp_core.jobs.declaration import Job, RegisteredJob

if TYPE_CHECKING:
    from erp_core.context import KernelServices

log = logging.getLogger("erp.jobs")

MAX_ERROR_LENGTH = 2000


class JobOutcome(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobRunRecord(Base):
    """The last run of one job: the due time it was for, who ran it, how it ended."""

    __tablename__ = "kernel_job_run"

    name: Mapped[str] = mapped_column(sa.String(160), primary_key=True)
    due_at: Mapped[UtcDateTime | None]
    claimed_by: Mapped[str | None] = mapped_column(sa.String(200))
    started_at: Mapped[UtcDateTime | None]
    finished_at: Mapped[UtcDateTime | None]
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    summary: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)


@attrs.frozen
class JobRun:
    """What one run of a job did; ``due_at`` is ``None`` for a run started by hand."""

    name: str
    due_at: dt.datetime | None
    started_at: dt.datetime
    finished_at: dt.datetime
    outcome: JobOutcome
    summary: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "due_at": _iso(self.due_at),
                "started_at": _iso(self.started_at), "finished_at": _iso(self.finished_at),
                "outcome": str(self.outcome), "summary": self.summary, "error": self.error}


_TABLE = JobRunRecord.__table__
_ADD_ROW = Upsert(lambda insert: insert(_TABLE).on_conflict_do_nothing(
    index_elements=[_TABLE.c.name]))


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def runner_name() -> str:
    """Who claims a run: host, process and thread, so the row says where a job ran."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"


def registered_jobs(kernel: KernelServices) -> dict[str, RegisteredJob]:
    """Every job of the kernel and of the enabled plugins, by full name."""
    from erp_core.jobs.kernel_jobs import KERNEL_JOBS

    found: dict[str, RegisteredJob] = {}
    contributions: list[tuple[str, Sequence[Job]]] = [("kernel", KERNEL_JOBS),
                                                      *kernel.contribute("erp_register_jobs")]
    for plugin, jobs in contributions:
        for job in jobs or ():
            if not isinstance(job, Job):
                raise PluginError(f"plugin {plugin!r}: erp_register_jobs must return"
                                  f" erp_sdk.Job objects, not {type(job).__name__}",
                                  plugin=plugin)
            name = f"{plugin}.{job.name}"
            if name in found:
                raise PluginError(f"plugin {plugin!r} declares the job {job.name!r} twice",
                                  plugin=plugin)
            try:
                schedule = job.schedule
            except ErpError as exc:
                raise PluginError(f"plugin {plugin!r}, job {job.name!r}: {exc.message}",
                                  plugin=plugin) from None
            found[name] = RegisteredJob(name, plugin, job, schedule)
    return found


def _rows(kernel: KernelServices) -> dict[str, sa.Row[Any]]:
    with kernel.reading() as connection:
        return {row.name: row for row in connection.execute(sa.select(_TABLE))}


def _claim(kernel: KernelServices, job: RegisteredJob, due: dt.datetime, runner: str,
           now: dt.datetime) -> bool:
    """Take ``due`` for this runner, starting ``now``; false when another runner has it
    (or a run of the job is still under way and not yet past its timeout)."""
    with kernel.engine.begin() as connection:
        connection.execute(_ADD_ROW.on(connection), {"name": job.name})
        taken = connection.execute(
            sa.update(_TABLE)
            .where(_TABLE.c.name == job.name,
                   sa.or_(_TABLE.c.due_at.is_(None), _TABLE.c.due_at < due),
                   sa.or_(_TABLE.c.outcome.is_(None),
                          _TABLE.c.outcome != JobOutcome.RUNNING.value,
                          _TABLE.c.started_at < now - job.job.timeout))
            .values(due_at=due, claimed_by=runner, started_at=now, finished_at=None,
                    outcome=JobOutcome.RUNNING.value, summary=None, error=None))
        return taken.rowcount == 1


def _execute(kernel: KernelServices, job: RegisteredJob, due: dt.datetime | None, runner: str,
             started: dt.datetime) -> JobRun:
    """Run the job and record how it ended on its row (if this runner still holds it)."""
    clock = time.perf_counter()
    summary = error = None
    try:
        result = job.job.run(kernel)
        summary = None if result is None else str(result)[:MAX_ERROR_LENGTH]
        outcome = JobOutcome.SUCCEEDED
    except Exception as exc:
        outcome = JobOutcome.FAILED
        error = (exc.message if isinstance(exc, ErpError)
                 else f"{type(exc).__name__}: {exc}")[:MAX_ERROR_LENGTH]
        log.exception("job %s failed", job.name)
    finished = utcnow()
    from erp_core import metrics  # prometheus-client only where something is counted

    metrics.JOB_RUNS.labels(job.name, outcome.value).inc()
    metrics.JOB_SECONDS.labels(job.name).observe(time.perf_counter() - clock)
    with kernel.engine.begin() as connection:
        connection.execute(
            sa.update(_TABLE)
            .where(_TABLE.c.name == job.name, _TABLE.c.claimed_by == runner)
            .values(finished_at=finished, outcome=outcome.value, summary=summary, error=error))
    return JobRun(job.name, due, started, finished, outcome, summary, error)


def run_due_jobs(kernel: KernelServices, now: dt.datetime | None = None) -> list[JobRun]:
    """One tick of a job runner: run every job whose latest due time (at ``now``,
    default the clock) has not been claimed yet, and that this runner manages to claim.
    Returns the runs this call made, in the order they ran; a failing job is recorded and
    does not stop the others."""
    now = now or utcnow()
    jobs = registered_jobs(kernel)
    rows = _rows(kernel)
    runner = runner_name()
    runs = []
    for job in jobs.values():
        due = job.schedule.due_at_or_before(now)
        row = rows.get(job.name)
        if row is not None and row.due_at is not None and row.due_at >= due:
            continue
        started = utcnow()
        if _claim(kernel, job, due, runner, started):
            runs.append(_execute(kernel, job, due, runner, started))
    return runs


def run_job(kernel: KernelServices, name: str) -> JobRun:
    """Run one job now, whatever its schedule (``erp jobs run``); the scheduled due times
    are left as they are. Refused while a run of the job is under way elsewhere."""
    jobs = registered_jobs(kernel)
    job = jobs.get(name)
    if job is None:
        raise NotFoundError(f"there is no job {name!r}; `erp jobs list` shows the jobs:"
                            f" {', '.join(sorted(jobs)) or 'none'}")
    runner, now = runner_name(), utcnow()
    with kernel.engine.begin() as connection:
        connection.execute(_ADD_ROW.on(connection), {"name": name})
        taken = connection.execute(
            sa.update(_TABLE)
            .where(_TABLE.c.name == name,
                   sa.or_(_TABLE.c.outcome.is_(None),
                          _TABLE.c.outcome != JobOutcome.RUNNING.value,
                          _TABLE.c.started_at < now - job.job.timeout))
            .values(claimed_by=runner, started_at=now, finished_at=None,
                    outcome=JobOutcome.RUNNING.value, summary=None, error=None))
    if taken.rowcount != 1:
        from erp_core.errors import ConflictError

        raise ConflictError(f"job {name} is running elsewhere; try again once it finished")
    return _execute(kernel, job, None, runner, now)


def job_statuses(kernel: KernelServices, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Each job's schedule, last run and next run (``erp jobs list``)."""
    now = now or utcnow()
    rows = _rows(kernel)
    statuses = []
    for job in registered_jobs(kernel).values():
        row = rows.get(job.name)
        due = job.schedule.due_at_or_before(now)
        owed = row is None or row.due_at is None or row.due_at < due
        statuses.append({
            "name": job.name, "plugin": job.plugin, "schedule": job.schedule.describe(),
            "description": job.job.description,
            "last_run": _iso(row.started_at) if row else None,
            "finished_at": _iso(row.finished_at) if row else None,
            "outcome": row.outcome if row else None,
            "summary": row.summary if row else None,
            "error": row.error if row else None,
            "next_run": _iso(due if owed else job.schedule.due_after(now)),
        })
    return statuses
