"""The entity registry: every enabled plugin's entities, with extension fields merged in.

Built once per boot from the ``erp_register_entities`` contributions. Every mistake in a
declaration is a ``PluginError`` at boot naming the plugin, never a surprise at the
first request.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from erp_core.entities.declaration import SERVER_SET, Entity, EntityExtension
from erp_core.entities.fields import Field, field_from_column
from erp_core.errors import NotFoundError, PluginError

ID_PARAMETER = "erp_record_id"
"""The name of the id parameter of ``RegisteredEntity.update_by_id``; no column may take it."""

LIST_PARAMETERS = frozenset({"limit", "cursor", "sort", "with_total"})
"""The query parameters of a list request that are not filters. A filter parameter is a
field's name, or the name plus ``__<operator>``, so no filterable field may take one of
these names or contain ``__``: each parameter has one meaning on every entity."""

_ENTITY_NAME = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def plural_collection(name: str) -> str:
    """``stock_move`` -> ``stock-moves``; ``category`` -> ``categories``."""
    if name.endswith("y") and name[-2:-1] not in tuple("aeiou"):
        plural = name[:-1] + "ies"
    elif name.endswith(("s", "x", "z", "ch", "sh")):
        plural = name + "es"
    else:
        plural = name + "s"
    return plural.replace("_", "-")


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[._]", name))


@attrs.frozen
class RegisteredExtension:
    """An enabled plugin's side table on an entity; ``key`` is its column holding the entity id."""

    plugin: str
    table: sa.Table
    key: sa.Column[Any]
    fields: tuple[Field, ...]


@attrs.frozen
class RegisteredEntity:
    """An entity as the API and services use it: merged fields, schemas, where it lives."""

    name: str
    plugin: str
    collection: str
    model: type
    table: sa.Table
    declaration: Entity
    fields: Mapping[str, Field]
    extensions: tuple[RegisteredExtension, ...]
    read_schema: type = attrs.field(eq=False)
    write_schema: type = attrs.field(eq=False)
    select: sa.Select[Any] = attrs.field(eq=False, repr=False)
    """SELECT of every readable field with extension tables outer-joined, built once."""

    @property
    def id_column(self) -> sa.Column[Any]:
        return self.table.c.id

    @property
    def version_column(self) -> sa.Column[Any]:
        return self.table.c.version

    writable: Mapping[str, Field] = attrs.field(init=False, eq=False, repr=False)
    readable: Mapping[str, Field] = attrs.field(init=False, eq=False, repr=False)
    filterable: Mapping[str, Field] = attrs.field(init=False, eq=False, repr=False)
    sortable: Mapping[str, Field] = attrs.field(init=False, eq=False, repr=False)
    by_id: sa.Select[Any] = attrs.field(init=False, eq=False, repr=False)
    """``select`` of one record (parameter ``record_id``), built once."""
    by_id_locked: sa.Select[Any] = attrs.field(init=False, eq=False, repr=False)
    """``by_id`` that also locks the record's row until the transaction ends."""
    returned: tuple[Any, ...] = attrs.field(init=False, eq=False, repr=False)
    """The readable fields of the entity's own table, labelled, for ``RETURNING``: a
    write hands back the record without reading it again."""
    tables: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    """The names of the tables whose writes may change the record: its own and its
    extensions', and every table whose deletes or key changes reach those through a
    foreign key's ``ON DELETE``/``ON UPDATE`` action (``SET NULL``, ``CASCADE``, ...)."""
    by_id_locked_for_key: sa.Select[Any] = attrs.field(init=False, eq=False, repr=False)
    """``by_id`` locking the row ``FOR UPDATE``: for a delete, or a change of a column
    another row may refer to (one with a unique index), which need that lock anyway;
    taking the weaker one first and upgrading can deadlock with a foreign key check."""
    key_columns: frozenset[str] = attrs.field(init=False, eq=False, repr=False)
    """The fields of the entity's own table that have a unique index or constraint."""
    insert: sa.Insert = attrs.field(init=False, eq=False, repr=False)
    """INSERT into the entity's own table ``RETURNING`` the record; the values come as
    the execution's parameters, by column key, plain values only (SQLAlchemy ignores a
    key that names no column). Built once, so its cache key is computed once."""
    update_by_id: sa.Update = attrs.field(init=False, eq=False, repr=False)
    """UPDATE of one record (parameter ``ID_PARAMETER``) ``RETURNING`` it; the other
    parameters are the new values, as for ``insert``."""

    def __attrs_post_init__(self) -> None:
        # Derived once: the service reads them on every call.
        derived = {
            "writable": {n: f for n, f in self.fields.items() if f.writable},
            "readable": {n: f for n, f in self.fields.items() if f.readable},
            "filterable": {n: f for n, f in self.fields.items() if f.filterable},
            "sortable": {n: f for n, f in self.fields.items() if f.sortable},
            "by_id": self.select.where(self.table.c.id == sa.bindparam("record_id")),
        }
        derived["by_id_locked"] = derived["by_id"].with_for_update(of=self.table, key_share=True)
        derived["returned"] = tuple(f.column.label(n) for n, f in derived["readable"].items()
                                    if f.column.table is self.table)
        derived["tables"] = _reached_by_actions([self.table, *(e.table for e in self.extensions)])
        derived["by_id_locked_for_key"] = derived["by_id"].with_for_update(of=self.table)
        derived["key_columns"] = frozenset(_unique_columns(self.table))
        derived["insert"] = sa.insert(self.table).returning(*derived["returned"])
        derived["update_by_id"] = (
            sa.update(self.table).where(self.table.c.id == sa.bindparam(ID_PARAMETER))
            .returning(*derived["returned"]))
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @property
    def permissions(self) -> dict[str, str]:
        """The permissions derived for this entity, with a description each."""
        ops = self.declaration.operations
        derived = {f"{self.name}.read": f"See {self.name} records"}
        for action in ("create", "update", "delete"):
            if action in ops:
                derived[f"{self.name}.{action}"] = f"{action.capitalize()} {self.name} records"
        workflow = self.declaration.workflow
        for transition in workflow.transitions if workflow else ():
            name = transition.permission or f"{self.name}.{transition.name}"
            derived[name] = f"Fire {transition.name!r} on {self.name} records"
        return derived

    @property
    def schema_name(self) -> str:
        return _camel(self.name)


_NO_ACTION = {"", "NO ACTION", "RESTRICT"}
"""Foreign key actions that never change the referring row."""


def _reached_by_actions(tables: list[sa.Table]) -> tuple[str, ...]:
    """``tables`` and every table whose writes change them through a foreign key action,
    followed as far as the actions go (a cascade that deletes rows of a table with
    ``SET NULL`` keys of its own reaches further)."""
    names = [table.name for table in tables]
    todo = list(tables)
    while todo:
        table = todo.pop()
        for key in table.foreign_keys:
            if {(key.ondelete or "").upper(), (key.onupdate or "").upper()} <= _NO_ACTION:
                continue
            referred = key.column.table
            if referred.name not in names:
                names.append(referred.name)
                todo.append(referred)
    return tuple(names)


def _unique_columns(table: sa.Table) -> set[str]:
    """Columns a foreign key could refer to: the primary key and every column with a
    unique constraint or unique index of its own."""
    columns = {c.key for c in table.primary_key.columns}
    columns |= {c.key for c in table.columns if c.unique}
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            columns |= {c.key for c in constraint.columns}
    for index in table.indexes:
        if index.unique:
            columns |= {c.key for c in index.columns}
    return columns


class EntityRegistry:
    """Registered entities by name (``inventory.product``)."""

    def __init__(self, entities: Iterable[RegisteredEntity] = ()) -> None:
        self._entities = {entity.name: entity for entity in entities}

    def __iter__(self) -> Iterator[RegisteredEntity]:
        return iter(self._entities.values())

    def __len__(self) -> int:
        return len(self._entities)

    def __contains__(self, name: object) -> bool:
        return name in self._entities

    def get(self, name: str) -> RegisteredEntity:
        try:
            return self._entities[name]
        except KeyError:
            raise NotFoundError(f"no entity named {name!r} is registered") from None

    @classmethod
    def build(cls, contributions: Sequence[tuple[str, Iterable[Entity | EntityExtension]]]
              ) -> EntityRegistry:
        """Check and merge every plugin's declarations (see the module docstring)."""
        declared: dict[str, tuple[str, Entity]] = {}
        extensions: list[tuple[str, EntityExtension]] = []
        for plugin, items in contributions:
            for item in items or ():
                if isinstance(item, Entity):
                    full = f"{plugin}.{item.name}"
                    if not _ENTITY_NAME.match(item.name):
                        raise _error(plugin, f"entity name {item.name!r} must be lower-case"
                                     " letters, digits and underscores")
                    if full in declared:
                        raise _error(plugin, f"entity {full!r} is registered twice")
                    declared[full] = (plugin, item)
                elif isinstance(item, EntityExtension):
                    extensions.append((plugin, item))
                else:
                    raise _error(plugin, f"erp_register_entities returned {item!r}; return"
                                 " erp_sdk.Entity or erp_sdk.EntityExtension objects")
        by_entity: dict[str, list[RegisteredExtension]] = {}
        for plugin, extension in extensions:
            if extension.entity not in declared:
                raise _error(plugin, f"extends entity {extension.entity!r}, which no enabled"
                             " plugin registers; add its plugin to `depends`")
            base_table = _table(declared[extension.entity][1].model, declared[extension.entity][0])
            by_entity.setdefault(extension.entity, []).append(
                _extension(plugin, extension, base_table))
        collections: set[tuple[str, str]] = set()
        entities = []
        for full, (plugin, declaration) in declared.items():
            entity = _entity(full, plugin, declaration, by_entity.get(full, []))
            if (plugin, entity.collection) in collections:
                raise _error(plugin, f"two entities use the collection {entity.collection!r}")
            collections.add((plugin, entity.collection))
            entities.append(entity)
        return cls(entities)


def _error(plugin: str, message: str) -> PluginError:
    return PluginError(f"plugin {plugin!r}: {message}", plugin=plugin)


def _table(model: type, plugin: str) -> sa.Table:
    table = getattr(model, "__table__", None)
    if not isinstance(table, sa.Table):
        raise _error(plugin, f"{model!r} is not a SQLAlchemy model with a table")
    if not table.name.startswith(f"{plugin}_"):
        raise _error(plugin, f"table {table.name!r} of {model.__name__} must start with"
                     f" {plugin + '_'!r}: a plugin owns only tables prefixed with its name")
    return table


def _check_names(plugin: str, entity: str, what: str, names: Iterable[str],
                 known: Iterable[str]) -> None:
    known = set(known)
    for name in names:
        if name not in known:
            raise _error(plugin, f"{what} field {name!r} of {entity!r} does not exist"
                         f" (fields: {', '.join(sorted(known))})")


def _schema_fields(schema: type | None) -> list[str] | None:
    if schema is None:
        return None
    if not attrs.has(schema):
        raise TypeError(f"{schema!r} is not an attrs class")
    return [f.name for f in attrs.fields(schema)]


def _extension(plugin: str, extension: EntityExtension, base: sa.Table) -> RegisteredExtension:
    table = _table(extension.model, plugin)
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or not any(fk.column is base.c.id for fk in keys[0].foreign_keys):
        raise _error(plugin, f"extension table {table.name!r} must have a single primary key"
                     f" column that is a foreign key to {base.name}.id")
    key = keys[0]
    if any(fk.ondelete is None or fk.ondelete.upper() != "CASCADE" for fk in key.foreign_keys):
        raise _error(plugin, f"the key of extension table {table.name!r} must be declared"
                     " ForeignKey(..., ondelete='CASCADE'), so deleting a record removes its"
                     " extension row even while the extending plugin is disabled")
    names = [c.key for c in table.columns if c is not key]
    for what in ("read_only", "hidden", "write_only"):
        _check_names(plugin, extension.entity, what, getattr(extension, what), names)
    shown = [n for n in names if n not in extension.hidden]
    for what in ("filterable", "sortable"):
        _check_names(plugin, extension.entity, what, getattr(extension, what),
                     [n for n in shown if n not in extension.write_only])
    fields = []
    for column in table.columns:
        if column is key or column.key in extension.hidden:
            continue
        try:
            fields.append(field_from_column(
                column, owner=plugin, writable=column.key not in extension.read_only,
                filterable=column.key in extension.filterable,
                sortable=column.key in extension.sortable,
                readable=column.key not in extension.write_only, missing_row=key.is_(None)))
        except TypeError as exc:
            raise _error(plugin, str(exc)) from None
    return RegisteredExtension(plugin=plugin, table=table, key=key, fields=tuple(fields))


@functools.cache
def _schema_class(name: str, fields: tuple[tuple[str, Any], ...], *, optional: bool) -> type:
    """An entity's generated read or write schema (attrs, frozen), made once per process
    for a given shape: every kernel booted after the first reuses it (making one compiles
    its methods)."""
    return attrs.make_class(name, {
        field: attrs.field(type=type_, default=None) if optional else attrs.field(type=type_)
        for field, type_ in fields}, frozen=True)


def _entity(full: str, plugin: str, declaration: Entity,
            extensions: list[RegisteredExtension]) -> RegisteredEntity:
    table = _table(declaration.model, plugin)
    columns = {c.key: c for c in table.columns}
    required_columns = ("id", "version") if declaration.operations & {"update", "delete"} \
        or declaration.workflow else ("id",)
    for required in required_columns:
        if required not in columns:
            raise _error(plugin, f"model {declaration.model.__name__} of {full!r} has no"
                         f" {required!r} column; inherit erp_sdk.RecordMixin")
    if ID_PARAMETER in table.c:
        raise _error(plugin, f"model {declaration.model.__name__} of {full!r}: a column may not be"
                     f" called {ID_PARAMETER!r}, the kernel's name for a parameter")
    try:
        read = _schema_fields(declaration.read_schema)
        write = _schema_fields(declaration.write_schema)
    except TypeError as exc:
        raise _error(plugin, f"{full!r}: {exc}") from None
    for what, names in (("read_schema", read or ()), ("write_schema", write or ()),
                        ("read_only", declaration.read_only), ("hidden", declaration.hidden),
                        ("write_only", declaration.write_only),
                        ("derived_from_id", tuple(declaration.derived_from_id))):
        _check_names(plugin, full, what, names, columns)
    for name, derive in declaration.derived_from_id.items():
        if not callable(derive):
            raise _error(plugin, f"{full!r}: derived_from_id[{name!r}] is not a function of"
                         " the record's id")
    visible = [k for k in (read or columns) if k not in declaration.hidden]
    for what, names in (("filterable", declaration.filterable),
                        ("sortable", declaration.sortable)):
        _check_names(plugin, full, what, names,
                     [k for k in visible if k not in declaration.write_only])
    writable = set(write) if write is not None else {
        k for k in visible if k not in SERVER_SET and k not in declaration.read_only}
    writable -= set(SERVER_SET) | set(declaration.derived_from_id)
    if declaration.workflow is not None:
        problems = declaration.workflow.problems()
        if declaration.workflow.field not in columns:
            problems.insert(0, f"state column {declaration.workflow.field!r} does not exist")
        if problems:
            raise _error(plugin, f"workflow of {full!r}: {'; '.join(problems)}")
        writable.discard(declaration.workflow.field)
    fields: dict[str, Field] = {}
    for key in visible:
        try:
            fields[key] = field_from_column(
                columns[key], owner=plugin, writable=key in writable,
                filterable=key in declaration.filterable, sortable=key in declaration.sortable,
                readable=key not in declaration.write_only)
        except TypeError as exc:
            raise _error(plugin, f"{full!r}: {exc}") from None
    for extension in extensions:
        for field in extension.fields:
            if field.name in fields:
                raise _error(extension.plugin, f"extension field {field.name!r} clashes with"
                             f" a field {full!r} already has")
            fields[field.name] = field
    for name, field in fields.items():
        if field.filterable and (name in LIST_PARAMETERS or "__" in name):
            raise _error(field.owner, f"filterable field {name!r} of {full!r} would be read as"
                         " a list parameter or a filter operator: a filterable field may not"
                         f" be called {', '.join(sorted(LIST_PARAMETERS))} nor contain '__';"
                         " rename the column or leave it out of `filterable`")
    camel = _camel(full)
    read_schema = declaration.read_schema or _schema_class(
        f"{camel}Read", tuple((n, f.python_type | None if f.nullable else f.python_type)
                              for n, f in fields.items() if f.readable), optional=False)
    write_schema = declaration.write_schema or _schema_class(
        f"{camel}Write", tuple((n, f.python_type) for n, f in fields.items() if f.writable),
        optional=True)
    source: sa.FromClause = table
    for extension in extensions:
        source = source.outerjoin(extension.table, extension.key == table.c.id)
    select = sa.select(*(f.expression.label(n) for n, f in fields.items() if f.readable)
                       ).select_from(source)
    return RegisteredEntity(
        name=full, plugin=plugin, collection=declaration.collection or plural_collection(
            declaration.name),
        model=declaration.model, table=table, declaration=declaration, fields=fields,
        extensions=tuple(extensions), read_schema=read_schema, write_schema=write_schema,
        select=select,
    )
