"""Addresses of customers, and which one is the default for shipping and for billing.

The defaults are two references on the customer (``default_shipping_address_id``,
``default_billing_address_id``), so "exactly one default of each kind" holds by
construction rather than by keeping flags on several rows in step. The rules around
them live here: a customer's first address becomes both defaults, deleting a default
address promotes the customer's oldest remaining one, and a default is always one of the
customer's own addresses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_crm.customers import DEFAULT_ADDRESS_FIELDS, Customer, require_unmerged
from erp_sdk import (
    Base,
    Context,
    Entity,
    Principal,
    RecordMixin,
    ValidationError,
    WriteEvent,
    on_write,
)

_COUNTRY = re.compile(r"^[A-Z]{2}$")


class Address(RecordMixin, Base):
    __tablename__ = "crm_address"

    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_customer.id", ondelete="CASCADE"), index=True)
    label: Mapped[str | None] = mapped_column(sa.String(40))
    recipient: Mapped[str | None] = mapped_column(sa.String(200))
    line1: Mapped[str] = mapped_column(sa.String(200))
    line2: Mapped[str | None] = mapped_column(sa.String(200))
    city: Mapped[str] = mapped_column(sa.String(100))
    postal_code: Mapped[str | None] = mapped_column(sa.String(20))
    region: Mapped[str | None] = mapped_column(sa.String(100))
    country: Mapped[str] = mapped_column(sa.String(2))


ADDRESS = Entity(
    "address", Address,
    filterable=["customer_id", "city", "postal_code", "country"],
    sortable=["city", "created_at"],
    description="A postal address of a customer; the customer's default_shipping_address_id"
                " and default_billing_address_id say which ones are the defaults.",
)


@on_write("crm.address", actions=("create", "update"), when="before")
def check_address_write(ctx: Context, event: WriteEvent) -> None:
    """Countries are ISO 3166-1 alpha-2 codes; an address never moves to another customer."""
    changes = event.changes
    if "country" in changes and not _COUNTRY.match(changes["country"]):
        raise ValidationError(
            f"invalid crm.address: country: {changes['country']!r} is not an ISO 3166-1"
            " alpha-2 code such as DE or US", {"country": "must be two upper-case letters"})
    if event.before is None:
        require_unmerged(ctx.session, changes["customer_id"])
    elif changes.get("customer_id", event.before["customer_id"]) != event.before["customer_id"]:
        raise ValidationError("invalid crm.address: customer_id: an address stays with its"
                              " customer; create a new one for the other customer",
                              {"customer_id": "cannot change"})


@on_write("crm.address", actions=("create", "delete"), when="after")
def keep_default_addresses(ctx: Context, event: WriteEvent) -> None:
    record = event.after if event.after is not None else event.before
    ensure_default_addresses(ctx, record["customer_id"])


def ensure_default_addresses(ctx: Context, customer_id: int) -> None:
    """Give the customer a default of each kind while it has addresses: its oldest one.

    The change goes through the customer's entity service (audit row, event, new
    version) on behalf of the acting principal, who may manage addresses without being
    allowed to edit customers.
    """
    session = ctx.session
    missing = session.execute(
        sa.select(*(getattr(Customer, f) for f in DEFAULT_ADDRESS_FIELDS))
        .where(Customer.id == customer_id)).one()
    if all(value is not None for value in missing):
        return
    oldest = session.scalar(sa.select(Address.id).where(Address.customer_id == customer_id)
                            .order_by(Address.id).limit(1))
    if oldest is None:
        return
    changes = {field: oldest for field, value in zip(DEFAULT_ADDRESS_FIELDS, missing, strict=True)
               if value is None}
    acting = ctx.as_principal(Principal.system(ctx.principal.name))
    acting.records("crm.customer").update(customer_id, changes)


def _check_default_addresses(session: Session, customer_id: int | None,
                             changes: Mapping[str, Any]) -> None:
    for field in DEFAULT_ADDRESS_FIELDS:
        if field not in changes:
            continue
        address_id = changes[field]
        if address_id is None:
            if customer_id is not None and session.scalar(
                    sa.select(Address.id).where(Address.customer_id == customer_id).limit(1)):
                raise ValidationError(
                    f"invalid crm.customer: {field}: a customer with addresses keeps a default"
                    " one; choose another of its addresses instead",
                    {field: "may not be cleared while the customer has addresses"})
            continue
        owner = session.scalar(sa.select(Address.customer_id).where(Address.id == address_id))
        if owner != customer_id:
            raise ValidationError(
                f"invalid crm.customer: {field}: address {address_id} belongs to another"
                " customer", {field: "must be one of this customer's addresses"})


@on_write("crm.customer", actions=("create", "update"), when="before", priority=600)
def defaults_are_own_addresses(ctx: Context, event: WriteEvent) -> None:
    """A customer's default addresses are its own (after ``check_customer_write``, which
    refuses any change of a merged customer first)."""
    _check_default_addresses(ctx.session, event.record_id, event.changes)
