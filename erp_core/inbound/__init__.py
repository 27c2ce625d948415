"""Webhooks outside services push (carriers, payment providers, sales channels): one route
family, ``POST /api/v1/hooks/{driver}/{account}``, verified by the plugin owning the
account, deduplicated by event id (see ``erp_core.inbound.receiving``)."""

from erp_core.inbound.declaration import InboundWebhook, VerifiedWebhook, WebhookReceiver
from erp_core.inbound.receiving import Reception, receive

__all__ = ["InboundWebhook", "Reception", "VerifiedWebhook", "WebhookReceiver", "receive"]
