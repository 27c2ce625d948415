"""Claiming undelivered events under a lease, and recording what became of them.

A claim takes, in id order, undelivered events that nobody holds (no lease, or an
expired one) and that are not waiting for a retry, and whose record has no earlier
undelivered event: the events of one record are therefore delivered one at a time, in
the order they happened, and a later event waits while an earlier one is retried. On
PostgreSQL the rows are read ``FOR UPDATE SKIP LOCKED``, so workers claiming at the same
moment take different events; the lease is committed before any delivery starts, so a
worker that dies mid-delivery holds its events only until the lease runs out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from erp_core.db.types import utcnow
from erp_core.db.upsert import Upsert
from erp_core.events.delivery import DeliveryState, EventDelivery, OutboundEvent
from erp_core.events.outbox import OutboxEvent

_EVENTS = OutboxEvent.__table__
_DELIVERIES = EventDelivery.__table__
_EARLIER = _EVENTS.alias("earlier")


@attrs.frozen
class PriorDelivery:
    """A destination's row for a claimed event, from an earlier attempt or a replay."""

    id: int
    target: str
    state: str
    attempts: int


@attrs.frozen
class Claimed:
    event: OutboundEvent
    prior: Mapping[str, PriorDelivery]
    """Rows by target; empty for an event never attempted."""


def _claimable(now: dt.datetime, limit: int, locking: bool) -> Any:
    earlier_pending = sa.exists().where(
        _EARLIER.c.entity == _EVENTS.c.entity, _EARLIER.c.record_id == _EVENTS.c.record_id,
        _EARLIER.c.published_at.is_(None), _EARLIER.c.id < _EVENTS.c.id)
    statement = (
        sa.select(_EVENTS.c.id, _EVENTS.c.name, _EVENTS.c.entity, _EVENTS.c.record_id,
                  _EVENTS.c.payload, _EVENTS.c.created_at)
        .where(_EVENTS.c.published_at.is_(None),
               sa.or_(_EVENTS.c.claimed_until.is_(None), _EVENTS.c.claimed_until < now),
               sa.or_(_EVENTS.c.next_attempt_at.is_(None), _EVENTS.c.next_attempt_at <= now),
               ~earlier_pending)
        .order_by(_EVENTS.c.id).limit(limit))
    return statement.with_for_update(skip_locked=True, of=_EVENTS) if locking else statement


def claim(connection: sa.Connection, worker: str, limit: int, lease_seconds: float
          ) -> list[Claimed]:
    """Claim up to ``limit`` events for ``worker`` in the connection's transaction (which
    the caller commits before delivering)."""
    now = utcnow()
    locking = connection.dialect.name == "postgresql"
    rows = connection.execute(_claimable(now, limit, locking)).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    connection.execute(
        sa.update(_EVENTS).where(_EVENTS.c.id.in_(ids)).values(
            claimed_by=worker, claimed_until=now + dt.timedelta(seconds=lease_seconds)))
    prior: dict[int, dict[str, PriorDelivery]] = {}
    for row in connection.execute(
            sa.select(_DELIVERIES.c.id, _DELIVERIES.c.event_id, _DELIVERIES.c.target,
                      _DELIVERIES.c.state, _DELIVERIES.c.attempts)
            .where(_DELIVERIES.c.event_id.in_(ids))):
        prior.setdefault(row.event_id, {})[row.target] = PriorDelivery(
            row.id, row.target, row.state, row.attempts)
    return [Claimed(OutboundEvent(row.id, row.name, row.entity, row.record_id, row.payload,
                                  row.created_at), prior.get(row.id, {}))
            for row in rows]


@attrs.frozen
class Attempt:
    """What one attempt at one destination came to."""

    event_id: int
    target: str
    error: str | None
    prior: PriorDelivery | None
    dead_letter_after: int

    @property
    def attempts(self) -> int:
        return (self.prior.attempts if self.prior else 0) + 1

    @property
    def state(self) -> DeliveryState:
        if self.error is None:
            return DeliveryState.DELIVERED
        return DeliveryState.DEAD if self.attempts >= self.dead_letter_after \
            else DeliveryState.RETRYING


_INSERT_DELIVERY = sa.insert(_DELIVERIES)
_UPDATE_DELIVERY = (sa.update(_DELIVERIES).where(_DELIVERIES.c.id == sa.bindparam("row_id"))
                    .values(state=sa.bindparam("state"), attempts=sa.bindparam("attempts"),
                            last_error=sa.bindparam("last_error"),
                            last_attempt_at=sa.bindparam("last_attempt_at"),
                            delivered_at=sa.bindparam("delivered_at")))
_RETRY_LATER = (sa.update(_EVENTS).where(_EVENTS.c.id == sa.bindparam("event_id"))
                .values(next_attempt_at=sa.bindparam("next_attempt_at"), claimed_by=None,
                        claimed_until=None))


def record(connection: sa.Connection, attempts: Sequence[Attempt], done: Iterable[int],
           retry_at: Mapping[int, dt.datetime], given_up: Sequence[tuple[int, str]] = ()
           ) -> None:
    """Write each attempt, mark ``done`` events published and put the others back until
    their ``retry_at``. ``given_up`` are (event, target) rows to dead-letter without an
    attempt (their destination was switched off or removed)."""
    now = utcnow()
    fresh = [{"event_id": a.event_id, "target": a.target, "state": a.state.value,
              "attempts": a.attempts, "last_error": a.error, "last_attempt_at": now,
              "delivered_at": now if a.error is None else None}
             for a in attempts if a.prior is None]
    again = [{"row_id": a.prior.id, "state": a.state.value, "attempts": a.attempts,
              "last_error": a.error, "last_attempt_at": now,
              "delivered_at": now if a.error is None else None}
             for a in attempts if a.prior is not None]
    if fresh:
        connection.execute(_INSERT_DELIVERY, fresh)
    if again:
        connection.execute(_UPDATE_DELIVERY, again)
    for event_id, target in given_up:
        connection.execute(sa.update(_DELIVERIES).where(
            _DELIVERIES.c.event_id == event_id, _DELIVERIES.c.target == target).values(
            state=DeliveryState.DEAD.value,
            last_error="the destination was switched off or removed"))
    done = list(done)
    if done:
        connection.execute(sa.update(_EVENTS).where(_EVENTS.c.id.in_(done)).values(
            published_at=now, claimed_by=None, claimed_until=None, next_attempt_at=None))
    if retry_at:
        connection.execute(_RETRY_LATER, [{"event_id": k, "next_attempt_at": v}
                                          for k, v in retry_at.items()])


_REPLAY = Upsert(lambda insert: (
    lambda statement: statement.on_conflict_do_update(
        index_elements=["event_id", "target"],
        set_={"state": statement.excluded.state, "attempts": 0}))(
    insert(_DELIVERIES)))


def replay(connection: sa.Connection, target: str, event_ids: Sequence[int]) -> int:
    """Deliver ``event_ids`` to ``target`` again (whatever became of them before): their
    rows become ``pending`` with no attempts, and the events undelivered again, so the
    next claim takes them. Other destinations that already have them are not sent them."""
    if not event_ids:
        return 0
    connection.execute(_REPLAY.on(connection), [
        {"event_id": i, "target": target, "state": DeliveryState.PENDING.value, "attempts": 0}
        for i in event_ids])
    connection.execute(sa.update(_EVENTS).where(_EVENTS.c.id.in_(event_ids)).values(
        published_at=None, next_attempt_at=None, claimed_by=None, claimed_until=None))
    return len(event_ids)
