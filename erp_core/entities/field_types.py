"""Field types: how one kind of value is checked and how it crosses the API boundary.

Every value an entity, a typed request body or a service accepts passes through one
``FieldType``: it reads the value from JSON (``from_json``), from a query string
(``from_text``) or from Python code (``check``), writes it back to JSON (``to_json``)
and describes it in OpenAPI (``json_schema``). A type is one class registered in one
place (``FIELD_TYPES``); the registry picks the type of a model column from the
column's SQL type and its ``info`` rules, so a new kind of value is one class.

Money, quantities and rates are ``Decimal`` and travel as decimal strings: finite
only, within the column's precision and scale (more decimals than the scale is refused,
never rounded), within declared bounds (``sign="non_negative"``, ``"positive"``,
``minimum``/``maximum``). Integers stay within their column's range, so an id no
column can hold is a clear 4xx instead of a database error.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Self

import attrs
import sqlalchemy as sa

from erp_core.db.types import AwareDateTime, ExactNumeric


class FieldValueError(ValueError):
    """A value does not fit its field; the message is meant for the person who sent it.

    ``errors`` holds the problems of a value's parts (the fields of a nested object, the
    items of a list), keyed by their path relative to the value: ``lines[0].quantity``.
    """

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors or {})


class FieldType:
    """One kind of value. Subclasses set ``name`` and ``python_type`` and override what
    differs; ``for_column`` returns an instance for a column the type carries, or None.

    ``ordered`` types take range filters (``__gte``...); ``searchable`` ones
    ``__contains``. ``check`` takes a value from Python code (a service's caller) and
    defaults to ``from_json``.
    """

    name: ClassVar[str]
    python_type: ClassVar[type]
    ordered: ClassVar[bool] = True
    searchable: ClassVar[bool] = False

    @classmethod
    def for_column(cls, column: sa.Column[Any]) -> Self | None:
        return None

    def from_json(self, value: Any) -> Any:
        raise NotImplementedError

    def from_text(self, text: str) -> Any:
        return self.from_json(text)

    def check(self, value: Any) -> Any:
        return self.from_json(value)

    def to_json(self, value: Any) -> Any:
        return value

    def json_schema(self) -> dict[str, Any]:
        raise NotImplementedError


class FieldTypeRegistry:
    """The registered field types; a column gets the type registered last that claims
    it, so a more specific type (a unit code is also a string) is registered after the
    general one."""

    def __init__(self) -> None:
        self._types: list[type[FieldType]] = []

    def register(self, cls: type[FieldType]) -> type[FieldType]:
        """Register ``cls`` (usable as a class decorator)."""
        if cls not in self._types:
            self._types.append(cls)
        return cls

    def unregister(self, cls: type[FieldType]) -> None:
        self._types.remove(cls)

    def __iter__(self) -> Iterator[type[FieldType]]:
        return iter(self._types)

    def for_column(self, column: sa.Column[Any]) -> FieldType:
        """The field type of ``column``; ``TypeError`` when no registered type carries it."""
        for cls in reversed(self._types):
            found = cls.for_column(column)
            if found is not None:
                return found
        if isinstance(column.type, sa.DateTime):
            raise TypeError(f"column {column.name!r} is a naive DateTime; use"
                            " erp_sdk.UtcDateTime")
        raise TypeError(f"column {column.name!r} has type {column.type!r}, which the API"
                        " cannot carry")


FIELD_TYPES = FieldTypeRegistry()
"""Every field type the kernel and the plugins know."""


def register_field_type(cls: type[FieldType]) -> type[FieldType]:
    """Register a field type (a class decorator): columns it claims get it everywhere."""
    return FIELD_TYPES.register(cls)



def check_text(value: str) -> str:
    """Refuse text no database can store (NUL, lone surrogates)."""
    if "\x00" in value:
        raise FieldValueError("may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldValueError("is not valid Unicode text") from None
    return value


@register_field_type
@attrs.frozen
class Text(FieldType):
    """A string, at most ``max_length`` characters, one of ``choices`` when given."""

    name: ClassVar[str] = "string"
    python_type: ClassVar[type] = str
    searchable: ClassVar[bool] = True

    max_length: int | None = None
    choices: tuple[str, ...] | None = None

    @classmethod
    def for_column(cls, column: sa.Column[Any]) -> Self | None:
        if isinstance(column.type, sa.Enum):
            return cls(choices=tuple(column.type.enums))
        if isinstance(column.type, sa.String):
            return cls(max_length=column.type.length)
        return None

    def from_json(self, value: Any) -> str:
        if not isinstance(value, str):
            raise FieldValueError("must be a string")
        return self.from_text(value)

    def from_text(self, text: str) -> str:
        check_text(text)
        if self.max_length is not None and len(text) > self.max_length:
            raise FieldValueError(f"is longer than {self.max_length} characters")
        if self.choices is not None and text not in self.choices:
            raise FieldValueError(f"must be one of {', '.join(self.choices)}")
        return text

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.choices is not None:
            schema["enum"] = list(self.choices)
        return schema


_INT_BITS = ((sa.SmallInteger, 16), (sa.BigInteger, 64))


@register_field_type
@attrs.frozen
class Integer(FieldType):
    """A whole number within a column's range (``bits``), and ``minimum`` when given
    (ids are ``Integer(minimum=1)``)."""

    name: ClassVar[str] = "integer"
    python_type: ClassVar[type] = int

    bits: int = 32
    minimum: int | None = None

    @classmethod
    def for_column(cls, column: sa.Column[Any]) -> Self | None:
        if isinstance(column.type, sa.Integer):
            bits = next((b for kind, b in _INT_BITS if isinstance(column.type, kind)), 32)
            return cls(bits=bits)
        return None

    @property
    def low(self) -> int:
        bound = -(2 ** (self.bits - 1))
        return bound if self.minimum is None else max(bound, self.minimum)

    @property
    def high(self) -> int:
        return 2 ** (self.bits - 1) - 1

    def from_json(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, Decimal) and value.is_finite() \
                    and value == value.to_integral_value():
                value = int(value)
            else:
                raise FieldValueError("must be an integer")
        return self.in_range(value)

    def from_text(self, text: str) -> int:
        try:
            return self.in_range(int(text))
        except ValueError:
            raise FieldValueError(f"{text[:40]!r} is not an integer") from None

    def in_range(self, value: int) -> int:
        if not self.low <= value <= self.high:
            raise FieldValueError(f"is out of range ({self.low} to {self.high})")
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


SIGNS = ("non_negative", "positive")
"""The sign rules a decimal field may declare (column ``info={"sign": ...}``)."""


@register_field_type
@attrs.frozen
class DecimalNumber(FieldType):
    """An exact decimal: money, a quantity, a rate.

    ``precision`` digits of which ``scale`` after the point; ``minimum`` and
    ``maximum`` bound it (``exclusive_minimum`` for "more than"); ``description`` says
    what it means to the person who sends it. From a column, the type reads
    ``info``: ``sign`` (``non_negative`` or ``positive``), ``minimum``, ``maximum``,
    ``description``.
    """

    name: ClassVar[str] = "decimal"
    python_type: ClassVar[type] = Decimal

    precision: int = 18
    scale: int = 4
    minimum: Decimal | None = attrs.field(default=None, converter=attrs.converters.optional(
        Decimal))
    maximum: Decimal | None = attrs.field(default=None, converter=attrs.converters.optional(
        Decimal))
    exclusive_minimum: bool = False
    description: str | None = None

    @classmethod
    def with_sign(cls, sign: str | None, **kwargs: Any) -> Self:
        """The type with a sign rule: ``non_negative`` (0 or more), ``positive`` (more than 0)."""
        if sign is None:
            return cls(**kwargs)
        if sign not in SIGNS:
            raise ValueError(f"unknown sign rule {sign!r} (rules: {', '.join(SIGNS)})")
        return cls(minimum=Decimal(0), exclusive_minimum=sign == "positive", **kwargs)

    @classmethod
    def for_column(cls, column: sa.Column[Any]) -> Self | None:
        type_ = column.type
        if isinstance(type_, ExactNumeric):
            precision, scale = type_.precision, type_.scale
        elif isinstance(type_, sa.Numeric) and not isinstance(type_, sa.Float):
            precision, scale = type_.precision or 18, type_.scale or 0
        else:
            return None
        info = column.info
        found = cls.with_sign(info.get("sign"), precision=precision, scale=scale,
                              description=info.get("description"))
        bounds = {k: info[k] for k in ("minimum", "maximum") if k in info}
        return attrs.evolve(found, **bounds) if bounds else found

    def from_json(self, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise FieldValueError(
                "must be a decimal number written as a string, e.g. \"12.50\"")
        return self.from_text(value) if isinstance(value, str) else self._checked(
            Decimal(value))

    def check(self, value: Any) -> Decimal:
        if isinstance(value, float):
            raise FieldValueError("must be a Decimal, not a float (floats lose cents)")
        return self.from_json(value)

    def from_text(self, text: str) -> Decimal:
        shown = text if len(text) <= 40 else text[:37] + "..."
        try:
            value = Decimal(text.strip())
        except (InvalidOperation, ValueError):
            raise FieldValueError(f"{shown!r} is not a decimal number") from None
        return self._checked(value, shown)

    def _checked(self, value: Decimal, shown: str | None = None) -> Decimal:
        """The digits are counted from the number's parts, without arithmetic, so no
        exponent (``1e400``, ``1e-999999999``) can overflow a decimal context."""
        if not value.is_finite():
            raise FieldValueError(f"{shown or str(value)!r} is not a finite number")
        _sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        while len(digits) > 1 and digits[-1] == 0:
            digits, exponent = digits[:-1], exponent + 1
        if digits == (0,):
            exponent = 0
        whole = self.precision - self.scale
        if len(digits) + exponent > whole:
            raise FieldValueError(f"is too large (at most {whole} digits before the point)")
        if -exponent > self.scale:
            raise FieldValueError(f"has more than {self.scale} decimal places"
                                  if self.scale else "must be a whole number")
        value = value.scaleb(0)  # a plain copy; +0 for -0
        if self.minimum is not None:
            if self.exclusive_minimum and value <= self.minimum:
                raise FieldValueError("must be positive" if self.minimum == 0
                                      else f"must be more than {self.minimum}")
            if value < self.minimum:
                raise FieldValueError("may not be negative" if self.minimum == 0
                                      else f"may not be less than {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise FieldValueError(f"may not be more than {self.maximum}")
        return value

    def to_json(self, value: Any) -> Any:
        return None if value is None else str(value)

    def json_schema(self) -> dict[str, Any]:
        whole = self.precision - self.scale
        sign = "" if self.minimum is not None and self.minimum >= 0 else "-?"
        fraction = rf"(\.\d{{1,{self.scale}}})?" if self.scale else ""
        schema: dict[str, Any] = {"type": "string", "format": "decimal",
                                  "pattern": rf"^{sign}\d{{1,{whole}}}{fraction}$"}
        if self.minimum is not None:
            schema["exclusiveMinimum" if self.exclusive_minimum else "minimum"] = \
                _number(self.minimum)
        if self.maximum is not None:
            schema["maximum"] = _number(self.maximum)
        schema["description"] = self.describe()
        return schema

    def describe(self) -> str:
        rules = [f"A decimal number as a string, at most {self.scale} decimal places"
                 if self.scale else "A whole number as a string"]
        if self.minimum is not None:
            rules.append(("more than " if self.exclusive_minimum else "at least ")
                         + str(self.minimum))
        if self.maximum is not None:
            rules.append(f"at most {self.maximum}")
        text = ", ".join(rules) + "."
        return f"{self.description} {text}" if self.description else text


def _number(value: Decimal) -> int | float:
    """A bound as JSON Schema wants it: a number (documentation only; the value itself
    travels as a string and is checked exactly)."""
    return int(value) if value == value.to_integral_value() else float(value)


@register_field_type
@attrs.frozen
class Boolean(FieldType):
    """``true`` or ``false``."""

    name: ClassVar[str] = "boolean"
    python_type: ClassVar[type] = bool
    ordered: ClassVar[bool] = False

    @classmethod
    def for_column(cls, column: sa.Column[Any]) -> Self | None:
        return cls() if isinstance(column.type, sa.Boolean) else None

    def from_json(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise FieldValueError("must be true or false")
        return value

    def from_text(self, text: str) -> bool:
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise FieldValueError(f"{text[:40]!r} is not true or false")
        return lowered == "true"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@register_field_type
@attrs.frozen
class DateTime(FieldType):
    """An aware timestamp, ISO 8601 with its offset; kept in UTC."""

    name: ClassVar[str] = "datetime"
    python_type: ClassVar[type] = dt.datetime

    @classmethod
    def for_column(cls, column: sa.Column[Any]) -> Self | None:
        return cls() if isinstance(column.type, AwareDateTime) else None

    def from_json(self, value: Any) -> dt.datetime:
        if not isinstance(value, str):
            raise FieldValueError("must be an ISO 8601 datetime string")
        return self.from_text(value)

    def from_text(self, text: str) -> dt.datetime:
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise FieldValueError(f"{text[:40]!r} is not an ISO 8601 date-time such as"
                                  " 2026-01-31T12:00:00Z") from None
        if value.tzinfo is None:
            raise FieldValueError(f"{text[:40]!r} has no UTC offset; add Z or +HH:MM")
        return value.astimezone(dt.UTC)

    def check(self, value: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise FieldValueError("is a naive datetime; timestamps must be timezone-aware")
            return value.astimezone(dt.UTC)
        return self.from_json(value)

    def to_json(self, value: Any) -> Any:
        return None if value is None else value.isoformat()

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}


@register_field_type
@attrs.frozen
class Date(FieldType):
    """A calendar date, ISO 8601."""

    name: ClassVar[str] = "date"
    python_type: ClassVar[type] = dt.date

    @classmethod
    def for_column(cls, column: sa.Column[Any]) -> Self | None:
        type_ = column.type
        return cls() if isinstance(type_, sa.Date) and not isinstance(type_, sa.DateTime) \
            else None

    def from_json(self, value: Any) -> dt.date:
        if not isinstance(value, str):
            raise FieldValueError("must be an ISO 8601 date string")
        return self.from_text(value)

    def from_text(self, text: str) -> dt.date:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise FieldValueError(f"{text[:40]!r} is not an ISO 8601 date such as"
                                  " 2026-01-31") from None

    def check(self, value: Any) -> dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        return self.from_json(value)

    def to_json(self, value: Any) -> Any:
        return None if value is None else value.isoformat()

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


@register_field_type
@attrs.frozen
class Json(FieldType):
    """A JSON document, stored as it came; not filterable. Its shape is the model's
    annotation: ``Mapped[list[str]]`` takes a list of strings, ``Mapped[list[...]]`` a
    list, ``Mapped[dict[...]]`` an object, anything else any JSON."""

    name: ClassVar[str] = "json"
    python_type: ClassVar[type] = object
    ordered: ClassVar[bool] = False

    shape: str | None = None  # "list_of_text", "list", "object" or None (any JSON)

    @classmethod
    def for_column(cls, column: sa.Column[Any]) -> Self | None:
        return cls(shape=_declared_shape(column)) if isinstance(column.type, sa.JSON) else None

    def from_json(self, value: Any) -> Any:
        # A fractional number arrives as a Decimal, which a JSON column cannot store, and
        # text with a lone surrogate cannot be encoded: refuse both here, not at the INSERT.
        try:
            json.dumps(value, ensure_ascii=False, allow_nan=False).encode()
        except (TypeError, ValueError):
            raise FieldValueError("must be JSON of text, whole numbers, booleans, lists"
                                  " and objects (write fractions as strings)") from None
        if self.shape == "object" and not isinstance(value, dict):
            raise FieldValueError("must be a JSON object")
        if self.shape in ("list", "list_of_text") and not isinstance(value, list):
            raise FieldValueError("must be a JSON array")
        if self.shape == "list_of_text" and not all(isinstance(item, str) for item in value):
            raise FieldValueError("must be an array of strings")
        return value

    def from_text(self, text: str) -> Any:
        raise FieldValueError("JSON fields cannot be filtered")

    def json_schema(self) -> dict[str, Any]:
        if self.shape == "object":
            return {"type": "object"}
        if self.shape == "list":
            return {"type": "array"}
        if self.shape == "list_of_text":
            return {"type": "array", "items": {"type": "string"}}
        return {}


def _declared_shape(column: sa.Column[Any]) -> str | None:
    """The shape a JSON column's model annotation declares (see ``Json``), if any."""
    from erp_core.db.base import Base

    for mapper in Base.registry.mappers:
        if column.table in mapper.tables:
            try:
                hint = typing.get_type_hints(mapper.class_).get(column.key)
            except Exception:  # an annotation naming what only type checkers import
                return None
            inner = typing.get_args(hint)[0] if typing.get_args(hint) else hint
            if typing.get_origin(inner) in (typing.Union, types.UnionType):
                # Mapped[list[str] | None]: the shape of its value when there is one
                present = [arg for arg in typing.get_args(inner) if arg is not type(None)]
                inner = present[0] if len(present) == 1 else None
            origin = typing.get_origin(inner)
            if origin is dict:
                return "object"
            if origin is list:
                return "list_of_text" if typing.get_args(inner) == (str,) else "list"
            return None
    return None
