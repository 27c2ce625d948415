"""The database reports read from: a read replica when ``ERP_REPORTS_DATABASE_URL`` names
one, so heavy reads stay off the primary; otherwise the kernel's own database.

A replica lags its primary by a moment, which a report can afford; nothing here writes.
The engine is made once per kernel and disposed of when the kernel shuts down.
"""

from __future__ import annotations

import weakref

import sqlalchemy as sa

from erp_reports.settings import ReportSettings
from erp_sdk import Kernel

_ENGINES: weakref.WeakKeyDictionary[Kernel, sa.Engine] = weakref.WeakKeyDictionary()


def reports_engine(kernel: Kernel) -> sa.Engine:
    """The engine reports run on for ``kernel``."""
    engine = _ENGINES.get(kernel)
    if engine is None:
        url = ReportSettings.from_env().database_url
        if url is None or url == kernel.settings.database_url:
            engine = kernel.engine
        else:
            parsed = sa.make_url(url)
            if parsed.get_backend_name() == "postgresql":  # psycopg 3, as the kernel uses
                parsed = parsed.set(drivername="postgresql+psycopg")
            engine = sa.create_engine(parsed, pool_pre_ping=True)
        _ENGINES[kernel] = engine
    return engine


def close_reports_engine(kernel: Kernel) -> None:
    """Dispose of a replica's engine (the kernel's own is the kernel's to close)."""
    engine = _ENGINES.pop(kernel, None)
    if engine is not None and engine is not kernel.engine:
        engine.dispose()
