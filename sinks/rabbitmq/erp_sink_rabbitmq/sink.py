"""Publishing events to a RabbitMQ topic exchange, each confirmed by the broker.

Each event is a persistent JSON message routed by its name (``orders.order.confirmed``,
so a queue binds ``orders.order.*`` or ``#``) with ``message_id`` set to the event's
stable id, for consumers to deduplicate (delivery is at least once). The channel is in
confirm mode: ``publish`` returns once the broker took the message, and raises when it
refused it or the connection broke (the next call connects again).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pika

from erp_sdk.drivers import OutboundEvent


class RabbitMqSink:
    """Settings: ``host`` (default 127.0.0.1), ``port`` (5672), ``virtual_host`` (``/``),
    ``user`` (``guest``), ``exchange`` (``erp.events``, declared as a durable topic
    exchange), ``timeout`` seconds (10). Secrets: ``password`` (default ``guest``)."""

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        self.exchange = str(settings.get("exchange") or "erp.events")
        timeout = float(settings.get("timeout") or 10)
        self._parameters = pika.ConnectionParameters(
            host=str(settings.get("host") or "127.0.0.1"), port=int(settings.get("port") or 5672),
            virtual_host=str(settings.get("virtual_host") or "/"),
            credentials=pika.PlainCredentials(str(settings.get("user") or "guest"),
                                              str(secrets.get("password") or "guest")),
            socket_timeout=timeout, blocked_connection_timeout=timeout,
            connection_attempts=1)
        self._connection: Any = None
        self._channel: Any = None
        self._open()

    def _open(self) -> Any:
        if self._channel is None or not self._channel.is_open:
            self.close()
            self._connection = pika.BlockingConnection(self._parameters)
            self._channel = self._connection.channel()
            self._channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
            self._channel.confirm_delivery()
        return self._channel

    def publish(self, event: OutboundEvent) -> None:
        try:
            self._open().basic_publish(
                self.exchange, event.name, json.dumps(event.as_json(), default=str).encode(),
                pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                     message_id=str(event.id), type=event.name))
        except Exception:
            self.close()  # connect again on the next call
            raise

    def publish_batch(self, events: Sequence[OutboundEvent]) -> None:
        for event in events:
            self.publish(event)

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(Exception):  # a broken connection is already closed
                connection.close()
