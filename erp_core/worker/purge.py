"""Purging delivered events (with their delivery rows) older than the retention period.
Expired idempotency keys are the kernel job ``kernel.purge_idempotency_keys``'s.

On PostgreSQL one worker purges at a time (a transaction-level advisory lock), so
workers never wait for one another's deletes.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from erp_core.db.types import utcnow
from erp_core.events.delivery import EventDelivery
from erp_core.events.outbox import OutboxEvent

_PURGE_LOCK = 0x45525050  # "ERPP": the advisory lock id of purging
_EVENTS = OutboxEvent.__table__
_DELIVERIES = EventDelivery.__table__


def purge_expired(engine: sa.Engine, retention_seconds: float) -> int:
    """Delete the events delivered more than ``retention_seconds`` ago; return how many
    (0 when another worker is purging right now)."""
    now = utcnow()
    cutoff = now - dt.timedelta(seconds=retention_seconds)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql" and not connection.execute(
                sa.select(sa.func.pg_try_advisory_xact_lock(_PURGE_LOCK))).scalar():
            return 0
        old = sa.select(_EVENTS.c.id).where(_EVENTS.c.published_at < cutoff)
        connection.execute(sa.delete(_DELIVERIES).where(_DELIVERIES.c.event_id.in_(old)))
        events = connection.execute(sa.delete(_EVENTS).where(
            _EVENTS.c.published_at < cutoff)).rowcount
    return events
