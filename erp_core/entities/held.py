"""Records the current transaction holds, as it last saw them: reads it need not repeat.

A record this transaction has locked (``SELECT ... FOR NO KEY UPDATE``) or written is out of
everyone else's reach until the transaction ends, so what it last read or wrote of the
record stays true until this transaction writes the record's tables again. The entity
service and the workflow engine remember such records here and take them back instead
of reading them again (a transition fired from a reaction to another transition of the
same record, the read-back after reactions that changed other records), as long as
the connection's write counters (``erp_core.db.writes``) show no write to the
entity's tables since. Rolling back a savepoint, and the end of the transaction,
forget everything.

Records are kept and handed out as JSON representations; callers get their own copy.
Two things are never held: records of an entity other plugins extend (its extension
rows are not locked with it), and nothing outlives a write the database makes on its
own: ``ON DELETE``/``ON UPDATE`` actions of foreign keys count as writes to the tables
they change (see ``RegisteredEntity.tables``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction

from erp_core.db.loaded import unshared
from erp_core.db.writes import writes_to

if TYPE_CHECKING:
    from erp_core.entities.registry import RegisteredEntity

HELD = "erp_held_records"


def remember(session: Session, entity: RegisteredEntity, record: Mapping[str, Any]) -> None:
    """Keep ``record`` (locked or written by this transaction, read or written just now).

    Not for an entity that other plugins extend: the lock covers its own table's row, not
    the rows of the extension tables, which others may change meanwhile."""
    if entity.extensions:
        return
    mark = writes_to(session.connection(), entity.tables)
    session.info.setdefault(HELD, {})[entity.name, record["id"]] = (mark, _copy(record))


def recall(session: Session, entity: RegisteredEntity, record_id: int) -> dict[str, Any] | None:
    """The record as last remembered, if nothing may have changed it since; else ``None``.

    Changes made to ORM objects and not flushed yet are flushed first (with the session's
    autoflush on), as a query would: they count as writes like any other."""
    held = session.info.get(HELD)
    if not held:
        return None
    kept = held.get((entity.name, record_id))
    if kept is None:
        return None
    if session.autoflush:
        session.flush()
    mark, record = kept
    if mark != writes_to(session.connection(), entity.tables):
        del held[entity.name, record_id]
        return None
    return _copy(record)


def _copy(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy the caller may change, nested JSON values included."""
    return {key: unshared(value) for key, value in record.items()}


def forget(session: Session) -> None:
    session.info.pop(HELD, None)


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, _previous: SessionTransaction) -> None:
    forget(session)


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        forget(session)
