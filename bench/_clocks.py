"""Clocks a benchmark reads: wall time, and the CPU seconds spent by the processes it
measures (its own, a server's, and PostgreSQL's when it runs on this machine).

On a machine whose cores are shared by the client, the server and the database, the
CPU each spends per unit of work bounds the throughput: ``cores / (sum of CPU seconds
per unit)`` is the most any code could reach with that much work per unit.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import NamedTuple

import sqlalchemy as sa

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PROC = Path("/proc")
_LOCAL_HOSTS = {None, "", "localhost", "127.0.0.1", "::1"}


def _stat_seconds(pid: int | str) -> float:
    """User and system CPU seconds of one process (all its threads) and of its children
    that exited (a server's connections closed meanwhile), 0 once it is gone."""
    try:
        fields = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(field) for field in fields[11:15]) / _TICKS


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in (_PROC / str(pid) / "task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def process_tree_cpu(pid: int) -> float:
    """CPU seconds of a process and all its descendants alive now (a server's workers)."""
    pending, total = [pid], 0.0
    while pending:
        current = pending.pop()
        total += _stat_seconds(current)
        pending += _children(current)
    return total


def database_cpu(url: str) -> float | None:
    """CPU seconds of every PostgreSQL process on this machine (other databases' work
    included: run on a quiet server), or ``None`` when the database is not a PostgreSQL
    server on this machine or /proc shows none of its processes."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql" or parsed.host not in _LOCAL_HOSTS \
            or not _PROC.is_dir():
        return None
    total, found = 0.0, False
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += _stat_seconds(entry.name)
                    found = True
            except OSError:
                continue
    return total if found else None


class Reading(NamedTuple):
    """Clocks read at one moment: wall (monotonic, comparable across processes), this
    process's CPU, the database's CPU."""

    wall: float
    cpu: float
    database: float | None

    @classmethod
    def now(cls, url: str) -> Reading:
        return cls(time.monotonic(), time.process_time(), database_cpu(url))


class Span(NamedTuple):
    """What one run measured, from the start of the clock to its last unit of work."""

    units: int
    first: Reading
    last: Reading
    cpu: float
    """CPU seconds of the processes running the code measured (a server's, over HTTP)."""
    client_cpu: float | None = None
    """CPU seconds of the clients sending the work over HTTP."""
    queries: float = float("nan")
    """Statements per unit."""

    @classmethod
    def between(cls, units: int, first: Reading, last: Reading, queries: float = float("nan")
                ) -> Span:
        """The span of work done by this process alone."""
        return cls(units, first, last, last.cpu - first.cpu, None, queries)

    @property
    def seconds(self) -> float:
        return self.last.wall - self.first.wall

    @property
    def database_cpu(self) -> float | None:
        first, last = self.first.database, self.last.database
        return None if first is None or last is None else last - first

    @classmethod
    def together(cls, spans: list[Span]) -> Span:
        """Spans of processes that ran at the same time, as one: from the first start to
        the last end, their CPU added up."""
        databases = [s.first.database for s in spans] + [s.last.database for s in spans]
        known = None not in databases
        return cls(sum(s.units for s in spans),
                   Reading(min(s.first.wall for s in spans), 0.0,
                           min(s.first.database for s in spans) if known else None),
                   Reading(max(s.last.wall for s in spans), 0.0,
                           max(s.last.database for s in spans) if known else None),
                   sum(s.cpu for s in spans), None,
                   sum(s.queries * s.units for s in spans) / sum(s.units for s in spans))
