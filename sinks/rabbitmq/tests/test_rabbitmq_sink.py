"""The RabbitMQ sink against the real broker on 127.0.0.1:5672 (guest/guest)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pika
import pytest

from erp_sdk.drivers import EventSink, OutboundEvent
from erp_sink_rabbitmq.sink import RabbitMqSink


def event(number: int, name: str) -> OutboundEvent:
    return OutboundEvent(number, name, "orders.order", number, {"n": number},
                         dt.datetime(2026, 12, 1, tzinfo=dt.UTC))


def test_events_reach_a_bound_queue_in_order_with_their_ids() -> None:
    exchange = f"erp-test-{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1"))
    channel = connection.channel()
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, exchange, routing_key="orders.order.*")
    sink = RabbitMqSink({"exchange": exchange}, {"password": "guest"})
    try:
        assert isinstance(sink, EventSink)
        sink.publish(event(1, "orders.order.confirmed"))
        sink.publish_batch([event(2, "orders.order.shipped"), event(3, "crm.customer.created"),
                            event(4, "orders.order.completed")])
        got = []
        for _ in range(3):
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            assert method is not None
            got.append((method.routing_key, properties.message_id, json.loads(body)["id"]))
        assert got == [("orders.order.confirmed", "1", 1), ("orders.order.shipped", "2", 2),
                       ("orders.order.completed", "4", 4)]
        assert channel.basic_get(queue, auto_ack=True)[0] is None
    finally:
        sink.close()
        channel.exchange_delete(exchange)
        connection.close()


def test_a_wrong_password_is_refused() -> None:
    with pytest.raises(pika.exceptions.AMQPError):
        RabbitMqSink({"timeout": "2"}, {"password": "not-the-password"})
