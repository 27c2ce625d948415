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
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_core.db.types import utcnow
from erp_core.entities.fields import FieldValueError
from erp_core.entities.query import (
    base_select,
    count_statement,
    encode_cursor,
    page_statement,
    parse_list_query,
)
from erp_core.entities.registry import RegisteredEntity
from erp_core.errors import ConflictError, NotFoundError, PreconditionFailed, ValidationError


class EntityService:
    """CRUD for one registered entity; stateless, cheap to build."""

    def __init__(self, entity: RegisteredEntity) -> None:
        self.entity = entity

    # -- reading ----------------------------------------------------------------------

    def to_json(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {name: field.to_json(row[name]) for name, field in self.entity.fields.items()}

    def get(self, session: Session, record_id: int) -> dict[str, Any]:
        row = session.execute(
            base_select(self.entity).where(self.entity.id_column == record_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"{self.entity.name} {record_id} does not exist")
        return self.to_json(row)

    def list(self, session: Session, params: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """One page: ``{"items": [...], "next_cursor": str | None}`` (+ ``total`` on request)."""
        query = parse_list_query(self.entity, params)
        rows = session.execute(page_statement(self.entity, query)).mappings().all()
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        page: dict[str, Any] = {
            "items": [self.to_json(row) for row in rows],
            "next_cursor": encode_cursor(self.entity, query, rows[-1]) if more else None,
        }
        if query.with_total:
            page["total"] = session.scalar(count_statement(self.entity, query))
        return page

    # -- writing ----------------------------------------------------------------------

    def _check_payload(self, session: Session, payload: Any, *, creating: bool) -> dict[str, Any]:
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
                    errors[name] = "is read-only"
            else:
                try:
                    values[name] = field.from_json(raw)
                except FieldValueError as exc:
                    errors[name] = str(exc)
        if creating:
            for name, field in writable.items():
                if field.required and name not in payload:
                    errors.setdefault(name, "is required")
        if not errors:
            errors.update(self._missing_references(session, values))
        if errors:
            summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
            raise ValidationError(f"invalid {self.entity.name}: {summary}", errors)
        return values

    def _missing_references(self, session: Session, values: Mapping[str, Any]) -> dict[str, str]:
        errors = {}
        for name, value in values.items():
            if value is None:
                continue
            for fk in self.entity.fields[name].column.foreign_keys:
                target = fk.column
                found = session.scalar(sa.select(sa.literal(1)).where(target == value).limit(1))
                if found is None:
                    errors[name] = f"refers to {target.table.name}.{target.name} {value}," \
                                   " which does not exist"
        return errors

    def _split(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[Any, dict[str, Any]]]:
        base = {k: v for k, v in values.items() if self.entity.fields[k].owner == self.entity.plugin}
        by_extension: dict[Any, dict[str, Any]] = {}
        for extension in self.entity.extensions:
            own = {f.name: values[f.name] for f in extension.fields if f.name in values}
            if own:
                by_extension[extension] = own
        return base, by_extension

    def _write_extensions(self, session: Session, record_id: int,
                          by_extension: Mapping[Any, dict[str, Any]]) -> None:
        for extension, values in by_extension.items():
            updated = session.execute(
                sa.update(extension.table).where(extension.key == record_id).values(values))
            if updated.rowcount == 0:
                session.execute(sa.insert(extension.table).values({extension.key.key: record_id,
                                                                   **values}))

    def create(self, session: Session, payload: Any) -> dict[str, Any]:
        values = self._check_payload(session, payload, creating=True)
        base, by_extension = self._split(values)
        now = utcnow()
        table = self.entity.table
        defaults = {k: now for k in ("created_at", "updated_at") if k in table.c}
        with _constraints(self.entity):
            record_id = session.execute(
                sa.insert(table).values({**defaults, "version": 1, **base})
                .returning(self.entity.id_column)).scalar_one()
            self._write_extensions(session, record_id, by_extension)
        return self.get(session, record_id)

    def update(self, session: Session, record_id: int, payload: Any,
               expected_version: int | None = None) -> dict[str, Any]:
        """Change the given fields; ``expected_version`` (from If-Match) or a ``version`` in
        the payload makes the write conditional: a stale one raises and changes nothing."""
        body_version = payload.get("version") if isinstance(payload, Mapping) else None
        if body_version is not None and (isinstance(body_version, bool)
                                         or not isinstance(body_version, int)):
            raise ValidationError("version must be an integer", {"version": "must be an integer"})
        values = self._check_payload(session, payload, creating=False)
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
            updated = session.execute(statement.values(changes))
            if updated.rowcount == 0:
                self._raise_for_missing_or_stale(session, record_id, expected_version, body_version)
            self._write_extensions(session, record_id, by_extension)
        return self.get(session, record_id)

    def delete(self, session: Session, record_id: int, expected_version: int | None = None) -> None:
        if not self.entity.declaration.deletable:
            raise ConflictError(f"{self.entity.name} records cannot be deleted")
        statement = sa.delete(self.entity.table).where(self.entity.id_column == record_id)
        if expected_version is not None:
            statement = statement.where(self.entity.version_column == expected_version)
        with _constraints(self.entity):
            deleted = session.execute(statement)
            if deleted.rowcount == 0:
                self._raise_for_missing_or_stale(session, record_id, expected_version, None)

    def _raise_for_missing_or_stale(self, session: Session, record_id: int,
                                    if_match: int | None, body_version: int | None) -> None:
        current = session.scalar(sa.select(self.entity.version_column)
                                 .where(self.entity.id_column == record_id))
        if current is None:
            raise NotFoundError(f"{self.entity.name} {record_id} does not exist")
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
        raise ConflictError(f"the change violates a rule of the database: {text.splitlines()[0]}") from None
