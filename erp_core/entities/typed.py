"""Typed values: attrs classes whose fields are declared with field types.

A hand-written route's request body, and the request a service takes from Python, is
one such class: ``typed_field(money(sign="non_negative"))`` makes the attribute go
through the same ``FieldType`` as an entity's column, so the HTTP route (``read_body``),
a service's Python caller (the attribute's converter) and the OpenAPI document
(``schema_of``) all apply and show the same rules. A bad value is a ``ValidationError``
naming the field by its path (``lines[0].unit_price``) and the rule it breaks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from erp_core.db.types import MONEY_PRECISION, MONEY_SCALE, QUANTITY_PRECISION, QUANTITY_SCALE
from erp_core.entities.field_types import (
    Boolean,
    DateTime,
    DecimalNumber,
    FieldType,
    FieldValueError,
    Integer,
    Text,
)
from erp_core.errors import ValidationError
from erp_core.json_text import parse_json

if TYPE_CHECKING:
    from litestar.openapi.spec import Operation

FIELD_TYPE = "erp_field_type"
NULLABLE = "erp_nullable"


def money(sign: str | None = None, *, description: str | None = None) -> DecimalNumber:
    """An amount of money (four decimals); ``sign`` is ``non_negative`` or ``positive``."""
    return DecimalNumber.with_sign(sign, precision=MONEY_PRECISION, scale=MONEY_SCALE,
                                   description=description)


def quantity(sign: str | None = None, *, description: str | None = None) -> DecimalNumber:
    """A quantity of goods (four decimals; its unit may allow fewer, see ``check_quantity``)."""
    return DecimalNumber.with_sign(sign, precision=QUANTITY_PRECISION, scale=QUANTITY_SCALE,
                                   description=description)


RATE_DESCRIPTION = "A fraction: 0.19 is 19 %."


def rate(minimum: Decimal | int = 0, maximum: Decimal | int = 1, *,
         description: str = RATE_DESCRIPTION) -> DecimalNumber:
    """A rate as a fraction between ``minimum`` and ``maximum`` (0.19 is 19 %)."""
    return DecimalNumber(precision=MONEY_PRECISION, scale=MONEY_SCALE, minimum=minimum,
                         maximum=maximum, description=description)


def identifier() -> Integer:
    """The id of a record: a positive integer an id column can hold."""
    return Integer(bits=32, minimum=1)


def text(max_length: int | None = None, choices: Sequence[str] | None = None) -> Text:
    """Text of at most ``max_length`` characters, one of ``choices`` when given."""
    return Text(max_length=max_length, choices=None if choices is None else tuple(choices))


def timestamp() -> DateTime:
    """An aware date-time, ISO 8601 with its UTC offset (``2026-01-31T12:00:00Z``)."""
    return DateTime()


def boolean() -> Boolean:
    """``true`` or ``false``."""
    return Boolean()


def typed_field(type_: FieldType, *, default: Any = attrs.NOTHING,
                nullable: bool = False) -> Any:
    """An attrs attribute whose values pass through ``type_``: a Python caller's value is
    checked by ``type_.check`` on construction, a JSON value by ``type_.from_json`` in
    ``decode``; ``nullable`` allows ``None``."""

    def convert(value: Any, field: attrs.Attribute[Any]) -> Any:
        if value is None and nullable:
            return None
        try:
            if value is None:
                raise FieldValueError("may not be null")
            return type_.check(value)
        except FieldValueError as exc:
            raise _invalid(exc, field.name) from None

    return attrs.field(default=default, converter=attrs.Converter(convert, takes_field=True),
                       metadata={FIELD_TYPE: type_, NULLABLE: nullable})


def check_value(name: str, type_: FieldType, value: Any, *, nullable: bool = False) -> Any:
    """``value`` checked and converted by ``type_``, for a service that takes plain
    arguments; a bad one is a ``ValidationError`` naming ``name`` and the rule."""
    if value is None and nullable:
        return None
    try:
        if value is None:
            raise FieldValueError("may not be null")
        return type_.check(value)
    except FieldValueError as exc:
        raise _invalid(exc, name) from None


def _invalid(exc: FieldValueError, name: str) -> ValidationError:
    errors = _errors(exc, name)
    summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
    return ValidationError(f"invalid input: {summary}", errors)


def _errors(exc: FieldValueError, name: str) -> dict[str, str]:
    """``exc`` as field path -> message; a value whose parts were wrong names only them."""
    if exc.errors:
        return {f"{name}{path}": message for path, message in exc.errors.items()}
    return {name: str(exc)}


def decode(cls: type, data: Any) -> Any:
    """An instance of the typed class ``cls`` from a decoded JSON object, every field
    through its field type; ``FieldValueError`` whose ``errors`` name every bad field."""
    if not isinstance(data, Mapping):
        raise FieldValueError("must be a JSON object")
    fields = attrs.fields(cls)
    known = {field.name for field in fields}
    errors = {f".{key}": "unknown field" for key in data if key not in known}
    values: dict[str, Any] = {}
    for field in fields:
        type_: FieldType | None = field.metadata.get(FIELD_TYPE)
        if field.name not in data:
            if field.default is attrs.NOTHING:
                errors[f".{field.name}"] = "is required"
            continue
        raw = data[field.name]
        if type_ is None:
            values[field.name] = raw
            continue
        try:
            if raw is None:
                if not field.metadata.get(NULLABLE):
                    raise FieldValueError("may not be null")
                values[field.name] = None
            else:
                values[field.name] = type_.from_json(raw)
        except FieldValueError as exc:
            errors.update({f".{k}": v for k, v in _errors(exc, field.name).items()})
    if errors:
        raise FieldValueError("has invalid fields", errors)
    try:
        return cls(**values)
    except ValidationError as exc:  # a rule of the class itself (its __attrs_post_init__)
        raise FieldValueError(exc.message, {f".{k}": v for k, v in exc.errors.items()}) from None


def schema_of(cls: type) -> dict[str, Any]:
    """The JSON Schema (OpenAPI 3.1) of a typed class, nested classes inlined."""
    properties: dict[str, Any] = {}
    required = []
    for field in attrs.fields(cls):
        type_: FieldType | None = field.metadata.get(FIELD_TYPE)
        schema = {} if type_ is None else type_.json_schema()
        if field.metadata.get(NULLABLE) and "type" in schema:
            schema["type"] = [schema["type"], "null"]
            if "enum" in schema:
                schema["enum"] = [*schema["enum"], None]
        properties[field.name] = schema
        if field.default is attrs.NOTHING:
            required.append(field.name)
    document: dict[str, Any] = {"type": "object", "additionalProperties": False,
                                "properties": properties}
    if required:
        document["required"] = required
    return document


def read_body(cls: type, body: bytes | str) -> Any:
    """A request body (JSON text) as an instance of the typed class ``cls``; anything
    else (not JSON, nested too deep, a bad field) is a ``ValidationError``."""
    data = parse_json(body)
    try:
        return decode(cls, data)
    except FieldValueError as exc:
        errors = {k.removeprefix("."): v for k, v in exc.errors.items()} or {"body": str(exc)}
        summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
        raise ValidationError(f"invalid request body: {summary}", errors) from None


def body_operation(cls: type, *, description: str | None = None) -> type[Operation]:
    """An ``operation_class`` for a route whose handler reads its body with
    ``read_body(cls, body)``: the OpenAPI document shows ``cls``'s schema as the JSON
    body (money as decimal strings with their pattern and bounds), so what a client or a
    fuzzer reads is what the handler checks. The web framework is imported here, when
    routes are built, not with the SDK."""
    from litestar.openapi.spec import Operation

    schema = schema_of(cls)
    if description:
        schema = {**schema, "description": description}

    class TypedBodyOperation(Operation):
        def to_schema(self) -> dict[str, Any]:
            document = super().to_schema()
            document["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": schema}}}
            return document

    return TypedBodyOperation


@attrs.frozen
class Nested(FieldType):
    """A JSON object read into the typed class ``cls``."""

    name: ClassVar[str] = "object"
    python_type: ClassVar[type] = object
    ordered: ClassVar[bool] = False

    cls: type

    def from_json(self, value: Any) -> Any:
        return decode(self.cls, value)

    def check(self, value: Any) -> Any:
        return value if isinstance(value, self.cls) else self.from_json(value)

    def to_json(self, value: Any) -> Any:
        return attrs.asdict(value)

    def json_schema(self) -> dict[str, Any]:
        return schema_of(self.cls)


@attrs.frozen
class ListOf(FieldType):
    """A JSON array, each item through ``item``; between ``min_items`` and ``max_items``."""

    name: ClassVar[str] = "array"
    python_type: ClassVar[type] = tuple
    ordered: ClassVar[bool] = False

    item: FieldType
    min_items: int = 0
    max_items: int | None = None

    def from_json(self, value: Any) -> tuple[Any, ...]:
        return self._each(value, self.item.from_json)

    def check(self, value: Any) -> tuple[Any, ...]:
        return self._each(value, self.item.check)

    def _each(self, value: Any, convert: Any) -> tuple[Any, ...]:
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
            raise FieldValueError("must be a list")
        if len(value) < self.min_items:
            raise FieldValueError(f"needs at least {self.min_items} item"
                                  f"{'s' if self.min_items != 1 else ''}")
        if self.max_items is not None and len(value) > self.max_items:
            raise FieldValueError(f"may have at most {self.max_items} items")
        items, errors = [], {}
        for number, raw in enumerate(value):
            try:
                items.append(convert(raw))
            except FieldValueError as exc:
                errors.update(_errors(exc, f"[{number}]"))
            except ValidationError as exc:  # an item's own converter, from Python
                errors.update({f"[{number}].{k}": v for k, v in exc.errors.items()})
        if errors:
            raise FieldValueError("has invalid items", errors)
        return tuple(items)

    def to_json(self, value: Any) -> Any:
        return [self.item.to_json(item) for item in value]

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": self.item.json_schema()}
        if self.min_items:
            schema["minItems"] = self.min_items
        if self.max_items is not None:
            schema["maxItems"] = self.max_items
        return schema
