"""Turning list parameters (filters, sort, cursor, limit) into one SQL statement.

Pagination is keyset-based: the cursor holds the sort values of the last row returned
(plus its id, the final tie-breaker), so pages stay stable while rows are inserted, and
each page costs one indexed query however deep it is. NULLs sort as the smallest value
on both databases.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from erp_core.entities.fields import Field, FieldValueError
from erp_core.entities.registry import RegisteredEntity
from erp_core.errors import ValidationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
RESERVED = frozenset({"limit", "cursor", "sort", "total"})
OPERATORS = ("eq", "gte", "lte", "gt", "lt", "in", "contains")


@attrs.frozen
class SortKey:
    field: str
    descending: bool


@attrs.frozen
class ListQuery:
    """A parsed and checked list request."""

    filters: tuple[tuple[str, str, Any], ...]
    sort: tuple[SortKey, ...]
    limit: int
    after: tuple[Any, ...] | None
    with_total: bool

    @property
    def sort_text(self) -> str:
        return ",".join(("-" if k.descending else "") + k.field for k in self.sort)


def base_select(entity: RegisteredEntity) -> sa.Select[Any]:
    """SELECT of every field, extension tables outer-joined (one query, no N+1)."""
    return entity.select


def _bad(param: str, message: str) -> ValidationError:
    return ValidationError(f"query parameter {param!r}: {message}", {param: message})


def parse_list_query(entity: RegisteredEntity, params: Sequence[tuple[str, str]]) -> ListQuery:
    """Check every query parameter against the entity; anything unknown is a clear 4xx."""
    singles: dict[str, str] = {}
    filters: list[tuple[str, str, Any]] = []
    filterable = entity.filterable
    for key, value in params:
        if key in RESERVED:
            if key in singles:
                raise _bad(key, "given more than once")
            singles[key] = value
            continue
        name, _, op = key.partition("__")
        op = op or "eq"
        if name not in filterable:
            raise _bad(key, f"{name!r} is not a filterable field of {entity.name}"
                       f" (filterable: {', '.join(sorted(filterable)) or 'none'})")
        if op not in OPERATORS:
            raise _bad(key, f"unknown operator {op!r} (operators: {', '.join(OPERATORS)})")
        field = filterable[name]
        if op == "contains" and field.kind != "string":
            raise _bad(key, "__contains applies to text fields only")
        if op in ("gte", "lte", "gt", "lt") and field.kind in ("boolean", "json"):
            raise _bad(key, f"__{op} does not apply to {field.kind} fields")
        try:
            if op == "in":
                parsed: Any = tuple(field.from_text(v) for v in value.split(",") if v != "")
                if not parsed:
                    raise FieldValueError("needs at least one value")
            elif op == "contains":
                parsed = field.check_text(value)
            elif value == "" and field.nullable and op == "eq":
                parsed = None
            else:
                parsed = field.from_text(value)
        except FieldValueError as exc:
            raise _bad(key, str(exc)) from None
        filters.append((name, op, parsed))

    limit = DEFAULT_LIMIT
    if "limit" in singles:
        try:
            limit = int(singles["limit"])
        except ValueError:
            raise _bad("limit", f"{singles['limit']!r} is not a whole number") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise _bad("limit", f"must be between 1 and {MAX_LIMIT}")

    sort = _parse_sort(entity, singles.get("sort", ""))
    total = singles.get("total", "false").lower()
    if total not in ("true", "false"):
        raise _bad("total", "must be true or false")
    query = ListQuery(filters=tuple(filters), sort=sort, limit=limit, after=None,
                      with_total=total == "true")
    if "cursor" in singles:
        query = attrs.evolve(query, after=decode_cursor(entity, query, singles["cursor"]))
    return query


def _parse_sort(entity: RegisteredEntity, text: str) -> tuple[SortKey, ...]:
    keys: list[SortKey] = []
    sortable = entity.sortable
    for part in filter(None, (p.strip() for p in text.split(","))):
        name = part.lstrip("-")
        if name not in sortable and name != "id":
            raise _bad("sort", f"{name!r} is not a sortable field of {entity.name}"
                       f" (sortable: {', '.join(sorted({*sortable, 'id'}))})")
        if any(k.field == name for k in keys):
            raise _bad("sort", f"{name!r} appears twice")
        keys.append(SortKey(name, part.startswith("-")))
    if not any(k.field == "id" for k in keys):
        keys.append(SortKey("id", False))
    return tuple(keys)


def encode_cursor(entity: RegisteredEntity, query: ListQuery, row: Mapping[str, Any]) -> str:
    values = [entity.fields[k.field].to_json(row[k.field]) for k in query.sort]
    raw = json.dumps({"s": query.sort_text, "v": values}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(entity: RegisteredEntity, query: ListQuery, cursor: str) -> tuple[Any, ...]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        values = data["v"]
        if data["s"] != query.sort_text or len(values) != len(query.sort):
            raise _bad("cursor", "was made for another sort order; keep `sort` unchanged"
                       " while paging")
        return tuple(
            None if value is None else entity.fields[k.field].from_json(value)
            for k, value in zip(query.sort, values, strict=True))
    except ValidationError:
        raise
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise _bad("cursor", "is malformed; pass back the next_cursor of a previous page"
                   " unchanged") from None


def _after(keys: Sequence[tuple[Field, bool]], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    (field, descending), value = keys[0], values[0]
    column = field.expression
    tie = column.is_(None) if value is None else column == value
    if value is None:
        beyond = sa.false() if descending else column.is_not(None)
    elif descending:
        beyond = (column < value) | column.is_(None) if field.nullable else column < value
    else:
        beyond = column > value
    if len(keys) == 1:
        return beyond
    return sa.or_(beyond, sa.and_(tie, _after(keys[1:], values[1:])))


class ContainsText(sa.sql.functions.GenericFunction[int]):
    """Position of a substring, case-sensitive on every database (SQLite's LIKE is not)."""

    type = sa.Integer()
    inherit_cache = True
    name = "contains_text"


@compiles(ContainsText, "sqlite")
def _contains_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(ContainsText, "postgresql")
def _contains_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


def _filter(field: Field, op: str, value: Any) -> sa.ColumnElement[bool]:
    column = field.expression
    if op == "eq":
        return column.is_(None) if value is None else column == value
    if op == "in":
        return column.in_(value)
    if op == "contains":
        return ContainsText(column, sa.literal(value, sa.String())) > 0
    return {"gte": column >= value, "lte": column <= value,
            "gt": column > value, "lt": column < value}[op]


def filtered(entity: RegisteredEntity, statement: sa.Select[Any],
             query: ListQuery) -> sa.Select[Any]:
    for name, op, value in query.filters:
        statement = statement.where(_filter(entity.fields[name], op, value))
    return statement


def page_statement(entity: RegisteredEntity, query: ListQuery) -> sa.Select[Any]:
    """The SELECT for one page: filters, cursor condition, order, limit + 1 (to see if more)."""
    statement = filtered(entity, base_select(entity), query)
    keys = [(entity.fields[k.field], k.descending) for k in query.sort]
    if query.after is not None:
        statement = statement.where(_after(keys, query.after))
    order = [(f.expression.desc().nulls_last() if desc else f.expression.asc().nulls_first())
             if f.nullable else (f.expression.desc() if desc else f.expression.asc())
             for f, desc in keys]
    return statement.order_by(*order).limit(query.limit + 1)


def count_statement(entity: RegisteredEntity, query: ListQuery) -> sa.Select[Any]:
    source: sa.FromClause = entity.table
    for extension in entity.extensions:
        source = source.outerjoin(extension.table, extension.key == entity.id_column)
    return filtered(entity, sa.select(sa.func.count()).select_from(source), query)
