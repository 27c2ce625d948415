"""Contacts: the people to talk to at a company customer."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_crm.customers import Customer, CustomerKind, require_unmerged
from erp_sdk import Base, Context, Entity, RecordMixin, ValidationError, WriteEvent, on_write


class Contact(RecordMixin, Base):
    __tablename__ = "crm_contact"

    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_customer.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    job_title: Mapped[str | None] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    notes: Mapped[str | None] = mapped_column(sa.Text)


CONTACT = Entity(
    "contact", Contact,
    filterable=["customer_id", "name", "email"],
    sortable=["name"],
    description="A person at a company customer (buyer, accountant, warehouse manager).",
)


@on_write("crm.contact", actions=("create", "update"), when="before")
def check_contact_write(ctx: Context, event: WriteEvent) -> None:
    """Contacts belong to company customers that were not merged away."""
    if "customer_id" not in event.changes:
        return
    customer_id = event.changes["customer_id"]
    require_unmerged(ctx.session, customer_id)
    kind = ctx.session.scalar(sa.select(Customer.kind).where(Customer.id == customer_id))
    if kind != CustomerKind.COMPANY:
        raise ValidationError(
            f"invalid crm.contact: customer_id: customer {customer_id} is a {kind}; contacts"
            " are people at a company customer", {"customer_id": "must be a company"})
