"""Claiming undelivered events under a lease, and recording what became of them.

A claim takes, in id order, undelivered events that nobody holds (no lease, or an
expired one) and that are not waiting for a retry, and whose record has no earlier
undelivered event (its head), then each head's later free events (its chain): only the
worker holding a record's first undelivered event ever holds that record's others, so the
events of one record are delivered by one worker in the order they happened (a chain in
one go, see ``erp_core.worker.destinations``), and a later event waits while an earlier
one is retried. On PostgreSQL the heads are read ``FOR UPDATE SKIP LOCKED``, so workers
claiming at the same moment take different records; the lease is committed before any
delivery starts, so a worker that dies mid-delivery holds its events only until the lease
runs out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from erp_core.db.types import utcnow
from erp_core.db.upsert import Upsert
from erp_core.events.delivery import DeliveryState, EventDelivery, OutboundEvent
from erp_core.events.outbox import OutboxEvent

_EVENTS = OutboxEvent.__table__
_DELIVERIES = EventDelivery.__table__
_EARLIER = _EVENTS.alias("earlier")
_CANDIDATE = _EVENTS.alias("candidate")
WINDOW_BATCHES = 2
"""How many batches' worth of free events a claim looks at for events it may deliver."""


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


_PLAN_EACH_TIME = "SET LOCAL plan_cache_mode = force_custom_plan"


def _claimable(now: dt.datetime, limit: int, locking: bool) -> Any:
    free = (_EVENTS.c.published_at.is_(None),
            sa.or_(_EVENTS.c.claimed_until.is_(None), _EVENTS.c.claimed_until < now),
            sa.or_(_EVENTS.c.next_attempt_at.is_(None), _EVENTS.c.next_attempt_at <= now))
    # The first free events in id order, read from the partial index of undelivered ids
    # (so the cost does not grow with the backlog); a few times the batch, since some of
    # them wait behind an earlier event of their record.
    window = (sa.select(_CANDIDATE.c.id)
              .where(_CANDIDATE.c.published_at.is_(None),
                     sa.or_(_CANDIDATE.c.claimed_until.is_(None),
                            _CANDIDATE.c.claimed_until < now),
                     sa.or_(_CANDIDATE.c.next_attempt_at.is_(None),
                            _CANDIDATE.c.next_attempt_at <= now))
              .order_by(_CANDIDATE.c.id).limit(limit * WINDOW_BATCHES))
    # The record's first undelivered event, through the partial (entity, record_id, id)
    # index: one lookup per candidate.
    first_of_record = sa.select(sa.func.min(_EARLIER.c.id)).where(
        _EARLIER.c.entity == _EVENTS.c.entity, _EARLIER.c.record_id == _EVENTS.c.record_id,
        _EARLIER.c.published_at.is_(None)).scalar_subquery()
    statement = (
        sa.select(_EVENTS.c.id, _EVENTS.c.name, _EVENTS.c.entity, _EVENTS.c.record_id,
                  _EVENTS.c.payload, _EVENTS.c.created_at)
        .where(_EVENTS.c.id.in_(window), *free,
               sa.or_(_EVENTS.c.record_id.is_(None), _EVENTS.c.id == first_of_record))
        .order_by(_EVENTS.c.id).limit(limit))
    return statement.with_for_update(skip_locked=True, of=_EVENTS) if locking else statement


def _chains(connection: sa.Connection, heads: Sequence[Any], now: dt.datetime, room: int,
            locking: bool) -> list[Any]:
    """The later undelivered events of the heads' records, in id order, each record's up to
    its first event that is not free (held, or waiting for a retry): at most ``room``.

    Nobody else can hold them: a worker claims a record's first undelivered event only,
    and this claim holds it until it commits its lease."""
    first = {(row.entity, row.record_id): row.id for row in heads if row.record_id is not None}
    if not first:
        return []
    later = (sa.select(_EVENTS.c.id, _EVENTS.c.name, _EVENTS.c.entity, _EVENTS.c.record_id,
                       _EVENTS.c.payload, _EVENTS.c.created_at, _EVENTS.c.claimed_until,
                       _EVENTS.c.next_attempt_at)
             .where(sa.tuple_(_EVENTS.c.entity, _EVENTS.c.record_id).in_(list(first)),
                    _EVENTS.c.published_at.is_(None))
             .order_by(_EVENTS.c.entity, _EVENTS.c.record_id, _EVENTS.c.id))
    if locking:
        later = later.with_for_update(of=_EVENTS)
    taken: list[Any] = []
    stopped: set[tuple[str, int]] = set()
    for row in connection.execute(later):
        key = (row.entity, row.record_id)
        if row.id <= first[key] or key in stopped:
            continue
        if (row.claimed_until is not None and row.claimed_until >= now) or (
                row.next_attempt_at is not None and row.next_attempt_at > now):
            stopped.add(key)
            continue
        taken.append(row)
        if len(taken) == room:
            break
    return taken


def waiting(connection: sa.Connection) -> bool:
    """Whether undelivered events are free to claim now but none was claimable: each waits
    behind an earlier event of its record that a worker holds, which is soon delivered."""
    now = utcnow()
    return connection.scalar(sa.select(sa.literal(1)).where(
        _EVENTS.c.published_at.is_(None),
        sa.or_(_EVENTS.c.claimed_until.is_(None), _EVENTS.c.claimed_until < now),
        sa.or_(_EVENTS.c.next_attempt_at.is_(None), _EVENTS.c.next_attempt_at <= now))
        .limit(1)) is not None


def extend(connection: sa.Connection, worker: str, ids: Sequence[int], lease_seconds: float
           ) -> int:
    """Renew ``worker``'s lease on the events ``ids`` it still holds; return how many."""
    until = utcnow() + dt.timedelta(seconds=lease_seconds)
    return connection.execute(sa.update(_EVENTS).where(
        _among(connection, _EVENTS.c.id, ids), _EVENTS.c.claimed_by == worker,
        _EVENTS.c.published_at.is_(None)).values(claimed_until=until)).rowcount


def _among(connection: sa.Connection, column: Any, ids: Sequence[int]) -> Any:
    """``column IN ids``; on PostgreSQL one array parameter (``= ANY``) rather than a
    statement with hundreds of parameters to build and parse for every batch."""
    if connection.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(ids), type_=ARRAY(sa.Integer)))
    return column.in_(ids)


def claim(connection: sa.Connection, worker: str, limit: int, lease_seconds: float
          ) -> list[Claimed]:
    """Claim up to ``limit`` events for ``worker`` in the connection's transaction (which
    the caller commits before delivering)."""
    now = utcnow()
    locking = connection.dialect.name == "postgresql"
    if locking:
        # An idle worker runs this statement many times on a near-empty outbox, and a plan
        # cached then (psycopg prepares a statement run five times) reads the whole backlog
        # for every claim once a burst arrives: plan each claim for the outbox as it is.
        connection.exec_driver_sql(_PLAN_EACH_TIME)
    rows = connection.execute(_claimable(now, limit, locking)).all()
    if not rows:
        return []
    if len(rows) < limit:
        rows = sorted([*rows, *_chains(connection, rows, now, limit - len(rows), locking)],
                      key=lambda row: row.id)
    ids = [row.id for row in rows]
    connection.execute(
        sa.update(_EVENTS).where(_among(connection, _EVENTS.c.id, ids)).values(
            claimed_by=worker, claimed_until=now + dt.timedelta(seconds=lease_seconds)))
    prior: dict[int, dict[str, PriorDelivery]] = {}
    for row in connection.execute(
            sa.select(_DELIVERIES.c.id, _DELIVERIES.c.event_id, _DELIVERIES.c.target,
                      _DELIVERIES.c.state, _DELIVERIES.c.attempts)
            .where(_among(connection, _DELIVERIES.c.event_id, ids))):
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


def _insert_unnested(columns: Sequence[str]) -> Any:
    arrays = [sa.bindparam(column, type_=ARRAY(_DELIVERIES.c[column].type))
              for column in columns]
    rows = sa.select(sa.func.unnest(*arrays).table_valued(*columns).render_derived())
    return sa.insert(_DELIVERIES).from_select(columns, rows)
_UPDATE_DELIVERY = (sa.update(_DELIVERIES).where(_DELIVERIES.c.id == sa.bindparam("row_id"))
                    .values(state=sa.bindparam("state"), attempts=sa.bindparam("attempts"),
                            last_error=sa.bindparam("last_error"),
                            last_attempt_at=sa.bindparam("last_attempt_at"),
                            delivered_at=sa.bindparam("delivered_at")))
_RETRY_LATER = (sa.update(_EVENTS).where(_EVENTS.c.id == sa.bindparam("event_id"))
                .values(next_attempt_at=sa.bindparam("next_attempt_at"), claimed_by=None,
                        claimed_until=None))


def record(connection: sa.Connection, attempts: Sequence[Attempt], done: Iterable[int],
           retry_at: Mapping[int, dt.datetime], given_up: Sequence[tuple[int, str]] = (),
           held_back: Sequence[tuple[int, str, PriorDelivery | None]] = ()) -> None:
    """Write each attempt, mark ``done`` events published and put the others back until
    their ``retry_at``. ``given_up`` are (event, target) rows to dead-letter without an
    attempt (their destination was switched off or removed). ``held_back`` are (event,
    target, prior row) not sent because an earlier event of their record failed: the
    target keeps (or gets) a pending row with no attempt counted, and the event is let go
    (it is its record's first undelivered event again only once the earlier one is
    delivered)."""
    now = utcnow()
    fresh = [{"event_id": a.event_id, "target": a.target, "state": a.state.value,
              "attempts": a.attempts, "last_error": a.error, "last_attempt_at": now,
              "delivered_at": now if a.error is None else None}
             for a in attempts if a.prior is None]
    again = [{"row_id": a.prior.id, "state": a.state.value, "attempts": a.attempts,
              "last_error": a.error, "last_attempt_at": now,
              "delivered_at": now if a.error is None else None}
             for a in attempts if a.prior is not None]
    if fresh and connection.dialect.name == "postgresql":
        # one statement with one array per column instead of a statement per row
        columns = list(fresh[0])
        connection.execute(_insert_unnested(columns), {
            column: [row[column] for row in fresh] for column in columns})
    elif fresh:
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
        connection.execute(sa.update(_EVENTS).where(_among(connection, _EVENTS.c.id, done)).values(
            published_at=now, claimed_by=None, claimed_until=None, next_attempt_at=None))
    if retry_at:
        connection.execute(_RETRY_LATER, [{"event_id": k, "next_attempt_at": v}
                                          for k, v in retry_at.items()])
    waiting = [{"event_id": event_id, "target": target, "state": DeliveryState.PENDING.value,
                "attempts": 0, "last_error": None, "last_attempt_at": None,
                "delivered_at": None}
               for event_id, target, prior in held_back if prior is None]
    if waiting:
        connection.execute(_INSERT_DELIVERY, waiting)
    let_go = sorted({event_id for event_id, _, _ in held_back} - set(retry_at))
    if let_go:
        connection.execute(sa.update(_EVENTS).where(_among(connection, _EVENTS.c.id, let_go))
                           .values(claimed_by=None, claimed_until=None))


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
    connection.execute(sa.update(_EVENTS).where(_among(connection, _EVENTS.c.id, event_ids)).values(
        published_at=None, next_attempt_at=None, claimed_by=None, claimed_until=None))
    return len(event_ids)
