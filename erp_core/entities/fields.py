"""Fields of an entity: a model column, the field type of its values, and its API roles.

A field is derived from a model column; its ``FieldType`` (``erp_core.entities.
field_types``) does all the work of reading, checking and writing values. The field
adds what only the column knows: whether ``None`` is allowed, whether the API may write
it, filter it, sort it.
"""

from __future__ import annotations

from typing import Any

import attrs
import sqlalchemy as sa

from erp_core.entities import units as _units  # noqa: F401  (registers the unit code type)
from erp_core.entities.field_types import (
    FIELD_TYPES,
    FieldType,
    FieldValueError,
    check_text,
)

__all__ = ["Field", "FieldValueError", "field_from_column"]


@attrs.frozen
class Field:
    """One field of an entity as the API sees it.

    ``owner`` is the plugin whose table stores the field (the entity's own plugin, or an
    extending plugin); ``column`` is the SQLAlchemy column it maps to; ``type`` checks
    and converts its values. ``default`` is the value shown while the record has no row
    in the field's table (an extension field with a column default); ``expression`` is
    what queries select, filter and sort by: the column, or the default when that row is
    missing.
    """

    name: str
    type: FieldType
    column: sa.Column[Any] = attrs.field(eq=False, repr=False)
    owner: str
    nullable: bool
    required: bool
    writable: bool
    filterable: bool = False
    sortable: bool = False
    readable: bool = True
    default: Any = None
    expression: Any = attrs.field(default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.expression is None:
            object.__setattr__(self, "expression", self.column)

    @property
    def kind(self) -> str:
        """The field type's name (``decimal``, ``string``...)."""
        return self.type.name

    @property
    def python_type(self) -> type:
        return self.type.python_type

    @property
    def int_bits(self) -> int:
        return getattr(self.type, "bits", 64)

    def from_json(self, value: Any) -> Any:
        """Check and convert a value from a JSON body."""
        if value is None:
            if not self.nullable:
                raise FieldValueError("may not be null")
            return None
        return self.type.from_json(value)

    def from_text(self, text: str) -> Any:
        """Convert a value from a query string."""
        return self.type.from_text(text)

    def check(self, value: Any) -> Any:
        """Check and convert a value given by Python code."""
        if value is None:
            if not self.nullable:
                raise FieldValueError("may not be null")
            return None
        return self.type.check(value)

    def check_text(self, value: str) -> str:
        return check_text(value)

    def to_json(self, value: Any) -> Any:
        return None if value is None else self.type.to_json(value)

    def json_schema(self, *, for_input: bool = False) -> dict[str, Any]:
        """The field's JSON Schema (OpenAPI 3.1)."""
        schema = self.type.json_schema()
        if self.nullable and "type" in schema:
            schema["type"] = [schema["type"], "null"]
            if "enum" in schema:
                schema["enum"] = [*schema["enum"], None]
        if self.default is not None:
            schema["default"] = self.to_json(self.default)
        if not for_input and not self.writable:
            schema["readOnly"] = True
        return schema


def field_from_column(column: sa.Column[Any], *, owner: str, writable: bool,
                      filterable: bool = False, sortable: bool = False,
                      readable: bool = True, missing_row: Any = None) -> Field:
    """Derive a field from a column; raises ``TypeError`` for a column type the API cannot carry.

    ``missing_row`` is a condition true when the record has no row in the column's table
    (an extension's side table, outer-joined): the field then shows the column's scalar
    default, if it has one, instead of null.
    """
    type_ = FIELD_TYPES.for_column(column)
    has_default = (column.default is not None or column.server_default is not None
                   or (column.primary_key and type_.name == "integer"))
    default = expression = None
    if missing_row is not None and column.default is not None and column.default.is_scalar:
        default = column.default.arg  # type: ignore[attr-defined]
        expression = sa.case((missing_row, sa.literal(default, column.type)), else_=column)
    return Field(
        name=column.key, type=type_, column=column, owner=owner, nullable=bool(column.nullable),
        required=writable and not column.nullable and not has_default, writable=writable,
        filterable=filterable, sortable=sortable, readable=readable, default=default,
        expression=expression,
    )
