"""The audit log: who changed what, when, from which value to which (kernel table).

Written by the entity service and the workflow engine in the same transaction as the
change itself (buffered and inserted at commit, one statement for all of a transaction's
rows), so a rolled-back change leaves no audit row and a committed one always has its row.
Readable through the API as the kernel entity ``kernel.audit_entry``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.db.base import Base
from erp_core.db.deferred import defer_insert, frozen_json
from erp_core.db.types import UtcDateTime, utcnow


class AuditEntry(Base):
    __tablename__ = "kernel_audit_entry"
    __table_args__ = (sa.Index("ix_kernel_audit_entry_record", "entity", "record_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[UtcDateTime] = mapped_column(default=utcnow)
    principal: Mapped[str] = mapped_column(sa.String(80))
    user_id: Mapped[int | None]
    entity: Mapped[str] = mapped_column(sa.String(120))
    record_id: Mapped[int]
    action: Mapped[str] = mapped_column(sa.String(80))
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON)


def record_change(ctx: Any, entity: str, record_id: int, action: str,
                  changes: Mapping[str, tuple[Any, Any]]) -> None:
    """Write one audit row (at commit, see ``erp_core.db.deferred``); ``changes`` maps a
    field to ``(old, new)`` JSON values."""
    defer_insert(ctx.session, AuditEntry.__table__, {
        "at": utcnow(), "principal": ctx.principal.name, "user_id": ctx.principal.user_id,
        "entity": entity, "record_id": record_id, "action": action,
        "changes": frozen_json({field: {"old": old, "new": new}
                                for field, (old, new) in changes.items()},
                               f"the audit of {entity} {record_id} {action!r}"),
    })


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
         ignore: tuple[str, ...] = ("id", "version", "updated_at", "created_at")
         ) -> dict[str, tuple[Any, Any]]:
    """Changed fields between two JSON representations of a record."""
    before, after = before or {}, after or {}
    return {key: (before.get(key), after.get(key))
            for key in dict.fromkeys([*before, *after])
            if key not in ignore and before.get(key) != after.get(key)}
