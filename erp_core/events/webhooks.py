"""Webhook subscriptions (kernel entity ``kernel.webhook``, table ``kernel_webhook``).

A subscription names a URL, the events it wants (``patterns``: event names where ``*``
stands for one dotted part or, last, for the rest: ``orders.order.*``), and a ``secret``
that signs every delivery (``erp_core.events.signing``); the secret is write-only, so the
API, the audit log and the events never show it. A subscription whose deliveries keep
failing for ``ERP_WEBHOOK_DISABLE_AFTER`` seconds is switched off by the worker, which
says why in ``disabled_reason``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.db.base import Base
from erp_core.db.types import UtcDateTime
from erp_core.entities.declaration import RecordMixin


class WebhookSubscription(RecordMixin, Base):
    __tablename__ = "kernel_webhook"

    url: Mapped[str] = mapped_column(sa.String(2000))
    patterns: Mapped[list[str]] = mapped_column(sa.JSON)
    secret: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    description: Mapped[str | None] = mapped_column(sa.String(200))
    failing_since: Mapped[UtcDateTime | None]
    disabled_reason: Mapped[str | None] = mapped_column(sa.Text)


@lru_cache(maxsize=1024)
def _pattern(pattern: str) -> re.Pattern[str]:
    if pattern == "*":
        return re.compile(r".*")
    parts = [r"[^.]+" if part == "*" else re.escape(part) for part in pattern.split(".")]
    if pattern.endswith(".*"):
        parts[-1] = r".+"
    return re.compile(r"\.".join(parts))


def matches(patterns: Iterable[str], event_name: str) -> bool:
    """Whether an event name matches any of ``patterns`` (``*`` alone: every event)."""
    return any(_pattern(p).fullmatch(event_name) for p in patterns)


def check_patterns(value: Any) -> list[str]:
    """The patterns as a list of non-empty names, or ``ValueError`` saying what is wrong."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(
            isinstance(p, str) and p.strip() and ".." not in p for p in value):
        raise ValueError("patterns must be a non-empty list of event names such as"
                         " 'orders.order.*' or '*'")
    return [p.strip() for p in value]
