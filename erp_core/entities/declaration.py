"""How a plugin declares an entity, or extends another plugin's entity.

A declaration is a frozen value object returned from ``erp_register_entities``; the
registry checks it at boot and derives everything else (schemas, filters, API routes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from erp_core.db.types import AwareDateTime, utcnow
from erp_core.workflow.declaration import Workflow

ALL_OPERATIONS = frozenset({"list", "get", "create", "update", "delete"})


def _names(value: object) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)  # type: ignore[arg-type]


@attrs.frozen
class Entity:
    """An entity of the declaring plugin, registered as ``<plugin>.<name>``.

    ``model`` is a SQLAlchemy model on the shared base whose table starts with
    ``<plugin>_`` and which has an integer ``id`` and a ``version`` (inherit
    ``RecordMixin``). ``read_schema`` / ``write_schema`` are attrs classes naming the
    fields the API shows and accepts; when left out they are derived from the model
    (every column is read; every column but ``id``, ``version``, ``read_only`` and
    server-set timestamps is writable). ``hidden`` columns never leave the server;
    ``write_only`` ones (secrets) are accepted on create and update and never returned.
    ``operations`` limits the generic API (``list``, ``get``, ``create``, ``update``,
    ``delete``); ``workflow`` declares states and transitions, whose state column then
    changes only through transitions. ``derived_from_id`` maps read-only fields to a
    function of the new record's id (an order's number ``SO-000123``): the kernel
    writes them in the creating transaction, before anyone, the create's own audit
    row and event included, sees the record.
    """

    name: str
    model: type
    collection: str | None = None
    filterable: tuple[str, ...] = attrs.field(default=(), converter=_names)
    sortable: tuple[str, ...] = attrs.field(default=(), converter=_names)
    read_only: tuple[str, ...] = attrs.field(default=(), converter=_names)
    hidden: tuple[str, ...] = attrs.field(default=(), converter=_names)
    write_only: tuple[str, ...] = attrs.field(default=(), converter=_names)
    read_schema: type | None = None
    write_schema: type | None = None
    operations: frozenset[str] = attrs.field(default=ALL_OPERATIONS, converter=frozenset)
    workflow: Workflow | None = None
    description: str = ""
    derived_from_id: Mapping[str, Callable[[int], Any]] = attrs.field(factory=dict)

    @operations.validator
    def _check_operations(self, _attribute: object, value: frozenset[str]) -> None:
        unknown = value - ALL_OPERATIONS
        if unknown:
            raise ValueError(f"unknown operations {sorted(unknown)}; choose from"
                             f" {sorted(ALL_OPERATIONS)}")


@attrs.frozen
class EntityExtension:
    """Fields a plugin adds to another plugin's entity, stored in its own side table.

    ``model`` is a table of the extending plugin whose primary key is a foreign key to
    the extended entity's ``id`` (one row per record, created on first write). Its other
    columns become fields of the entity in the API; disabling the extending plugin
    removes them from the API and keeps the rows.

    The fields take the options an ``Entity``'s fields do: ``read_only`` ones are shown
    and never accepted from a client (the extending plugin writes them itself),
    ``hidden`` ones never leave the server, ``write_only`` ones are accepted and never
    returned. A column with a scalar ``default`` shows that default for a record that has
    no row in the side table yet, in reads, filters and sorts alike, and the OpenAPI
    schema names it.
    """

    entity: str
    model: type
    filterable: tuple[str, ...] = attrs.field(default=(), converter=_names)
    sortable: tuple[str, ...] = attrs.field(default=(), converter=_names)
    read_only: tuple[str, ...] = attrs.field(default=(), converter=_names)
    hidden: tuple[str, ...] = attrs.field(default=(), converter=_names)
    write_only: tuple[str, ...] = attrs.field(default=(), converter=_names)


class RecordMixin:
    """Columns every entity needs: ``id``, ``version`` (optimistic concurrency) and
    creation and update times."""

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer, default=1, nullable=False)

    @declared_attr
    def created_at(cls) -> Mapped[dt.datetime]:
        return mapped_column(AwareDateTime(), default=utcnow, nullable=False)

    @declared_attr
    def updated_at(cls) -> Mapped[dt.datetime]:
        return mapped_column(AwareDateTime(), default=utcnow, onupdate=utcnow, nullable=False)


SERVER_SET = ("id", "version", "created_at", "updated_at")
"""Columns the kernel sets; never writable through the API."""
