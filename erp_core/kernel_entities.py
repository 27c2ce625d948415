"""The kernel's own entities and permissions, registered as if by a plugin named ``kernel``."""

from __future__ import annotations

from erp_core.audit import AuditEntry
from erp_core.entities.declaration import Entity
from erp_core.events.outbox import OutboxEvent
from erp_core.security.permissions import Permission

KERNEL = "kernel"


def kernel_declarations() -> list[object]:
    return [
        Entity("audit_entry", AuditEntry, collection="audit", operations={"list", "get"},
               filterable=["entity", "record_id", "action", "principal", "at"],
               sortable=["at"], description="Who changed what and when."),
        Entity("outbox_event", OutboxEvent, collection="events", operations={"list", "get"},
               filterable=["name", "entity", "record_id", "created_at", "published_at"],
               sortable=["created_at"], description="Domain events, in commit order."),
        Permission("kernel.plugin.read", "See installed plugins"),
        Permission("kernel.driver.read", "See installed drivers"),
        Permission("kernel.metrics.read", "Read the Prometheus metrics (/metrics)"),
    ]
