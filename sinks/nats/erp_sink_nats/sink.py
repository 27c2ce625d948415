"""Publishing events to a NATS JetStream stream.

Each event is a JSON message on ``<subject_prefix>.<event name>`` (``erp.events.orders.
order.confirmed``) with the header ``Nats-Msg-Id: <event id>``, so JetStream itself drops
a second copy of an event redelivered within the stream's duplicate window. ``publish``
returns once the stream acknowledged the message. nats-py is asynchronous; the sink runs
its own event loop in a thread and waits on it, so the worker calls it like any sink.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import nats
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from erp_sdk.drivers import OutboundEvent

log = logging.getLogger("erp.sink.nats")


class NatsJetStreamSink:
    """Settings: ``url`` (default ``nats://127.0.0.1:4222``), ``stream`` (default ``ERP``),
    ``subject_prefix`` (default ``erp.events``), ``timeout`` seconds (default 10),
    ``create_stream`` (default true: create the stream on ``<prefix>.>`` if missing).
    Secrets: ``token`` or ``user`` / ``password``, when the server asks for them."""

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        self.url = str(settings.get("url") or "nats://127.0.0.1:4222")
        self.stream = str(settings.get("stream") or "ERP")
        self.prefix = str(settings.get("subject_prefix") or "erp.events").rstrip(".")
        self.timeout = float(settings.get("timeout") or 10)
        self.create_stream = str(settings.get("create_stream", "true")).lower() in (
            "1", "true", "yes", "on")
        self._credentials = {k: str(secrets[k]) for k in ("token", "user", "password")
                             if secrets.get(k)}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="erp-sink-nats")
        self._thread.start()
        self._connection: Any = None
        self._jetstream: Any = None
        try:
            self._call(self._connect())
        except BaseException:
            self._loop.call_soon_threadsafe(self._loop.stop)
            raise

    def subject(self, event: OutboundEvent) -> str:
        return f"{self.prefix}.{event.name}"

    def publish(self, event: OutboundEvent) -> None:
        self._call(self._publish([event]))

    def publish_batch(self, events: Sequence[OutboundEvent]) -> None:
        """Publish every event at once and wait for all the acknowledgements."""
        self._call(self._publish(list(events)))

    def close(self) -> None:
        if self._connection is not None:
            self._call(self._connection.drain())
            self._connection = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _call(self, coroutine: Any) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(self.timeout * 3)
        except TimeoutError:
            future.cancel()
            raise

    async def _connect(self) -> None:
        self._connection = await nats.connect(self.url, connect_timeout=self.timeout,
                                              max_reconnect_attempts=-1,
                                              error_cb=self._connection_error,
                                              **self._credentials)
        self._jetstream = self._connection.jetstream(timeout=self.timeout)
        if self.create_stream:
            try:
                await self._jetstream.stream_info(self.stream)
            except NotFoundError:
                await self._jetstream.add_stream(StreamConfig(
                    name=self.stream, subjects=[f"{self.prefix}.>"]))

    @staticmethod
    async def _connection_error(error: Exception) -> None:
        log.warning("NATS connection: %s: %s", type(error).__name__, error)

    async def _publish(self, events: list[OutboundEvent]) -> None:
        """Send every message, then wait for every acknowledgement: the stream's answers
        come back on one shared inbox instead of a request (and a subscription) each."""
        acks = [await self._jetstream.publish_async(
                    self.subject(event), json.dumps(event.as_json(), default=str).encode(),
                    wait_stall=self.timeout, stream=self.stream,
                    headers={"Nats-Msg-Id": str(event.id)})
                for event in events]
        try:
            await asyncio.wait_for(asyncio.gather(*acks), self.timeout)
        finally:
            for ack in acks:
                ack.cancel()  # a timed-out batch leaves no future waiting
