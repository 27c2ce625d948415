"""Customers: the people and companies a seller sells to.

A customer's e-mail is unique among customers whatever its case: the database keeps a
lower-cased copy in a generated column under a unique constraint, so no write path (the
API, a merge, a bulk import) can create a duplicate; the write guard below only turns a
clash into a message that names the other customer. A merged customer (``merged_into_id``
set) stays for its history and no longer changes.
"""

from __future__ import annotations

import enum
import re

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_crm.exceptions import CustomerMerged
from erp_sdk import (
    Base,
    ConflictError,
    Context,
    Entity,
    NotFoundError,
    RecordMixin,
    ValidationError,
    WriteEvent,
    on_write,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class CustomerKind(enum.StrEnum):
    PERSON = "person"
    COMPANY = "company"


class Customer(RecordMixin, Base):
    __tablename__ = "crm_customer"

    kind: Mapped[str] = mapped_column(
        sa.Enum(*(kind.value for kind in CustomerKind), native_enum=False, length=20),
        default=CustomerKind.PERSON)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    email_key: Mapped[str | None] = mapped_column(
        sa.String(254), sa.Computed("lower(email)", persisted=True), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    flagged: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    tier: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("crm_customer.id"))
    # The addresses reference their customer too: use_alter breaks the cycle for DDL.
    default_shipping_address_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("crm_address.id", ondelete="SET NULL", use_alter=True))
    default_billing_address_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("crm_address.id", ondelete="SET NULL", use_alter=True))


CUSTOMER = Entity(
    "customer", Customer,
    filterable=["kind", "name", "email", "phone", "flagged", "active", "tier",
                "merged_into_id"],
    sortable=["name", "created_at", "updated_at"],
    read_only=["tier", "merged_into_id"],
    hidden=["email_key"],
    operations={"list", "get", "create", "update"},
    description="A person or company the seller sells to. Customers are never deleted:"
                " deactivate them, or merge a duplicate into the customer that stays.",
)

DEFAULT_ADDRESS_FIELDS = ("default_shipping_address_id", "default_billing_address_id")


def customer_row(session: Session, customer_id: int, *, lock: bool = False) -> Customer:
    """The customer, or ``NotFoundError``; ``lock`` holds its row until the transaction ends
    (purchases and merges of one customer then run one after the other)."""
    statement = (sa.select(Customer).where(Customer.id == customer_id)
                 .execution_options(populate_existing=True))
    if lock:
        statement = statement.with_for_update(key_share=True)
    customer = session.scalars(statement).first()
    if customer is None:
        raise NotFoundError(f"crm.customer {customer_id} does not exist")
    return customer


def require_unmerged(session: Session, customer_id: int) -> None:
    """Refuse to attach anything new to a customer that was merged into another."""
    merged_into = session.scalar(
        sa.select(Customer.merged_into_id).where(Customer.id == customer_id))
    if merged_into is not None:
        raise CustomerMerged(customer_id, merged_into)


def _check_email(session: Session, email: str | None, customer_id: int | None) -> None:
    if email is None:
        return
    if not _EMAIL.match(email):
        raise ValidationError(f"invalid crm.customer: email: {email!r} is not an e-mail address",
                              {"email": "is not an e-mail address"})
    clash = sa.select(Customer.id).where(Customer.email_key == email.lower())
    if customer_id is not None:
        clash = clash.where(Customer.id != customer_id)
    other = session.scalar(clash)
    if other is not None:
        raise ConflictError(f"customer {other} already has the e-mail {email}; merge the two"
                            " customers if they are the same")


@on_write("crm.customer", actions=("create", "update"), when="before")
def check_customer_write(ctx: Context, event: WriteEvent) -> None:
    """Merged customers do not change; e-mails stay unique (that defaults are the customer's
    own addresses is checked by ``erp_crm.addresses``, after this)."""
    if event.before is not None and event.before["merged_into_id"] is not None:
        raise CustomerMerged(event.record_id, event.before["merged_into_id"])
    if "email" in event.changes:
        _check_email(ctx.session, event.changes["email"], event.record_id)
