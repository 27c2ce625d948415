"""The session's objects for rows that statements outside the ORM read or changed.

A hot path writes with one Core statement for many rows instead of flushing objects;
an object of one of those rows that the session already loaded must not keep the old
values (a later read of it in the transaction would see them, a flush would write
them back).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value


def loaded_object(session: Session, model: type, record_id: Any) -> Any | None:
    """The object the session holds for the row of ``model`` with that id, or ``None``;
    never a query."""
    key = sa.inspect(model).identity_key_from_primary_key([record_id])
    return session.identity_map.get(key)


def keep_loaded(session: Session, model: type, changes: Mapping[Any, Mapping[str, Any]]
                ) -> None:
    """Rows of ``model`` changed by a statement the ORM did not see (id: new values): the
    objects the session loaded for them take the values as what the database holds, so
    they are neither stale nor flushed again."""
    for record_id, values in changes.items():
        loaded = loaded_object(session, model, record_id)
        if loaded is not None:
            for name, value in values.items():
                set_committed_value(loaded, name, value)
