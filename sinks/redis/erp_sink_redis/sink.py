"""Appending events to a Redis stream (``XADD``).

Each event is one stream entry with the fields ``id`` (the event's stable id, for
consumers to deduplicate: delivery is at least once), ``name``, ``entity``, ``record_id``
and ``event`` (the whole event as JSON). A batch goes in one pipelined round trip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import redis

from erp_sdk.drivers import OutboundEvent


class RedisStreamSink:
    """Settings: ``url`` (default ``redis://127.0.0.1:6379/0``), ``stream`` (default
    ``erp:events``), ``maxlen`` (optional: trim the stream to about that many entries),
    ``timeout`` seconds (default 10). Secrets: ``password``, when the server asks."""

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        self.stream = str(settings.get("stream") or "erp:events")
        self.maxlen = int(settings["maxlen"]) if settings.get("maxlen") else None
        timeout = float(settings.get("timeout") or 10)
        self._client = redis.Redis.from_url(
            str(settings.get("url") or "redis://127.0.0.1:6379/0"),
            password=secrets.get("password") or None, socket_timeout=timeout,
            socket_connect_timeout=timeout)
        self._client.ping()

    @staticmethod
    def fields(event: OutboundEvent) -> dict[str, str]:
        return {"id": str(event.id), "name": event.name, "entity": event.entity,
                "record_id": "" if event.record_id is None else str(event.record_id),
                "event": json.dumps(event.as_json(), default=str)}

    def publish(self, event: OutboundEvent) -> None:
        self._client.xadd(self.stream, self.fields(event), maxlen=self.maxlen,
                          approximate=True)

    def publish_batch(self, events: Sequence[OutboundEvent]) -> None:
        """Every event in one pipelined round trip, in order."""
        pipeline = self._client.pipeline(transaction=False)
        for event in events:
            pipeline.xadd(self.stream, self.fields(event), maxlen=self.maxlen,
                          approximate=True)
        pipeline.execute()

    def close(self) -> None:
        self._client.close()
