"""The worker delivering events to the first-party sinks, each against its real broker
(NATS JetStream 127.0.0.1:4222, RabbitMQ 127.0.0.1:5672, Redis 127.0.0.1:6379), and
retrying a sink that fails."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import nats
import pika
import pytest
import redis
import sqlalchemy as sa

from erp_core.events.delivery import EventDelivery
from erp_core.events.outbox import OutboxEvent, emit
from erp_core.kernel import Kernel
from erp_core.worker import Worker, WorkerSettings

FAST = {"backoff_seconds": 0.05, "backoff_max_seconds": 0.2, "poll_seconds": 0.01}


@pytest.fixture
def kernel(make_kernel: Callable[..., Kernel]) -> Kernel:
    made = make_kernel()
    made.initialise()
    return made.boot()


@pytest.fixture
def worker(kernel: Kernel) -> Iterator[Worker]:
    made = Worker(kernel, WorkerSettings.from_env({}, **FAST), concurrency=2)
    yield made
    made.close()


def add_sink(kernel: Kernel, driver: str, settings: dict[str, Any],
             patterns: list[str] | None = None) -> int:
    with kernel.context() as erp:
        return erp.records("kernel.event_sink").create(
            {"name": f"{driver}-{uuid.uuid4().hex[:6]}", "driver": driver,
             "settings": settings, "secrets": {}, "patterns": patterns or ["shop.*"],
             "active": True})["id"]


def emit_order_events(kernel: Kernel) -> list[int]:
    """Three events of record 1 and two of record 2, interleaved."""
    with kernel.transaction() as session:
        written = [emit(session, f"shop.order.{what}", "shop.order", record, {"step": what})
                   for what, record in (("placed", 1), ("placed", 2), ("confirmed", 1),
                                        ("confirmed", 2), ("shipped", 1))]
    return [event.id for event in written]


def in_record_order(ids: list[int], written: list[int]) -> bool:
    record_1, record_2 = [written[0], written[2], written[4]], [written[1], written[3]]
    return [i for i in ids if i in record_1] == record_1 and \
        [i for i in ids if i in record_2] == record_2


def test_the_worker_publishes_to_nats_jetstream(kernel: Kernel, worker: Worker) -> None:
    stream = f"ERPTEST{uuid.uuid4().hex[:8].upper()}"
    prefix = f"erptest.{stream.lower()}"
    add_sink(kernel, "nats", {"stream": stream, "subject_prefix": prefix})
    written = emit_order_events(kernel)
    worker.drain()

    async def read() -> list[int]:
        connection = await nats.connect("nats://127.0.0.1:4222")
        try:
            js = connection.jetstream()
            subscription = await js.pull_subscribe(f"{prefix}.>", stream=stream)
            messages = await subscription.fetch(10, timeout=2)
            await js.delete_stream(stream)
            return [json.loads(m.data)["id"] for m in messages]
        finally:
            await connection.close()

    ids = asyncio.run(read())
    assert sorted(ids) == written
    assert in_record_order(ids, written)


def test_the_worker_publishes_to_rabbitmq(kernel: Kernel, worker: Worker) -> None:
    exchange = f"erp-test-{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1"))
    channel = connection.channel()
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, exchange, routing_key="#")
    try:
        add_sink(kernel, "rabbitmq", {"exchange": exchange})
        written = emit_order_events(kernel)
        worker.drain()
        ids = []
        while (message := channel.basic_get(queue, auto_ack=True))[0] is not None:
            ids.append(int(message[1].message_id))
    finally:
        channel.exchange_delete(exchange)
        connection.close()
    assert sorted(ids) == written
    assert in_record_order(ids, written)


def test_the_worker_appends_to_a_redis_stream(kernel: Kernel, worker: Worker) -> None:
    stream = f"erp-test:{uuid.uuid4().hex}"
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0", decode_responses=True)
    try:
        add_sink(kernel, "redis", {"stream": stream})
        written = emit_order_events(kernel)
        worker.drain()
        ids = [int(fields["id"]) for _, fields in client.xrange(stream)]
    finally:
        client.delete(stream)
    assert sorted(ids) == written
    assert in_record_order(ids, written)


def test_a_failing_sink_is_retried_until_it_takes_the_events(kernel: Kernel,
                                                             worker: Worker) -> None:
    stream = f"erp-test:{uuid.uuid4().hex}"
    sink = add_sink(kernel, "redis", {"url": "redis://127.0.0.1:1/0", "stream": stream,
                                      "timeout": "1"})
    written = emit_order_events(kernel)
    worker.drain()
    with kernel.engine.connect() as connection:
        rows = connection.execute(sa.select(EventDelivery.state, EventDelivery.last_error)
                                  ).all()
        # each record's first event is retried, its later ones wait behind it unattempted
        assert {state for state, _ in rows} == {"retrying", "pending"}
        assert all("ConnectionError" in error for state, error in rows if state == "retrying")
    with kernel.context() as erp:  # the operator fixes the address; the sink is rebuilt
        erp.records("kernel.event_sink").update(sink, {"settings": {"stream": stream}})
        assert "Connection" in erp.records("kernel.event_sink").get(sink)["last_error"]
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0", decode_responses=True)
    try:
        deadline = 200
        while deadline and len(client.xrange(stream)) < len(written):
            deadline -= 1
            if not worker.deliver_batch():
                asyncio.run(asyncio.sleep(0.02))
        ids = [int(fields["id"]) for _, fields in client.xrange(stream)]
    finally:
        client.delete(stream)
    assert sorted(ids) == written
    assert in_record_order(ids, written)
    with kernel.engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).where(
            OutboxEvent.published_at.is_(None), OutboxEvent.entity == "shop.order")) == 0
