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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction

from erp_core.db.writes import writes_to

if TYPE_CHECKING:
    from erp_core.entities.registry import RegisteredEntity

HELD = "erp_held_records"


def remember(session: Session, entity: RegisteredEntity, record: Mapping[str, Any]) -> None:
    """Keep ``record`` (locked or written by this transaction, read or written just now)."""
    mark = writes_to(session.connection(), entity.tables)
    session.info.setdefault(HELD, {})[entity.name, record["id"]] = (mark, dict(record))


def recall(session: Session, entity: RegisteredEntity, record_id: int) -> dict[str, Any] | None:
    """The record as last remembered, if nothing may have changed it since; else ``None``."""
    held = session.info.get(HELD)
    if not held:
        return None
    kept = held.get((entity.name, record_id))
    if kept is None:
        return None
    mark, record = kept
    if mark != writes_to(session.connection(), entity.tables):
        del held[entity.name, record_id]
        return None
    return dict(record)


def forget(session: Session) -> None:
    session.info.pop(HELD, None)


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, _previous: SessionTransaction) -> None:
    forget(session)


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        forget(session)
