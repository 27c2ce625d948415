"""What happened to each event at each destination (kernel table ``kernel_event_delivery``).

One row per event and destination (``webhook:<id>``, ``sink:<id>``), written by the worker
after each attempt: how many attempts, the last error, and whether the destination has the
event (``delivered``), will be tried again (``retrying``), gave up (``dead``: dead-lettered
after the configured number of attempts) or was asked to replay it (``pending``).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.db.base import Base
from erp_core.db.types import UtcDateTime


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    DEAD = "dead"


class EventDelivery(Base):
    __tablename__ = "kernel_event_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.Integer)
    target: Mapped[str] = mapped_column(sa.String(40), index=True)
    state: Mapped[str] = mapped_column(sa.String(12))
    attempts: Mapped[int] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_attempt_at: Mapped[UtcDateTime | None]
    delivered_at: Mapped[UtcDateTime | None]

    __table_args__ = (sa.UniqueConstraint("event_id", "target"),)


def webhook_target(subscription_id: int) -> str:
    return f"webhook:{subscription_id}"


def sink_target(sink_id: int) -> str:
    return f"sink:{sink_id}"


@attrs.frozen
class OutboundEvent:
    """An event as webhooks and sinks receive it; ``id`` is stable across attempts, so a
    consumer that may see an event twice (delivery is at least once) deduplicates by it."""

    id: int
    name: str
    entity: str
    record_id: int | None
    payload: Mapping[str, Any]
    created_at: dt.datetime

    def as_json(self) -> dict[str, Any]:
        """The event as a JSON object: the body of a webhook, the message of a sink."""
        return {"id": self.id, "name": self.name, "entity": self.entity,
                "record_id": self.record_id, "payload": self.payload,
                "created_at": self.created_at.isoformat()}
