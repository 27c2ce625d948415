"""Tags: short labels ("vip", "wholesale") put on customers, for finding and segmenting them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_crm.customers import require_unmerged
from erp_sdk import Base, Context, Entity, RecordMixin, WriteEvent, on_write


class Tag(RecordMixin, Base):
    __tablename__ = "crm_tag"

    name: Mapped[str] = mapped_column(sa.String(40), unique=True)
    description: Mapped[str | None] = mapped_column(sa.String(200))


class CustomerTag(RecordMixin, Base):
    __tablename__ = "crm_customer_tag"
    __table_args__ = (sa.UniqueConstraint("customer_id", "tag_id"),)

    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_customer.id", ondelete="CASCADE"), index=True)
    tag_id: Mapped[int] = mapped_column(sa.ForeignKey("crm_tag.id", ondelete="CASCADE"),
                                        index=True)


TAG = Entity("tag", Tag, filterable=["name"], sortable=["name"],
             description="A label for customers; deleting it untags every customer.")

CUSTOMER_TAG = Entity(
    "customer_tag", CustomerTag,
    filterable=["customer_id", "tag_id"],
    operations={"list", "get", "create", "delete"},
    description="One tag on one customer. List customers by tag name with"
                " GET /api/v1/crm/customers/search?tag=NAME.",
)


@on_write("crm.customer_tag", actions=("create",), when="before")
def check_tagging(ctx: Context, event: WriteEvent) -> None:
    """Merged customers get no new tags (their tags moved to the customer that stayed)."""
    require_unmerged(ctx.session, event.changes["customer_id"])
