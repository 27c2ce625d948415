"""Event sinks configured in this database (kernel entity ``kernel.event_sink``).

A sink is a driver of the ``erp.event_sinks`` namespace (NATS JetStream, RabbitMQ, Redis
Streams, ...) with its ``settings`` and write-only ``secrets``, like any driver account;
the worker builds it as ``Driver(settings=..., secrets=...)`` and hands it every event
whose name matches ``patterns``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.db.base import Base
from erp_core.db.types import UtcDateTime
from erp_core.entities.declaration import RecordMixin


class EventSinkAccount(RecordMixin, Base):
    __tablename__ = "kernel_event_sink"

    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    driver: Mapped[str] = mapped_column(sa.String(80))
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    secrets: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    patterns: Mapped[list[str]] = mapped_column(sa.JSON)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    failing_since: Mapped[UtcDateTime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
