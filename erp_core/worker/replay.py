"""Replaying events to a webhook: one event, or every matching event since a time.

The events go out again through the worker, signed and retried like any delivery, with
the same ids, so a receiver that already had them recognises them.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from erp_core.errors import NotFoundError, ValidationError
from erp_core.events.delivery import webhook_target
from erp_core.events.outbox import OutboxEvent
from erp_core.events.webhooks import WebhookSubscription, matches
from erp_core.worker import claims

_EVENTS = OutboxEvent.__table__
_WEBHOOKS = WebhookSubscription.__table__


def replay_to_webhook(connection: sa.Connection, subscription_id: int, *,
                      event_id: int | None = None, since: dt.datetime | None = None) -> int:
    """Queue ``event_id``, or every event since ``since`` whose name the subscription's
    patterns match, for delivery to the subscription again; return how many. Refused for
    an unknown subscription or event, or without exactly one of the two."""
    if (event_id is None) == (since is None):
        raise ValidationError("give either event_id or since", {"event_id": "or since"})
    patterns = connection.execute(sa.select(_WEBHOOKS.c.patterns).where(
        _WEBHOOKS.c.id == subscription_id)).scalar()
    if patterns is None:
        raise NotFoundError(f"there is no webhook {subscription_id}")
    if event_id is not None:
        if connection.execute(sa.select(_EVENTS.c.id).where(_EVENTS.c.id == event_id)
                              ).scalar() is None:
            raise NotFoundError(f"there is no event {event_id} (purged, or never written)")
        ids = [event_id]
    else:
        if since is not None and since.tzinfo is None:
            raise ValidationError("since must carry a time zone", {"since": "naive time"})
        ids = [row.id for row in connection.execute(
            sa.select(_EVENTS.c.id, _EVENTS.c.name).where(_EVENTS.c.created_at >= since)
            .order_by(_EVENTS.c.id)) if matches(patterns, row.name)]
    return claims.replay(connection, webhook_target(subscription_id), ids)
