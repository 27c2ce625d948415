"""Segments: saved filters over customers, their members, and what the members buy.

The same criteria answer ad-hoc searches (``GET /api/v1/crm/customers/search``) and
saved segments (``crm.segment``): tiers (any of), tags (all of), flagged, and, in one
currency, total spend between bounds and a last purchase after or before a time. Members
are active customers. Each page of members is one SQL query whatever its size: tags are
``EXISTS`` conditions and spend comes from the behaviour summary, joined once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_crm.behaviour import Behaviour
from erp_crm.customers import Customer
from erp_crm.purchases import Purchase, PurchaseCategory
from erp_crm.tags import CustomerTag, Tag
from erp_crm.tiers import CURRENCY
from erp_sdk import (
    Base,
    Context,
    Entity,
    Money,
    RecordMixin,
    UtcDateTime,
    ValidationError,
    WriteEvent,
    on_write,
)

MEMBERS_LIMIT, MEMBERS_MAX_LIMIT = 50, 500
TOP_CATEGORIES = 5


class Segment(RecordMixin, Base):
    __tablename__ = "crm_segment"

    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    tiers: Mapped[list[str]] = mapped_column(sa.JSON, default=lambda: [])
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=lambda: [])
    flagged: Mapped[bool | None]
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    min_spend: Mapped[Money | None]
    max_spend: Mapped[Money | None]
    last_purchase_after: Mapped[UtcDateTime | None]
    last_purchase_before: Mapped[UtcDateTime | None]


SEGMENT = Entity(
    "segment", Segment, filterable=["name"], sortable=["name"],
    description="A saved filter over active customers: tiers (any of), tags (all of),"
                " flagged, and in `currency` a total spend between min_spend and max_spend"
                " and a last purchase after/before a time. Its members:"
                " GET /api/v1/crm/segments/{id}/members.",
)


@attrs.frozen
class CustomerCriteria:
    """What a customer must match to be a member (an empty criteria matches everyone)."""

    tiers: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    tags: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    flagged: bool | None = None
    currency: str | None = None
    min_spend: Decimal | None = None
    max_spend: Decimal | None = None
    last_purchase_after: dt.datetime | None = None
    last_purchase_before: dt.datetime | None = None

    @property
    def uses_purchases(self) -> bool:
        return any(value is not None for value in (
            self.min_spend, self.max_spend, self.last_purchase_after, self.last_purchase_before))

    def problems(self) -> dict[str, str]:
        errors = {}
        for field in ("tiers", "tags"):
            if any(not isinstance(v, str) or not v for v in getattr(self, field)):
                errors[field] = "must be a list of names"
        if self.currency is not None and not CURRENCY.match(self.currency):
            errors["currency"] = "must be an ISO 4217 code such as EUR"
        elif self.currency is None and self.uses_purchases:
            errors["currency"] = "is required with spend or last-purchase criteria"
        if (self.min_spend is not None and self.max_spend is not None
                and self.min_spend > self.max_spend):
            errors["max_spend"] = "is below min_spend"
        return errors

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        """Conditions on ``crm_customer`` and, for purchase criteria, on the summary row in
        ``currency`` (outer-joined by ``members_statement``)."""
        found: list[sa.ColumnElement[bool]] = [Customer.active.is_(True)]
        if self.tiers:
            found.append(Customer.tier.in_(self.tiers))
        for name in self.tags:
            found.append(sa.select(CustomerTag.id).join(Tag, Tag.id == CustomerTag.tag_id)
                         .where(CustomerTag.customer_id == Customer.id, Tag.name == name)
                         .exists())
        if self.flagged is not None:
            found.append(Customer.flagged.is_(self.flagged))
        spend = sa.func.coalesce(Behaviour.total_spend,
                                 sa.literal(Decimal(0), Behaviour.total_spend.type))
        if self.min_spend is not None:
            found.append(spend >= self.min_spend)
        if self.max_spend is not None:
            found.append(spend <= self.max_spend)
        if self.last_purchase_after is not None:
            found.append(Behaviour.last_purchase_at >= self.last_purchase_after)
        if self.last_purchase_before is not None:
            found.append(Behaviour.last_purchase_at < self.last_purchase_before)
        return found

    def members_statement(self, *columns: Any) -> sa.Select[Any]:
        """SELECT ``columns`` (default: the customer's) of every member."""
        statement = sa.select(*(columns or Customer.__table__.c)).select_from(Customer)
        if self.uses_purchases:
            statement = statement.outerjoin(Behaviour, sa.and_(
                Behaviour.customer_id == Customer.id, Behaviour.currency == self.currency))
        return statement.where(*self.conditions())


def _stored_criteria(ctx: Context, segment_id: int) -> dict[str, Any]:
    columns = [Segment.__table__.c[field.name] for field in attrs.fields(CustomerCriteria)]
    return dict(ctx.session.execute(
        sa.select(*columns).where(Segment.id == segment_id)).mappings().one())


@on_write("crm.segment", actions=("create", "update"), when="before")
def check_segment(ctx: Context, event: WriteEvent) -> None:
    """A segment's criteria must make sense together, and its tags must exist."""
    stored = {} if event.record_id is None else _stored_criteria(ctx, event.record_id)
    merged = {field.name: event.changes.get(field.name, stored.get(field.name))
              for field in attrs.fields(CustomerCriteria)}
    for field in ("tiers", "tags"):
        if merged[field] is None:
            merged[field] = ()
        elif not isinstance(merged[field], list | tuple):
            raise ValidationError(f"invalid crm.segment: {field}: must be a list of names",
                                  {field: "must be a list of names"})
    criteria = CustomerCriteria(**merged)
    errors = criteria.problems()
    if not errors and criteria.tags:
        known = set(ctx.session.scalars(sa.select(Tag.name).where(Tag.name.in_(criteria.tags))))
        unknown = [name for name in criteria.tags if name not in known]
        if unknown:
            errors["tags"] = f"no tag named {', '.join(unknown)}"
    if errors:
        summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
        raise ValidationError(f"invalid crm.segment: {summary}", errors)


def _page(ctx: Context, criteria: CustomerCriteria, limit: int, cursor: str | None
          ) -> dict[str, Any]:
    ctx.principal.require("crm.customer.read")
    if not 1 <= limit <= MEMBERS_MAX_LIMIT:
        raise ValidationError(f"query parameter 'limit': must be between 1 and"
                              f" {MEMBERS_MAX_LIMIT}", {"limit": "out of range"})
    statement = criteria.members_statement()
    if cursor is not None:
        if not cursor.isdigit():
            raise ValidationError("query parameter 'cursor': is malformed; pass back the"
                                  " next_cursor of the previous page unchanged",
                                  {"cursor": "malformed"})
        statement = statement.where(Customer.id > int(cursor))
    rows = ctx.session.execute(statement.order_by(Customer.id).limit(limit + 1)).mappings().all()
    customers = ctx.records("crm.customer")
    more = len(rows) > limit
    return {"items": [customers.to_json(row) for row in rows[:limit]],
            "next_cursor": str(rows[limit - 1]["id"]) if more else None}


def _segment(ctx: Context, segment_id: int) -> CustomerCriteria:
    ctx.records("crm.segment").get(segment_id)  # read permission; 404 for an unknown one
    return CustomerCriteria(**_stored_criteria(ctx, segment_id))


def segment_members(ctx: Context, segment_id: int, *, limit: int = MEMBERS_LIMIT,
                    cursor: str | None = None) -> dict[str, Any]:
    """One page of a segment's members (customers in the API's representation), by id."""
    return _page(ctx, _segment(ctx, segment_id), limit, cursor)


def search_customers(ctx: Context, criteria: CustomerCriteria, *, limit: int = MEMBERS_LIMIT,
                     cursor: str | None = None) -> dict[str, Any]:
    """One page of the active customers matching ad-hoc criteria, by id."""
    errors = criteria.problems()
    if errors:
        summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
        raise ValidationError(f"invalid search: {summary}", errors)
    return _page(ctx, criteria, limit, cursor)


def segment_behaviour(ctx: Context, segment_id: int) -> dict[str, Any]:
    """What a segment buys: members, buyers, purchases and spend per currency, and the
    categories its members buy most. Four queries whatever the segment's size."""
    criteria = _segment(ctx, segment_id)
    ctx.principal.require("crm.behaviour.read")
    members = criteria.members_statement(Customer.id).subquery()
    member_count = ctx.session.scalar(sa.select(sa.func.count()).select_from(members))
    spend = ctx.session.execute(
        sa.select(Behaviour.currency, sa.func.count(), sa.func.sum(Behaviour.purchase_count),
                  sa.func.sum(Behaviour.total_spend))
        .where(Behaviour.customer_id.in_(sa.select(members.c.id)))
        .group_by(Behaviour.currency).order_by(Behaviour.currency)).all()
    categories = ctx.session.execute(
        sa.select(PurchaseCategory.category, sa.func.count().label("purchases"))
        .join(Purchase, Purchase.id == PurchaseCategory.purchase_id)
        .where(Purchase.customer_id.in_(sa.select(members.c.id)),
               Purchase.cancelled_at.is_(None))
        .group_by(PurchaseCategory.category)
        .order_by(sa.desc("purchases"), PurchaseCategory.category).limit(TOP_CATEGORIES)).all()
    return {
        "segment_id": segment_id,
        "members": member_count,
        "spend": [{"currency": currency, "buyers": buyers, "purchases": purchases,
                   "total_spend": str(total),
                   "average_purchase": str((total / purchases).quantize(Decimal("0.0001")))}
                  for currency, buyers, purchases, total in spend],
        "top_categories": [{"category": c, "purchases": n} for c, n in categories],
    }


def parse_search(params: Sequence[tuple[str, str]]) -> tuple[CustomerCriteria, int, str | None]:
    """Criteria, limit and cursor from query parameters (``tag`` and ``tier`` repeat or take
    comma-separated lists)."""
    lists: dict[str, list[str]] = {"tag": [], "tier": []}
    singles: dict[str, str] = {}
    allowed = {"flagged", "currency", "min_spend", "max_spend", "last_purchase_after",
               "last_purchase_before", "limit", "cursor"}
    for key, value in params:
        if key in lists:
            lists[key].extend(v for v in value.split(",") if v)
        elif key in allowed:
            singles[key] = value
        else:
            raise ValidationError(f"query parameter {key!r}: unknown (use tag, tier,"
                                  f" {', '.join(sorted(allowed))})", {key: "unknown"})
    errors: dict[str, str] = {}

    def parsed(key: str, convert: Any) -> Any:
        if key not in singles:
            return None
        try:
            return convert(singles[key])
        except (ValueError, InvalidOperation) as exc:
            errors[key] = str(exc) or "malformed"
            return None

    criteria = CustomerCriteria(
        tiers=lists["tier"], tags=lists["tag"],
        flagged=parsed("flagged", _boolean), currency=singles.get("currency"),
        min_spend=parsed("min_spend", _decimal), max_spend=parsed("max_spend", _decimal),
        last_purchase_after=parsed("last_purchase_after", _aware),
        last_purchase_before=parsed("last_purchase_before", _aware))
    limit = parsed("limit", int)
    if errors:
        summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
        raise ValidationError(f"invalid search: {summary}", errors)
    return criteria, MEMBERS_LIMIT if limit is None else limit, singles.get("cursor")


def _boolean(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(f"{text!r} is not true or false")
    return text.lower() == "true"


def _decimal(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _aware(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset; add Z or +HH:MM")
    return value
