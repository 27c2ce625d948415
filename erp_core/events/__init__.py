"""Domain events: written to the outbox with the change, handed on after commit."""

from erp_core.events.outbox import DomainEvent, OutboxEvent, emit

__all__ = ["DomainEvent", "OutboxEvent", "emit"]
