"""The session's objects for rows that statements outside the ORM read or changed.

A hot path writes with one Core statement for many rows instead of flushing objects;
an object of one of those rows that the session already loaded must not keep the old
values (a later read of it in the transaction would see them, a flush would write
them back).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

_IMMUTABLE = (int, float, str, bytes, Decimal, dt.datetime, dt.date, dt.time, type(None))
"""Values handed out as they are: nothing can change them in place."""


def unshared(value: Any) -> Any:
    """``value`` itself when nothing can change it in place, else a deep copy: for values
    kept across calls (a cache, the records a transaction holds) that a caller may
    change."""
    return value if isinstance(value, _IMMUTABLE) else copy.deepcopy(value)


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


def attach_loaded(session: Session, model: type, rows: Iterable[Mapping[str, Any]]
                  ) -> list[Any]:
    """Objects of ``model`` for rows read before (values by column name, as a select of
    its table's columns returns them, e.g. kept by ``Context.cached``), without a query:
    the object the session already holds for a row, else one built from the values
    (mutable ones copied: nothing changeable is shared with the cache) and attached as
    if the session had loaded it, with nothing to flush. For seldom-changing rows a hot
    path needs as objects."""
    mapper = sa.inspect(model)
    table = mapper.local_table
    objects = []
    for values in rows:
        key = mapper.identity_key_from_primary_key(
            [values[column.name] for column in mapper.primary_key])
        held = session.identity_map.get(key)
        if held is None:
            held = mapper.class_manager.new_instance()
            for name, value in values.items():
                attribute = mapper.get_property_by_column(table.c[name]).key
                set_committed_value(held, attribute, unshared(value))
            make_transient_to_detached(held)
            session.add(held)
        objects.append(held)
    return objects
