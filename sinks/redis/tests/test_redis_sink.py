"""The Redis Streams sink against the real server on 127.0.0.1:6379."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator

import pytest
import redis

from erp_sdk.drivers import EventSink, OutboundEvent
from erp_sink_redis.sink import RedisStreamSink

URL = "redis://127.0.0.1:6379/0"


def event(number: int) -> OutboundEvent:
    return OutboundEvent(number, "orders.order.confirmed", "orders.order", number,
                         {"n": number}, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))


@pytest.fixture
def stream() -> Iterator[str]:
    name = f"erp-test:{uuid.uuid4().hex}"
    yield name
    redis.Redis.from_url(URL).delete(name)


def test_events_are_appended_in_order_with_their_ids(stream: str) -> None:
    sink = RedisStreamSink({"url": URL, "stream": stream}, {})
    try:
        assert isinstance(sink, EventSink)
        sink.publish(event(1))
        sink.publish_batch([event(2), event(3)])
    finally:
        sink.close()
    entries = redis.Redis.from_url(URL, decode_responses=True).xrange(stream)
    assert [fields["id"] for _, fields in entries] == ["1", "2", "3"]
    assert json.loads(entries[2][1]["event"])["payload"] == {"n": 3}
    assert entries[0][1]["name"] == "orders.order.confirmed"


def test_an_unreachable_server_is_refused_at_once() -> None:
    with pytest.raises(redis.ConnectionError):
        RedisStreamSink({"url": "redis://127.0.0.1:1/0", "timeout": "1"}, {})
