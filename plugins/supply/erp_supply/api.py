"""Supply over HTTP beyond the generic entity routes: a supplier's confirmation,
receiving, backorders, bill matching, replenishment and its explanations, ratings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from litestar import get, post
from litestar.params import FromPath, RawBody

from erp_sdk import (
    FIELD_TYPES,
    KernelDependency,
    ListOf,
    Nested,
    NotFoundError,
    PrincipalDependency,
    body_operation,
    boolean,
    identifier,
    quantity,
    read_body,
    typed_field,
)
from erp_supply.bills import match_bill
from erp_supply.purchase_orders import confirm_with_changes, split_backorder
from erp_supply.rating import supplier_rating
from erp_supply.receipts import ReceiveLine, receive_order
from erp_supply.replenishment import Suggestion, replenish

DATE = FIELD_TYPES.for_column(sa.Column("day", sa.Date()))


@attrs.frozen
class LineChange:
    """The supplier's terms for one line: another quantity, another date, or both."""

    line_id: int = typed_field(identifier())
    quantity: Decimal | None = typed_field(quantity("positive"), default=None, nullable=True)
    expected_date: dt.date | None = typed_field(DATE, default=None, nullable=True)


@attrs.frozen
class SupplierConfirmation:
    """Confirm a purchase order, perhaps changing lines and the order's expected date."""

    lines: tuple[LineChange, ...] = typed_field(ListOf(Nested(LineChange)), default=())
    expected_date: dt.date | None = typed_field(DATE, default=None, nullable=True)


@attrs.frozen
class ReceiveRequest:
    """Goods received: per line, accepted and rejected units; or a shipping notice's lines.
    ``split_backorder`` moves what is still due to a new order."""

    lines: tuple[ReceiveLine, ...] = typed_field(ListOf(Nested(ReceiveLine)), default=())
    notice_id: int | None = typed_field(identifier(), default=None, nullable=True)
    received_on: dt.date | None = typed_field(DATE, default=None, nullable=True)
    split_backorder: bool = typed_field(boolean(), default=False)


@attrs.frozen
class ReplenishRequest:
    """Which rules to run (all by default) and whether to propose purchase orders."""

    product_ids: tuple[int, ...] | None = typed_field(ListOf(identifier()), default=None,
                                                      nullable=True)
    warehouse_id: int | None = typed_field(identifier(), default=None, nullable=True)
    create_orders: bool = typed_field(boolean(), default=True)


@post("/purchase-orders/{order_id:int}/supplier-confirmation", sync_to_thread=True,
      status_code=200, operation_class=body_operation(SupplierConfirmation),
      opt={"permission": "supply.purchase_order.confirm"},
      summary="Confirm a purchase order, with the supplier's dates and quantities")
def confirm_purchase_order(order_id: FromPath[int], body: RawBody, kernel: KernelDependency,
                           principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(SupplierConfirmation, body)
    changes = [attrs.asdict(change) for change in data.lines]
    with kernel.context(principal) as ctx:
        return confirm_with_changes(ctx, order_id, changes, data.expected_date)


@post("/purchase-orders/{order_id:int}/receive", sync_to_thread=True, status_code=201,
      operation_class=body_operation(ReceiveRequest),
      opt={"permission": "supply.purchase_order.receive"},
      summary="Receive goods of a confirmed purchase order into stock")
def receive_purchase_order(order_id: FromPath[int], body: RawBody, kernel: KernelDependency,
                           principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(ReceiveRequest, body)
    with kernel.context(principal) as ctx:
        return receive_order(ctx, order_id, list(data.lines), notice_id=data.notice_id,
                             received_on=data.received_on, split=data.split_backorder)


@post("/purchase-orders/{order_id:int}/backorder", sync_to_thread=True, status_code=201,
      opt={"permission": "supply.purchase_order.close"},
      summary="Move what is still due to a new order and close this one")
def split_purchase_order(order_id: FromPath[int], kernel: KernelDependency,
                         principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        return split_backorder(ctx, order_id)


@post("/bills/{bill_id:int}/match", sync_to_thread=True, status_code=200,
      opt={"permission": "supply.bill.match"},
      summary="Match a draft bill three ways: approved, or held with its reasons")
def match_supplier_bill(bill_id: FromPath[int], kernel: KernelDependency,
                        principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        return match_bill(ctx, bill_id)


@post("/replenish", sync_to_thread=True, status_code=200,
      operation_class=body_operation(ReplenishRequest),
      opt={"permission": "supply.replenishment.run"},
      summary="Compute replenishment suggestions and propose draft purchase orders")
def run_replenishment(body: RawBody, kernel: KernelDependency,
                      principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(ReplenishRequest, body)
    with kernel.context(principal) as ctx:
        return replenish(ctx, product_ids=data.product_ids, warehouse_id=data.warehouse_id,
                         create_orders=data.create_orders).as_json()


@get("/suggestions/{suggestion_id:int}/explanation", sync_to_thread=True,
     opt={"permission": "supply.suggestion.read"},
     summary="Why a suggestion orders what it orders, from whom")
def explain_suggestion(suggestion_id: FromPath[int], kernel: KernelDependency,
                       principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        suggestion = ctx.records("supply.suggestion").get(suggestion_id)
        explanation = ctx.session.scalar(sa.select(Suggestion.explanation).where(
            Suggestion.id == suggestion_id))
    if explanation is None:
        raise NotFoundError(f"supply.suggestion {suggestion_id} does not exist")
    return {"suggestion": suggestion, **explanation}


@get("/suppliers/{supplier_id:int}/rating", sync_to_thread=True,
     opt={"permission": "supply.supplier.read"},
     summary="The supplier's rating per month with activity")
def rate_supplier(supplier_id: FromPath[int], kernel: KernelDependency,
                  principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        return {"supplier_id": supplier_id, "periods": supplier_rating(ctx, supplier_id)}


ROUTES = [confirm_purchase_order, receive_purchase_order, split_purchase_order,
          match_supplier_bill, run_replenishment, explain_suggestion, rate_supplier]
