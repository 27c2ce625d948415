"""Interactions: calls, messages, tickets and notes with a customer, and their timeline.

An interaction is logged on a customer (``POST /api/v1/crm/customers/{id}/interactions``
or ``log_interaction``) and its author is whoever logged it: the generic create route
is left out so that nobody can log in someone else's name, and an update cannot change
the author or move the interaction to another customer.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_crm.customers import require_unmerged
from erp_sdk import (
    Base,
    Context,
    Entity,
    Principal,
    RecordMixin,
    UtcDateTime,
    ValidationError,
    WriteEvent,
    on_write,
    utcnow,
)

TIMELINE_LIMIT, TIMELINE_MAX_LIMIT = 50, 200


class InteractionKind(enum.StrEnum):
    CALL = "call"
    MESSAGE = "message"
    TICKET = "ticket"
    NOTE = "note"


class Interaction(RecordMixin, Base):
    __tablename__ = "crm_interaction"
    __table_args__ = (sa.Index("ix_crm_interaction_timeline", "customer_id", "occurred_at", "id"),)

    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("crm_customer.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(
        sa.Enum(*(kind.value for kind in InteractionKind), native_enum=False, length=20))
    channel: Mapped[str | None] = mapped_column(sa.String(40))
    occurred_at: Mapped[UtcDateTime] = mapped_column(default=utcnow)
    author: Mapped[str] = mapped_column(sa.String(80))
    outcome: Mapped[str | None] = mapped_column(sa.String(80))
    summary: Mapped[str] = mapped_column(sa.Text)


INTERACTION = Entity(
    "interaction", Interaction,
    filterable=["customer_id", "kind", "channel", "author", "outcome", "occurred_at"],
    sortable=["occurred_at"],
    operations={"list", "get", "update", "delete"},
    description="A call, message, ticket or note with a customer. Log one with POST"
                " /api/v1/crm/customers/{id}/interactions (its author is the caller); read a"
                " customer's newest first with GET /api/v1/crm/customers/{id}/timeline.",
)


@on_write("crm.interaction", actions=("update",), when="before")
def check_interaction_update(ctx: Context, event: WriteEvent) -> None:
    """The author and the customer of an interaction are facts, not editable fields."""
    for field in ("author", "customer_id"):
        if field in event.changes and event.changes[field] != event.before[field]:
            raise ValidationError(f"invalid crm.interaction: {field}: is set when the"
                                  " interaction is logged and does not change",
                                  {field: "cannot change"})


def log_interaction(ctx: Context, customer_id: int, payload: Mapping[str, Any]
                    ) -> dict[str, Any]:
    """Log an interaction on a customer as the acting principal (its ``author``).

    ``payload`` holds ``kind``, ``summary`` and optionally ``channel``, ``outcome`` and
    ``occurred_at``; the record is written by the entity service (checked field by field,
    audited, announced as ``crm.interaction.created``). Needs ``crm.interaction.create``.
    """
    ctx.principal.require("crm.interaction.create")
    if not isinstance(payload, Mapping):
        raise ValidationError("the request body must be a JSON object")
    for field in ("author", "customer_id"):
        if field in payload:
            raise ValidationError(f"invalid crm.interaction: {field}: is set by the server",
                                  {field: "is set by the server"})
    ctx.records("crm.customer").get(customer_id)
    require_unmerged(ctx.session, customer_id)
    # The generic create is not offered, so the service acts for a principal allowed to
    # create; the audit row and the author still name the caller.
    writer = ctx.as_principal(Principal.system(ctx.principal.name))
    return writer.records("crm.interaction").create(
        {**payload, "customer_id": customer_id, "author": ctx.principal.name})


def _encode_cursor(occurred_at: dt.datetime, interaction_id: int) -> str:
    raw = json.dumps([occurred_at.isoformat(), interaction_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        when, interaction_id = json.loads(
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        occurred_at = dt.datetime.fromisoformat(when)
        if occurred_at.tzinfo is None:
            raise ValueError("naive")
        return occurred_at, int(interaction_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise ValidationError("query parameter 'cursor': is malformed; pass back the"
                              " next_cursor of the previous page unchanged",
                              {"cursor": "malformed"}) from None


def timeline(ctx: Context, customer_id: int, *, limit: int = TIMELINE_LIMIT,
             cursor: str | None = None) -> dict[str, Any]:
    """A customer's interactions, newest first, one page of at most ``limit``.

    Pages are keyset-based on ``(occurred_at, id)``: ``next_cursor`` continues after the
    last item, and interactions logged meanwhile never shift a page.
    """
    ctx.principal.require("crm.interaction.read")
    ctx.records("crm.customer").get(customer_id)
    if not 1 <= limit <= TIMELINE_MAX_LIMIT:
        raise ValidationError(f"query parameter 'limit': must be between 1 and"
                              f" {TIMELINE_MAX_LIMIT}", {"limit": "out of range"})
    table = Interaction.__table__
    statement = sa.select(table).where(table.c.customer_id == customer_id)
    if cursor is not None:
        occurred_at, last_id = _decode_cursor(cursor)
        statement = statement.where(sa.or_(
            table.c.occurred_at < occurred_at,
            sa.and_(table.c.occurred_at == occurred_at, table.c.id < last_id)))
    rows = ctx.session.execute(
        statement.order_by(table.c.occurred_at.desc(), table.c.id.desc()).limit(limit + 1)
    ).mappings().all()
    service = ctx.records("crm.interaction")
    items = [service.to_json(row) for row in rows[:limit]]
    more = len(rows) > limit
    return {"items": items,
            "next_cursor": _encode_cursor(rows[limit - 1]["occurred_at"], rows[limit - 1]["id"])
            if more else None}
