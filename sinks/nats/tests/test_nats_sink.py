"""The NATS JetStream sink against the real server on 127.0.0.1:4222."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Iterator

import nats
import pytest

from erp_sdk.drivers import EventSink, OutboundEvent
from erp_sink_nats.sink import NatsJetStreamSink

URL = "nats://127.0.0.1:4222"


def event(number: int, name: str = "orders.order.confirmed") -> OutboundEvent:
    return OutboundEvent(number, name, "orders.order", number % 3, {"n": number},
                         dt.datetime(2026, 12, 1, tzinfo=dt.UTC))


@pytest.fixture
def stream() -> Iterator[tuple[str, str]]:
    """A stream of this test's own, deleted afterwards."""
    name = f"ERPTEST{uuid.uuid4().hex[:8].upper()}"
    prefix = f"erptest.{name.lower()}"
    yield name, prefix

    async def delete() -> None:
        connection = await nats.connect(URL)
        try:
            await connection.jetstream().delete_stream(name)
        finally:
            await connection.close()

    asyncio.run(delete())


def stored(name: str, prefix: str) -> list[tuple[str, dict, str]]:
    async def read() -> list[tuple[str, dict, str]]:
        connection = await nats.connect(URL)
        try:
            subscription = await connection.jetstream().pull_subscribe(f"{prefix}.>",
                                                                      stream=name)
            found = []
            while True:
                try:
                    messages = await subscription.fetch(100, timeout=0.5)
                except (TimeoutError, nats.errors.TimeoutError):
                    return found
                for message in messages:
                    found.append((message.subject, json.loads(message.data),
                                  message.headers["Nats-Msg-Id"]))
                    await message.ack()
        finally:
            await connection.close()

    return asyncio.run(read())


def test_events_reach_the_stream_in_order_with_their_ids(stream: tuple[str, str]) -> None:
    name, prefix = stream
    sink = NatsJetStreamSink({"url": URL, "stream": name, "subject_prefix": prefix}, {})
    try:
        assert isinstance(sink, EventSink)
        sink.publish(event(1))
        sink.publish_batch([event(2, "orders.order.shipped"), event(3)])
    finally:
        sink.close()
    messages = stored(name, prefix)
    assert [(m[1]["id"], m[2]) for m in messages] == [(1, "1"), (2, "2"), (3, "3")]
    assert messages[1][0] == f"{prefix}.orders.order.shipped"
    assert messages[0][1]["payload"] == {"n": 1}


def test_an_event_published_twice_is_stored_once(stream: tuple[str, str]) -> None:
    name, prefix = stream
    sink = NatsJetStreamSink({"url": URL, "stream": name, "subject_prefix": prefix}, {})
    try:
        sink.publish(event(7))
        sink.publish(event(7))
    finally:
        sink.close()
    assert [m[1]["id"] for m in stored(name, prefix)] == [7]


def test_an_unreachable_server_fails_the_publish() -> None:
    with pytest.raises(Exception):  # noqa: B017 - any failure makes the worker retry
        NatsJetStreamSink({"url": "nats://127.0.0.1:1", "timeout": "1"}, {})
