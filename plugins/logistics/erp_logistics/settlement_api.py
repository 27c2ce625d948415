"""Settlement and analytics routes, under ``/api/v1/logistics``: importing carrier
invoices (CSV or through the driver) and the analytics."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
from litestar import Response, get, post
from litestar.params import FromQuery, RawBody

from erp_logistics.accounts import load_account, open_carrier
from erp_logistics.analytics import shipment_analytics
from erp_logistics.settlement import import_invoices, read_invoice_csv
from erp_sdk import (
    KernelDependency,
    PrincipalDependency,
    ValidationError,
    body_operation,
    identifier,
    money,
    read_body,
    text,
    typed_field,
)
from erp_sdk.drivers import CarrierInvoices


@attrs.frozen
class InvoiceImport:
    """A carrier invoice file (the CSV format of ``erp_logistics.settlement``) for an
    account; a line whose billed amount differs from the quote by more than
    ``tolerance`` is flagged."""

    carrier_account_id: int = typed_field(identifier())
    csv: str = typed_field(text(2_000_000))
    tolerance: Decimal = typed_field(money("non_negative"), default=Decimal("0.50"))


@attrs.frozen
class InvoiceFetch:
    """Fetch an account's invoices issued since a date through its driver."""

    carrier_account_id: int = typed_field(identifier())
    since: str = typed_field(text(10))
    tolerance: Decimal = typed_field(money("non_negative"), default=Decimal("0.50"))


@post("/carrier-invoices/import", sync_to_thread=True,
      opt={"permission": "logistics.carrier_invoice.import"},
      operation_class=body_operation(InvoiceImport),
      summary="Import carrier invoices from CSV and match them line by line")
def import_csv(body: RawBody, kernel: KernelDependency,
               principal: PrincipalDependency) -> Response[dict[str, Any]]:
    data = read_body(InvoiceImport, body)
    invoices = read_invoice_csv(data.csv)
    with kernel.context(principal) as ctx:
        created = import_invoices(ctx, data.carrier_account_id, invoices, data.tolerance)
    return Response({"items": created}, status_code=201)


@post("/carrier-invoices/fetch", sync_to_thread=True,
      opt={"permission": "logistics.carrier_invoice.import"},
      operation_class=body_operation(InvoiceFetch),
      summary="Fetch an account's invoices through its driver and match them")
def fetch_from_carrier(body: RawBody, kernel: KernelDependency,
                       principal: PrincipalDependency) -> Response[dict[str, Any]]:
    data = read_body(InvoiceFetch, body)
    try:
        since = dt.date.fromisoformat(data.since)
    except ValueError:
        raise ValidationError("since must be a date (YYYY-MM-DD)",
                              {"since": "not a date"}) from None
    with kernel.context(principal) as ctx:
        ctx.principal.require("logistics.carrier_invoice.import")
        account = load_account(ctx.session, data.carrier_account_id)
    carrier = open_carrier(kernel, account)
    if not isinstance(carrier, CarrierInvoices):
        raise ValidationError(f"the {account.driver} driver does not list invoices: import"
                              " them as CSV", {"carrier_account_id": "driver lists no invoices"})
    invoices = carrier.fetch_invoices(since)
    with kernel.context(principal) as ctx:
        created = import_invoices(ctx, account.id, invoices, data.tolerance)
    return Response({"items": created}, status_code=201)


@get("/analytics", sync_to_thread=True, opt={"permission": "logistics.analytics.read"},
     summary="Transit time, cost per shipment and per kg, on-time and exception rates,"
             " per carrier, service, country or month")
def analytics(kernel: KernelDependency, principal: PrincipalDependency,
              group_by: FromQuery[str] = "carrier") -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        return {"group_by": group_by, "items": shipment_analytics(ctx, group_by)}


ROUTES = [import_csv, fetch_from_carrier, analytics]
