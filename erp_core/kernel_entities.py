"""The kernel's own entities and permissions, registered as if by a plugin named ``kernel``."""

from __future__ import annotations

from erp_core.audit import AuditEntry
from erp_core.entities.declaration import Entity
from erp_core.events.delivery import EventDelivery
from erp_core.events.outbox import OutboxEvent
from erp_core.events.sinks import EventSinkAccount
from erp_core.events.webhooks import WebhookSubscription
from erp_core.exchange_rate_sources import ExchangeRateSourceAccount
from erp_core.exchange_rates import ExchangeRate
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
        Entity("event_delivery", EventDelivery, collection="deliveries",
               operations={"list", "get"},
               filterable=["event_id", "target", "state", "last_attempt_at"],
               sortable=["event_id", "last_attempt_at"],
               description="Each event's delivery to each webhook and sink: attempts,"
                           " last error, delivered or dead-lettered."),
        Entity("webhook", WebhookSubscription, write_only=["secret"],
               read_only=["failing_since", "disabled_reason"],
               filterable=["url", "active"], sortable=["created_at"],
               description="Webhook subscriptions: signed HTTP POSTs of matching events."),
        Entity("event_sink", EventSinkAccount, write_only=["secrets"],
               read_only=["failing_since", "last_error"],
               filterable=["name", "driver", "active"], sortable=["name"],
               description="Message brokers (erp.event_sinks drivers) that receive events."),
        Entity("exchange_rate", ExchangeRate, collection="exchange-rates",
               filterable=["currency", "quote_currency", "rate_date", "source"],
               sortable=["rate_date"],
               description="Exchange rates by date: units of `quote_currency` per unit of"
                           " `currency` from `rate_date` on, shared by every plugin."),
        Entity("exchange_rate_source", ExchangeRateSourceAccount,
               collection="exchange-rate-sources", write_only=["secrets"],
               read_only=["last_fetched_at", "last_error"],
               filterable=["name", "driver", "quote_currency", "active"], sortable=["name"],
               description="Feeds (erp.exchange_rate_sources drivers) whose daily rates the"
                           " job kernel.fetch_exchange_rates stores."),
        Permission("kernel.webhook.replay", "Deliver events to a webhook again"),
        Permission("kernel.plugin.read", "See installed plugins"),
        Permission("kernel.driver.read", "See installed drivers"),
        Permission("kernel.metrics.read", "Read the Prometheus metrics (/metrics)"),
    ]
