"""The kernel's field types: one class per kind of value, registered in one place."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from erp_core.db.types import ExactNumeric
from erp_core.entities.field_types import (
    FIELD_TYPES,
    DecimalNumber,
    FieldType,
    FieldValueError,
    Integer,
)
from erp_core.entities.fields import field_from_column
from erp_core.entities.typed import (
    ListOf,
    Nested,
    identifier,
    money,
    rate,
    read_body,
    schema_of,
    typed_field,
)
from erp_core.entities.units import check_quantity
from erp_core.errors import ValidationError

PRICE = money("non_negative")


@pytest.mark.parametrize("text", ["NaN", "-NaN", "sNaN", "Infinity", "-inf", "1e400",
                                  "1e-999999999", "123456789012345678901234567890",
                                  "0.00000000000000000000000001", "12.34567", "abc", ""])
def test_a_decimal_refuses_what_no_column_can_hold_without_an_error_of_its_own(text):
    with pytest.raises(FieldValueError):
        PRICE.from_json(text)


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_any_decimal_is_either_stored_exactly_or_refused_with_a_message(value):
    try:
        checked = PRICE.check(value)
    except FieldValueError as exc:
        assert str(exc)
    else:
        assert checked == value and checked >= 0
        assert checked == checked.quantize(Decimal("0.0001"))
        assert abs(checked) < Decimal(10) ** 14


@given(st.integers())
def test_an_integer_is_within_its_range_or_refused(value):
    try:
        assert 1 <= identifier().from_json(value) <= 2 ** 31 - 1
    except FieldValueError as exc:
        assert "out of range" in str(exc)


@pytest.mark.parametrize(("type_", "value", "words"), [
    (money("positive"), "0", "must be positive"),
    (money("non_negative"), "-0.01", "may not be negative"),
    (rate(), "1.01", "may not be more than 1"),
    (rate(), "-0.01", "may not be negative"),
])
def test_sign_rules_and_bounds_name_the_rule(type_, value, words):
    with pytest.raises(FieldValueError, match=words):
        type_.from_json(value)


def test_more_decimals_than_the_scale_is_refused_never_rounded():
    with pytest.raises(FieldValueError, match="more than 4 decimal places"):
        PRICE.from_json("0.00001")
    assert PRICE.from_json("1.2300") == Decimal("1.23")


def test_a_column_declares_its_sign_and_bounds_in_info():
    column = sa.Column("price", ExactNumeric(18, 4), info={"sign": "non_negative"})
    type_ = FIELD_TYPES.for_column(column)
    assert type_ == DecimalNumber(18, 4, minimum=Decimal(0))
    assert type_.json_schema()["pattern"] == r"^\d{1,14}(\.\d{1,4})?$"
    small = FIELD_TYPES.for_column(sa.Column("n", sa.SmallInteger()))
    assert small == Integer(bits=16)


def test_units_say_how_many_decimals_a_quantity_may_have():
    assert check_quantity(Decimal("2"), "pcs") == 2
    assert check_quantity(Decimal("1.500"), "kg") == Decimal("1.5")
    with pytest.raises(FieldValueError, match="whole units"):
        check_quantity(Decimal("1.5"), "pcs")
    with pytest.raises(FieldValueError, match="at most 3 decimal places"):
        check_quantity(Decimal("1.0001"), "kg")


@attrs.frozen
class Line:
    product_id: int = typed_field(identifier())
    unit_price: Decimal = typed_field(PRICE)


@attrs.frozen
class Basket:
    lines: tuple[Line, ...] = typed_field(ListOf(Nested(Line), min_items=1))
    note: str | None = typed_field(money(), default=None, nullable=True)


def test_a_typed_body_names_every_bad_field_by_its_path():
    with pytest.raises(ValidationError) as raised:
        read_body(Basket, b'{"lines": [{"product_id": 1, "unit_price": "1"},'
                          b' {"product_id": 4611686018427387904, "unit_price": "NaN"}],'
                          b' "extra": 1}')
    assert set(raised.value.errors) == {"lines[1].product_id", "lines[1].unit_price", "extra"}


def test_a_typed_body_refuses_deep_nesting_and_bad_json_as_validation_errors():
    with pytest.raises(ValidationError, match="not valid JSON"):
        read_body(Basket, b"[" * 100_000)
    with pytest.raises(ValidationError):
        read_body(Basket, b"{")


def test_a_typed_class_checks_values_from_python_too():
    with pytest.raises(ValidationError) as raised:
        Line(1, Decimal("-1"))
    assert raised.value.errors == {"unit_price": "may not be negative"}
    with pytest.raises(ValidationError, match="float"):
        Line(1, 1.5)  # type: ignore[arg-type]


def test_a_typed_class_is_documented_from_the_same_declaration():
    schema = schema_of(Basket)
    line = schema["properties"]["lines"]["items"]
    assert line["required"] == ["product_id", "unit_price"]
    assert line["properties"]["unit_price"]["minimum"] == 0
    assert line["properties"]["product_id"] == {"type": "integer", "minimum": 1,
                                                "maximum": 2 ** 31 - 1}


class Upper(sa.types.TypeDecorator[str]):
    """A test column type: upper-case codes."""

    impl = sa.String(8)
    cache_ok = True


@attrs.frozen
class UpperCode(FieldType):
    """Upper-case letters only: the whole of a new field type is this class."""

    name: ClassVar[str] = "string"
    python_type: ClassVar[type] = str
    searchable: ClassVar[bool] = True

    @classmethod
    def for_column(cls, column: sa.Column[Any]) -> UpperCode | None:
        return cls() if isinstance(column.type, Upper) else None

    def from_json(self, value: Any) -> str:
        if not isinstance(value, str) or not value.isalpha() or not value.isupper():
            raise FieldValueError("must be upper-case letters")
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^[A-Z]+$"}


@pytest.fixture
def upper_code():
    FIELD_TYPES.register(UpperCode)
    yield UpperCode
    FIELD_TYPES.unregister(UpperCode)


def test_a_new_field_type_is_one_registered_class(upper_code):
    column = sa.Column("code", Upper(), nullable=False)
    with pytest.raises(TypeError, match="cannot carry"):
        FIELD_TYPES.unregister(upper_code)
        try:
            field_from_column(column, owner="test", writable=True)
        finally:
            FIELD_TYPES.register(upper_code)
    field = field_from_column(column, owner="test", writable=True, filterable=True)
    assert field.from_json("ABC") == "ABC" and field.from_text("XY") == "XY"
    with pytest.raises(FieldValueError, match="upper-case"):
        field.from_json("abc")
    assert field.json_schema() == {"type": "string", "pattern": "^[A-Z]+$"}


def test_a_json_field_declared_optional_takes_the_shape_of_its_value():
    from erp_core.entities.field_types import FieldValueError, Json
    from erp_orders.order import Order  # coupon_codes: Mapped[list[str] | None]

    codes = Json.for_column(Order.__table__.c.coupon_codes)
    assert codes.shape == "list_of_text"
    assert codes.from_json(["A", "B"]) == ["A", "B"]
    for wrong in ("not a list", [1, 2]):
        with pytest.raises(FieldValueError):
            codes.from_json(wrong)
