"""Generic create, read, update, delete and list for any registered entity.

The API, the CLI and other plugins go through this one place, inside a session the
caller owns (one transaction per write). Values are checked field by field so that a
bad request is answered with every problem at once and never reaches the database as a
500. Optimistic concurrency uses an atomic ``UPDATE ... WHERE version = :expected``, so
two writers of the same version cannot both win.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from erp_core.audit import diff, record_change
from erp_core.db.loaded import attach_loaded, loaded_object
from erp_core.db.types import utcnow
from erp_core.entities.fields import FieldValueError
from erp_core.entities.held import recall, remember
from erp_core.entities.query import (
    count_statement,
    encode_cursor,
    page_statement,
    parse_list_query,
)
from erp_core.entities.registry import ID_PARAMETER, RegisteredEntity
from erp_core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDenied,
    PreconditionFailed,
    ValidationError,
)
from erp_core.events.outbox import emit

if TYPE_CHECKING:
    from erp_core.context import Context


def _fits(field: Any, value: int) -> bool:
    bound = 2 ** (getattr(field, "int_bits", 64) - 1)
    return -bound <= value < bound


@attrs.frozen
class WriteEvent:
    """A create, update or delete of a record through the entity service.

    ``action`` is ``create``, ``update`` or ``delete``; ``before`` and ``after`` are the
    record's JSON representations (``None`` where it does not exist, and ``after`` is
    ``None`` for before-subscribers); ``changes`` holds the checked values being written.
    """

    entity: str
    action: str
    record_id: int | None
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    changes: Mapping[str, Any]


class EntityService:
    """CRUD for one registered entity; bind it to a ``Context`` to use it."""

    def __init__(self, entity: RegisteredEntity) -> None:
        self.entity = entity

    def bind(self, ctx: Context) -> BoundEntityService:
        return BoundEntityService(self.entity, ctx)

    def to_json(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A row as the API shows it; fields a ``RETURNING`` row lacks (the extensions'
        columns, before anything was written to them) show their default, or ``None``."""
        return {name: field.to_json(row.get(name, field.default))
                for name, field in self.entity.readable.items()}


class BoundEntityService(EntityService):
    """CRUD of one entity for one principal in one transaction.

    Every method checks the principal's permission (``<entity>.read`` / ``create`` /
    ``update`` / ``delete``) and record rules: a record outside the rules does not exist
    for the principal (404). Every write leaves an audit row and an outbox event.
    """

    def __init__(self, entity: RegisteredEntity, ctx: Context) -> None:
        super().__init__(entity)
        self.ctx = ctx
        self.session = ctx.session

    def _row_filter(self) -> Any:
        """The condition the principal's record rules put on the entity's rows, or None."""
        return self.ctx.kernel.permissions.row_filter(
            self.entity.name, self.entity.table, self.ctx.principal)

    def _visible(self, statement: Any) -> Any:
        condition = self._row_filter()
        return statement if condition is None else statement.where(condition)

    def _require_in_scope(self, record_id: int) -> None:
        """A write may not leave a record outside the principal's record rules (creating a
        record for another customer, or moving one away): that is refused, not hidden."""
        condition = self._row_filter()
        if condition is None:
            return
        inside = self.session.scalar(sa.select(self.entity.id_column).where(
            self.entity.id_column == record_id, condition))
        if inside is None:
            raise PermissionDenied(f"{self.ctx.principal.name} may not write a {self.entity.name}"
                                   " outside the records its roles allow")

    def _check_id(self, record_id: int) -> None:
        """An id the id column cannot hold names no record: 404, not a database error."""
        if not _fits(self.entity.fields["id"], record_id):
            raise NotFoundError(f"{self.entity.name} {record_id} does not exist")

    def _require(self, action: str) -> None:
        self.ctx.principal.require(f"{self.entity.name}.{action}")

    # -- reading ----------------------------------------------------------------------

    def get(self, record_id: int, *, lock: bool = False, for_key_change: bool = False
            ) -> dict[str, Any]:
        """One record; ``lock`` holds its row until the transaction ends (PostgreSQL's
        ``FOR NO KEY UPDATE``, which leaves rows referring to it free to be written).
        ``for_key_change`` takes the stronger ``FOR UPDATE`` instead, for a caller about
        to delete it or change a column with a unique index (update and delete do)."""
        if for_key_change:
            return self._get(record_id, self.entity.by_id_locked_for_key)
        return self._get(record_id, self.entity.by_id_locked if lock else self.entity.by_id)

    def changes_unread(self, record_id: int) -> bool:
        """Whether a change of the record may lock it, check it and change it in one
        statement instead of reading it first: on PostgreSQL, when no record rule limits
        this principal, no other plugin extends the entity (its ``RETURNING`` is the
        whole record) and this transaction does not hold it already (no read to save).
        Checks the read permission and the id as ``get`` does."""
        self._require("read")
        self._check_id(record_id)
        return (self.session.get_bind().dialect.name == "postgresql"
                and not self.entity.extensions
                and self._row_filter() is None
                and recall(self.session, self.entity, record_id) is None)

    def _get(self, record_id: int, statement: Any) -> dict[str, Any]:
        """The record read with ``statement`` (``by_id`` or one of its locking forms)."""
        self._require("read")
        self._check_id(record_id)
        condition = self._row_filter()
        if condition is not None:
            statement = statement.where(condition)
        elif statement is not self.entity.by_id_locked_for_key:  # that lock must be taken
            held = recall(self.session, self.entity, record_id)
            if held is not None:
                return held
        row = self.session.execute(statement, {"record_id": record_id}).mappings().first()
        if row is None:
            raise NotFoundError(f"{self.entity.name} {record_id} does not exist")
        record = self.to_json(row)
        if statement is not self.entity.by_id:  # locked: held until the transaction ends
            remember(self.session, self.entity, record)
        return record

    def instance(self, record: Mapping[str, Any]) -> Any:
        """The model object of ``record``, a record as this transaction holds it (what a
        transition, a write or a locked ``get`` returned), made without reading it again:
        for a reaction that hands the model to code written against it. When the
        transaction does not hold exactly that record (a hook has written it since, or
        it was never locked), the object is read. Columns missing from ``record`` load
        on first use, as expired attributes do; an object already in the session is
        returned as it is."""
        model = self.entity.model
        loaded = loaded_object(self.session, model, record["id"])
        if loaded is not None:
            return loaded
        if recall(self.session, self.entity, record["id"]) != dict(record):
            return self.session.get(model, record["id"])  # not as held (or not held): read
        columns = sa.inspect(model).local_table.c
        values = {name: self.entity.fields[name].from_json(value)
                  for name, value in record.items() if name in columns}
        return attach_loaded(self.session, model, [values])[0]  # the rest loads on use

    def list(self, params: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """One page: ``{"items": [...], "next_cursor": str | None}`` (+ ``total`` on request)."""
        self._require("read")
        query = parse_list_query(self.entity, params)
        rows = self.session.execute(
            self._visible(page_statement(self.entity, query))).mappings().all()
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        page: dict[str, Any] = {
            "items": [self.to_json(row) for row in rows],
            "next_cursor": encode_cursor(self.entity, query, rows[-1]) if more else None,
        }
        if query.with_total:
            page["total"] = self.session.scalar(self._visible(count_statement(self.entity, query)))
        return page

    # -- writing ----------------------------------------------------------------------

    def _check_payload(self, payload: Any, *, creating: bool,
                       vouched: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if not isinstance(payload, Mapping):
            raise ValidationError("the request body must be a JSON object")
        writable = self.entity.writable
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for name, raw in payload.items():
            field = self.entity.fields.get(name)
            if field is None:
                errors[name] = "unknown field"
            elif not field.writable:
                if not (name == "version" and not creating):
                    errors[name] = "is read-only" if name != self._state_field else \
                        "changes only through the workflow's transitions"
            else:
                try:
                    values[name] = field.from_json(raw)
                except FieldValueError as exc:
                    errors[name] = str(exc)
        if creating:
            for name, field in writable.items():
                if field.required and name not in payload and name not in (vouched or {}):
                    errors.setdefault(name, "is required")
        if not errors:
            errors.update(self._missing_references(values))
        if errors:
            summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
            raise ValidationError(f"invalid {self.entity.name}: {summary}", errors)
        return values

    @property
    def _state_field(self) -> str | None:
        workflow = self.entity.declaration.workflow
        return workflow.field if workflow else None

    def _missing_references(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Every referenced record checked in one round trip, for a message per field."""
        checks = [(name, value, fk.column) for name, value in values.items()
                  if value is not None
                  for fk in self.entity.fields[name].column.foreign_keys]
        if not checks:
            return {}
        found = self.session.execute(sa.select(*(
            sa.select(sa.literal(1)).where(target == value).limit(1).scalar_subquery()
            for _name, value, target in checks))).one()
        return {name: f"refers to {target.table.name}.{target.name} {value}, which does not"
                      " exist"
                for (name, value, target), exists in zip(checks, found, strict=True)
                if exists is None}

    def _split(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[Any, dict[str, Any]]]:
        base = {k: v for k, v in values.items()
                if self.entity.fields[k].owner == self.entity.plugin}
        by_extension: dict[Any, dict[str, Any]] = {}
        for extension in self.entity.extensions:
            own = {f.name: values[f.name] for f in extension.fields if f.name in values}
            if own:
                by_extension[extension] = own
        return base, by_extension

    def _write_extensions(self, record_id: int, by_extension: Mapping[Any, dict[str, Any]]) -> None:
        for extension, values in by_extension.items():
            updated = self.session.execute(
                sa.update(extension.table).where(extension.key == record_id).values(values))
            if updated.rowcount == 0:
                self.session.execute(sa.insert(extension.table).values(
                    {extension.key.key: record_id, **values}))

    def _record(self, action: str, record_id: int, before: Mapping[str, Any] | None,
                after: Mapping[str, Any] | None) -> None:
        self._notify("after", WriteEvent(self.entity.name, action.removesuffix("d"),
                                         record_id, before, after, {}))
        record_change(self.ctx, self.entity.name, record_id, action, diff(before, after))
        emit(self.session, f"{self.entity.name}.{action}", self.entity.name, record_id,
             {"id": record_id, "record": after if after is not None else before})

    def _notify(self, when: str, event: WriteEvent) -> None:
        pm = self.ctx.kernel.pm
        if pm is not None:
            getattr(pm.hook, f"erp_{when}_write")(ctx=self.ctx, event=event)

    def create(self, payload: Any, *, computed: Mapping[str, Any] | None = None
               ) -> dict[str, Any]:
        """Create a record from a client's ``payload``.

        ``computed`` is for the owning plugin's code: values of read-only fields it works
        out itself (an order's totals), written in the same INSERT instead of a second
        statement, and values of other fields it vouches for (a reference to a record it
        has just read), which are not checked again: the foreign key constraint still
        refuses a record that vanished meanwhile. They are trusted, so they never come
        from a request body. They are plain values, not SQL expressions: the INSERT is
        built once per entity and takes every value as a parameter.
        """
        self._require("create")
        values = self._check_payload(payload, creating=True, vouched=computed)
        if computed:
            unknown = set(computed) - (set(self.entity.table.c.keys()) - {"id", "version"})
            if unknown:
                raise ValueError(f"{self.entity.name} computes no column"
                                 f" {sorted(unknown)[0]!r} (id and version are the kernel's)")
            expressions = sorted(k for k, v in computed.items()
                                 if isinstance(v, sa.sql.ClauseElement))
            if expressions:
                raise ValueError(f"{self.entity.name}: computed {expressions[0]!r} is a SQL"
                                 " expression; give its value")
            values.update(computed)
        base, by_extension = self._split(values)
        now = utcnow()
        table = self.entity.table
        defaults: dict[str, Any] = {k: now for k in ("created_at", "updated_at") if k in table.c}
        if self._state_field:
            defaults[self._state_field] = self.entity.declaration.workflow.initial
        self._notify("before", WriteEvent(self.entity.name, "create", None, None, None, values))
        derived = self.entity.declaration.derived_from_id
        with _constraints(self.entity):
            row = self.session.execute(self.entity.insert,
                                       {**defaults, "version": 1, **base}).mappings().one()
            record_id = row["id"]
            if derived:
                row = self.session.execute(self.entity.update_by_id, {
                    **{name: derive(record_id) for name, derive in derived.items()},
                    **{k: now for k in ("updated_at",) if k in table.c},
                    ID_PARAMETER: record_id}).mappings().one()
            self._write_extensions(record_id, by_extension)
        self._require_in_scope(record_id)
        after = self._reread(record_id) if by_extension else self.to_json(row)
        remember(self.session, self.entity, after)
        self._record("created", record_id, None, after)
        return after

    def _reread(self, record_id: int) -> dict[str, Any]:
        row = self.session.execute(self.entity.by_id, {"record_id": record_id}).mappings().one()
        return self.to_json(row)

    def update(self, record_id: int, payload: Any,
               expected_version: int | None = None) -> dict[str, Any]:
        """Change the given fields; ``expected_version`` (from If-Match) or a ``version`` in
        the payload makes the write conditional: a stale one raises and changes nothing."""
        self._require("update")
        body_version = payload.get("version") if isinstance(payload, Mapping) else None
        if body_version is not None and (isinstance(body_version, bool)
                                         or not isinstance(body_version, int)):
            raise ValidationError("version must be an integer", {"version": "must be an integer"})
        values = self._check_payload(payload, creating=False)
        before = self._get(record_id, self.entity.by_id_locked_for_key
                           if self.entity.key_columns & values.keys() else
                           self.entity.by_id_locked)
        for expected in (expected_version, body_version):
            if expected is not None and expected != before["version"]:
                self._raise_stale(record_id, before["version"], expected_version,
                                  body_version)
        self._notify("before", WriteEvent(self.entity.name, "update", record_id, before, None,
                                          values))
        base, by_extension = self._split(values)
        table = self.entity.table
        statement = sa.update(table).where(self.entity.id_column == record_id)
        for expected in (expected_version, body_version):
            if expected is not None:
                statement = statement.where(self.entity.version_column == expected)
        changes = {**base, "version": self.entity.version_column + 1}
        if "updated_at" in table.c:
            changes["updated_at"] = utcnow()
        with _constraints(self.entity):
            row = self.session.execute(statement.values(changes).returning(
                *self.entity.returned)).mappings().first()
            if row is None:
                self._raise_stale(record_id, before["version"], expected_version, body_version)
            self._write_extensions(record_id, by_extension)
        self._require_in_scope(record_id)
        after = self._reread(record_id) if self.entity.extensions else self.to_json(row)
        remember(self.session, self.entity, after)
        self._record("updated", record_id, before, after)
        return after

    def delete(self, record_id: int, expected_version: int | None = None) -> None:
        if "delete" not in self.entity.declaration.operations:
            raise ConflictError(f"{self.entity.name} records cannot be deleted")
        self._require("delete")
        before = self._get(record_id, self.entity.by_id_locked_for_key)
        if expected_version is not None and expected_version != before["version"]:
            self._raise_stale(record_id, before["version"], expected_version, None)
        self._notify("before", WriteEvent(self.entity.name, "delete", record_id, before, None, {}))
        statement = sa.delete(self.entity.table).where(self.entity.id_column == record_id)
        if expected_version is not None:
            statement = statement.where(self.entity.version_column == expected_version)
        with _constraints(self.entity):
            deleted = self.session.execute(statement)
            if deleted.rowcount == 0:
                self._raise_stale(record_id, before["version"], expected_version, None)
        self._record("deleted", record_id, before, None)

    def _raise_stale(self, record_id: int, current: int, if_match: int | None,
                     body_version: int | None) -> None:
        message = (f"{self.entity.name} {record_id} is at version {current}, not"
                   f" {if_match if if_match is not None else body_version}; it changed since"
                   " you read it: fetch it again and reapply your change")
        if if_match is not None and if_match != current:
            raise PreconditionFailed(message)
        raise ConflictError(message)


class _constraints:
    """Turns a constraint violation into a ``ConflictError`` a person understands."""

    _UNIQUE = re.compile(r"UNIQUE constraint failed: ([\w.,\s]+)|Key \(([^)]+)\)=")

    def __init__(self, entity: RegisteredEntity) -> None:
        self.entity = entity

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, _tb: Any) -> bool:
        if not isinstance(exc, sa.exc.IntegrityError):
            return False
        text = str(exc.orig)
        lowered = text.lower()
        if "unique" in lowered or "duplicate key" in lowered:
            match = self._UNIQUE.search(text)
            columns = (match.group(1) or match.group(2)).strip() if match else "a unique field"
            raise ConflictError(
                f"another {self.entity.name} already has this value of {columns}") from None
        if "foreign key" in lowered:
            raise ConflictError(
                f"this {self.entity.name} is still referenced by other records, or refers to a"
                " record that does not exist") from None
        first_line = text.splitlines()[0] if text else "constraint violated"
        raise ConflictError(f"the change violates a rule of the database: {first_line}") from None
