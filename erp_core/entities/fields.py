"""Fields of an entity: what kind of value each is, and how it crosses the API boundary.

A field is derived from a model column. Values come in from JSON bodies and query
strings, go out as JSON; money and quantities travel as decimal strings so no cent is
lost to a float anywhere, timestamps as ISO 8601 with their UTC offset.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
import sqlalchemy as sa

from erp_core.db.types import AwareDateTime, ExactNumeric


class FieldKind(enum.StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    DATE = "date"
    JSON = "json"


class FieldValueError(ValueError):
    """A value does not fit its field; the message is meant for the person who sent it."""


_INT_BITS = {sa.SmallInteger: 16, sa.BigInteger: 64}


@attrs.frozen
class Field:
    """One field of an entity as the API sees it.

    ``owner`` is the plugin whose table stores the field (the entity's own plugin, or an
    extending plugin); ``column`` is the SQLAlchemy column it maps to.
    """

    name: str
    kind: FieldKind
    column: sa.Column[Any] = attrs.field(eq=False, repr=False)
    owner: str
    nullable: bool
    required: bool
    writable: bool
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    int_bits: int = 32
    choices: tuple[str, ...] | None = None
    filterable: bool = False
    sortable: bool = False
    readable: bool = True

    @property
    def python_type(self) -> type:
        return {FieldKind.STRING: str, FieldKind.INTEGER: int, FieldKind.DECIMAL: Decimal,
                FieldKind.BOOLEAN: bool, FieldKind.DATETIME: dt.datetime,
                FieldKind.DATE: dt.date, FieldKind.JSON: object}[self.kind]

    # -- in ---------------------------------------------------------------------------

    def from_json(self, value: Any) -> Any:
        """Check and convert a value from a JSON body (decimals may come as numbers or strings)."""
        if value is None:
            if not self.nullable:
                raise FieldValueError("may not be null")
            return None
        kind = self.kind
        if kind is FieldKind.STRING:
            if not isinstance(value, str):
                raise FieldValueError("must be a string")
            return self._check_string(value)
        if kind is FieldKind.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, Decimal) and value == value.to_integral_value():
                    value = int(value)
                else:
                    raise FieldValueError("must be an integer")
            return self._check_integer(value)
        if kind is FieldKind.DECIMAL:
            if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
                raise FieldValueError(
                    "must be a decimal number written as a string, e.g. \"12.50\"")
            return self._check_decimal(str(value))
        if kind is FieldKind.BOOLEAN:
            if not isinstance(value, bool):
                raise FieldValueError("must be true or false")
            return value
        if kind is FieldKind.JSON:
            # A fractional number arrives as a Decimal, which a JSON column cannot store,
            # and text with a lone surrogate cannot be encoded: refuse both here, not at
            # the INSERT.
            try:
                json.dumps(value, ensure_ascii=False, allow_nan=False).encode()
            except (TypeError, ValueError):
                raise FieldValueError("must be JSON of text, whole numbers, booleans, lists"
                                      " and objects (write fractions as strings)") from None
            return value
        if not isinstance(value, str):
            raise FieldValueError(f"must be an ISO 8601 {kind.value} string")
        return self.from_text(value)

    def from_text(self, text: str) -> Any:
        """Convert a value from a query string."""
        kind = self.kind
        if kind is FieldKind.STRING:
            return self._check_string(text)
        if kind is FieldKind.INTEGER:
            try:
                return self._check_integer(int(text))
            except ValueError:
                raise FieldValueError(f"{text!r} is not an integer") from None
        if kind is FieldKind.DECIMAL:
            return self._check_decimal(text)
        if kind is FieldKind.BOOLEAN:
            lowered = text.lower()
            if lowered not in ("true", "false"):
                raise FieldValueError(f"{text!r} is not true or false")
            return lowered == "true"
        if kind is FieldKind.JSON:
            raise FieldValueError("JSON fields cannot be filtered")
        if kind is FieldKind.DATETIME:
            try:
                value = dt.datetime.fromisoformat(text)
            except ValueError:
                raise FieldValueError(
                    f"{text!r} is not an ISO 8601 date-time such as 2026-01-31T12:00:00Z"
                ) from None
            if value.tzinfo is None:
                raise FieldValueError(f"{text!r} has no UTC offset; add Z or +HH:MM")
            return value.astimezone(dt.UTC)
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise FieldValueError(f"{text!r} is not an ISO 8601 date such as 2026-01-31") from None

    def check_text(self, value: str) -> str:
        """Refuse text no database can store (NUL, lone surrogates)."""
        if "\x00" in value:
            raise FieldValueError("may not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise FieldValueError("is not valid Unicode text") from None
        return value

    def _check_string(self, value: str) -> str:
        self.check_text(value)
        if self.max_length is not None and len(value) > self.max_length:
            raise FieldValueError(f"is longer than {self.max_length} characters")
        if self.choices is not None and value not in self.choices:
            raise FieldValueError(f"must be one of {', '.join(self.choices)}")
        return value

    def _check_integer(self, value: int) -> int:
        bound = 2 ** (self.int_bits - 1)
        if not -bound <= value < bound:
            raise FieldValueError(f"is out of range ({-bound} to {bound - 1})")
        return value

    def _check_decimal(self, text: str) -> Decimal:
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            raise FieldValueError(f"{text!r} is not a decimal number") from None
        if not value.is_finite():
            raise FieldValueError(f"{text!r} is not a finite decimal number")
        scale, precision = self.scale or 0, self.precision or 18
        if abs(value) >= Decimal(10) ** (precision - scale):
            raise FieldValueError(
                f"is too large (at most {precision - scale} digits before the point)")
        if value != value.quantize(Decimal(1).scaleb(-scale)):
            raise FieldValueError(f"has more than {scale} decimal places")
        return value

    # -- out --------------------------------------------------------------------------

    def to_json(self, value: Any) -> Any:
        if value is None:
            return None
        if self.kind is FieldKind.DECIMAL:
            return str(value)
        if self.kind in (FieldKind.DATETIME, FieldKind.DATE):
            return value.isoformat()
        return value

    def json_schema(self, *, for_input: bool = False) -> dict[str, Any]:
        """The field's JSON Schema (OpenAPI 3.1)."""
        schema: dict[str, Any]
        if self.kind is FieldKind.STRING:
            schema = {"type": "string"}
            if self.max_length is not None:
                schema["maxLength"] = self.max_length
            if self.choices is not None:
                schema["enum"] = list(self.choices)
        elif self.kind is FieldKind.INTEGER:
            bound = 2 ** (self.int_bits - 1)
            schema = {"type": "integer", "minimum": -bound, "maximum": bound - 1}
        elif self.kind is FieldKind.DECIMAL:
            whole = (self.precision or 18) - (self.scale or 0)
            schema = {"type": "string", "format": "decimal",
                      "pattern": rf"^-?\d{{1,{whole}}}(\.\d{{1,{self.scale or 0}}})?$"
                      if self.scale else rf"^-?\d{{1,{whole}}}$"}
        elif self.kind is FieldKind.BOOLEAN:
            schema = {"type": "boolean"}
        elif self.kind is FieldKind.DATETIME:
            schema = {"type": "string", "format": "date-time"}
        elif self.kind is FieldKind.JSON:
            return {}
        else:
            schema = {"type": "string", "format": "date"}
        if self.nullable:
            schema["type"] = [schema["type"], "null"]
            if "enum" in schema:
                schema["enum"] = [*schema["enum"], None]
        return schema


def field_from_column(column: sa.Column[Any], *, owner: str, writable: bool,
                      filterable: bool = False, sortable: bool = False,
                      readable: bool = True) -> Field:
    """Derive a field from a column; raises ``TypeError`` for a column type the API cannot carry."""
    type_ = column.type
    extra: dict[str, Any] = {}
    if isinstance(type_, ExactNumeric):
        kind = FieldKind.DECIMAL
        extra.update(precision=type_.impl.precision, scale=type_.scale)
    elif isinstance(type_, AwareDateTime):
        kind = FieldKind.DATETIME
    elif isinstance(type_, sa.Boolean):
        kind = FieldKind.BOOLEAN
    elif isinstance(type_, sa.Integer):
        kind = FieldKind.INTEGER
        extra["int_bits"] = next((bits for cls, bits in _INT_BITS.items()
                                  if isinstance(type_, cls)), 32)
    elif isinstance(type_, sa.Numeric):
        kind = FieldKind.DECIMAL
        extra.update(precision=type_.precision or 18, scale=type_.scale or 0)
    elif isinstance(type_, sa.Enum):
        kind = FieldKind.STRING
        extra["choices"] = tuple(type_.enums)
    elif isinstance(type_, sa.String):
        kind = FieldKind.STRING
        extra["max_length"] = type_.length
    elif isinstance(type_, sa.JSON):
        kind = FieldKind.JSON
    elif isinstance(type_, sa.Date):
        kind = FieldKind.DATE
    elif isinstance(type_, sa.DateTime):
        raise TypeError(f"column {column.name!r} is a naive DateTime; use erp_sdk.UtcDateTime")
    else:
        raise TypeError(f"column {column.name!r} has type {type_!r}, which the API cannot carry")
    has_default = (column.default is not None or column.server_default is not None
                   or (column.primary_key and kind is FieldKind.INTEGER))
    return Field(
        name=column.key, kind=kind, column=column, owner=owner, nullable=bool(column.nullable),
        required=writable and not column.nullable and not has_default, writable=writable,
        filterable=filterable, sortable=sortable, readable=readable, **extra,
    )
