"""The transactional outbox (kernel table ``kernel_outbox_event``).

An event is inserted in the same transaction as the change it reports, so it exists
exactly when the change was committed. ``erp worker`` (``erp_core.worker``) reads the
table later and delivers each event to webhooks and event sinks: ``claimed_by`` and
``claimed_until`` are a worker's lease on an event it is delivering, ``next_attempt_at``
holds an event back after a failed attempt, and ``published_at`` is set once every
destination has it (or gave up on it). ``erp_on_commit`` lets plugins react in-process
once the commit succeeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_core.db.base import Base
from erp_core.db.deferred import defer_insert, frozen_json, write_deferred
from erp_core.db.types import UtcDateTime, utcnow

PENDING_EVENTS = "erp_pending_events"


class OutboxEvent(Base):
    __tablename__ = "kernel_outbox_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160), index=True)
    entity: Mapped[str] = mapped_column(sa.String(120))
    record_id: Mapped[int | None]
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[UtcDateTime] = mapped_column(default=utcnow)
    published_at: Mapped[UtcDateTime | None] = mapped_column(index=True)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(120))
    claimed_until: Mapped[UtcDateTime | None]
    next_attempt_at: Mapped[UtcDateTime | None]

    __table_args__ = (
        # What a worker scans for: the undelivered events in commit order, and for each
        # the earlier undelivered events of the same record (delivered in order).
        sa.Index("ix_kernel_outbox_event_undelivered", "id",
                 postgresql_where=sa.text("published_at IS NULL"),
                 sqlite_where=sa.text("published_at IS NULL")),
        sa.Index("ix_kernel_outbox_event_undelivered_record", "entity", "record_id", "id",
                 postgresql_where=sa.text("published_at IS NULL"),
                 sqlite_where=sa.text("published_at IS NULL")),
    )


@attrs.frozen
class DomainEvent:
    """An event as plugins see it after commit."""

    id: int
    name: str
    entity: str
    record_id: int | None
    payload: Mapping[str, Any]


class EmittedEvent:
    """What ``emit`` returns: the event as written. Its row is inserted at commit with the
    transaction's other events; asking for ``id`` before that inserts them at once."""

    __slots__ = ("_id", "_session", "entity", "name", "payload", "record_id")

    def __init__(self, session: Session, name: str, entity: str, record_id: int | None,
                 payload: Mapping[str, Any]) -> None:
        self._session, self._id = session, None
        self.name, self.entity, self.record_id, self.payload = name, entity, record_id, payload

    @property
    def id(self) -> int:
        if self._id is None:
            write_deferred(self._session)
        assert self._id is not None, "the event's transaction has ended"
        return self._id

    def _written(self, event_id: int, values: Mapping[str, Any], transaction: Any) -> None:
        self._id = event_id
        session = transaction.session
        session.info.setdefault(PENDING_EVENTS, []).append((transaction, DomainEvent(
            event_id, self.name, self.entity, self.record_id, self.payload)))


def emit(session: Session, name: str, entity: str, record_id: int | None,
         payload: Mapping[str, Any]) -> EmittedEvent:
    """Write an event to the outbox in the session's transaction.

    The payload must be JSON (checked and copied now). The row is inserted at commit
    with the transaction's other events (see ``erp_core.db.deferred``); ``erp_on_commit``
    then receives it with its id.
    """
    payload = frozen_json(dict(payload), f"the payload of event {name!r}")
    event = EmittedEvent(session, name, entity, record_id, payload)
    defer_insert(session, OutboxEvent.__table__,
                 {"name": name, "entity": entity, "record_id": record_id,
                  "payload": payload, "created_at": utcnow()}, event._written)
    return event
