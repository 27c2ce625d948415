"""Where events go: webhook subscriptions (signed HTTP POSTs) and event sinks (drivers).

A destination takes a list of events (in id order) and answers, for each, ``None`` (it
has the event), the reason it failed, or ``NOT_SENT``: an earlier event of its record
failed, so it was held back to keep the record's events in order. Webhook posts go out
in parallel on the worker's threads over kept-alive connections, the events of one record
one after the other; a sink gets its events in one ``publish_batch`` call when it has
one, else one ``publish`` call per event, in order.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import attrs

from erp_core.events import signing
from erp_core.events.delivery import OutboundEvent, sink_target, webhook_target
from erp_core.events.webhooks import matches

Outcome = str | None
"""``None``: delivered; otherwise why not."""

NOT_SENT = "not sent: an earlier event of its record was not delivered"
"""The outcome of an event held back behind a failed earlier event of its record: no
attempt was made, so none is counted."""


def _record_of(event: OutboundEvent) -> tuple[str, int] | None:
    return None if event.record_id is None else (event.entity, event.record_id)


def in_order(events: Sequence[OutboundEvent], send: Callable[[OutboundEvent], Outcome]
             ) -> list[Outcome]:
    """Send events one by one; after a failure, hold back the later events of its record."""
    failed: set[tuple[str, int]] = set()
    outcomes: list[Outcome] = []
    for event in events:
        record = _record_of(event)
        if record is not None and record in failed:
            outcomes.append(NOT_SENT)
            continue
        try:
            outcome = send(event)
        except Exception as exc:  # a failure of this event only, not of the ones after it
            outcome = _short(exc)
        if outcome is not None and record is not None:
            failed.add(record)
        outcomes.append(outcome)
    return outcomes


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


class _Connections(threading.local):
    """Each thread's kept-alive HTTP connections, by scheme, host and port."""

    def __init__(self) -> None:
        self.by_origin: dict[tuple[str, str, int], http.client.HTTPConnection] = {}


class WebhookSender:
    """Posts signed events to URLs over kept-alive connections, one per thread and origin."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._connections = _Connections()

    def post(self, url: str, secret: str, event: OutboundEvent) -> Outcome:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"the URL {url!r} is not an http(s) URL"
        body = json.dumps(event.as_json(), separators=(",", ":"), default=str).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "erp-worker",
                   signing.EVENT_ID_HEADER: str(event.id),
                   signing.EVENT_NAME_HEADER: event.name,
                   **signing.signature_headers(secret, body)}
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        origin = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https"
                                                               else 80))
        for fresh in (False, True):  # a kept-alive connection the server closed: reconnect once
            connection = self._connection(origin, fresh)
            try:
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                answer = response.read(500)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self._drop(origin)
                if fresh:
                    return _short(exc)
                continue
            except (OSError, http.client.HTTPException) as exc:
                self._drop(origin)
                return _short(exc)
            if response.will_close:
                self._drop(origin)
            if 200 <= response.status < 300:
                return None
            return f"HTTP {response.status}: {answer.decode(errors='replace')[:200]}"
        return "unreachable"  # pragma: no cover - the loop returns

    def _connection(self, origin: tuple[str, str, int], fresh: bool
                    ) -> http.client.HTTPConnection:
        if fresh:
            self._drop(origin)
        connection = self._connections.by_origin.get(origin)
        if connection is None:
            scheme, host, port = origin
            kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            connection = self._connections.by_origin[origin] = kind(host, port,
                                                                    timeout=self.timeout)
        return connection

    def _drop(self, origin: tuple[str, str, int]) -> None:
        connection = self._connections.by_origin.pop(origin, None)
        if connection is not None:
            connection.close()


@attrs.frozen
class WebhookDestination:
    id: int
    url: str
    secret: str = attrs.field(repr=False)
    patterns: tuple[str, ...]
    failing_since: dt.datetime | None

    @property
    def target(self) -> str:
        return webhook_target(self.id)

    def wants(self, name: str) -> bool:
        return matches(self.patterns, name)

    def submit(self, pool: ThreadPoolExecutor, sender: WebhookSender,
               events: Sequence[OutboundEvent]) -> list[tuple[int, Future[Outcome]]]:
        """One task per record (its events in order) and per event without a record."""
        chains: dict[object, list[OutboundEvent]] = {}
        for event in events:
            chains.setdefault(_record_of(event) or event.id, []).append(event)
        submitted: list[tuple[int, Any]] = []
        for chain in chains.values():
            whole = pool.submit(in_order, chain,
                                lambda e: sender.post(self.url, self.secret, e))
            submitted += [(e.id, _Part(whole, i)) for i, e in enumerate(chain)]
        return submitted


@attrs.frozen
class SinkDestination:
    id: int
    name: str
    sink: Any
    patterns: tuple[str, ...]
    failing_since: dt.datetime | None

    @property
    def target(self) -> str:
        return sink_target(self.id)

    def wants(self, name: str) -> bool:
        return matches(self.patterns, name)

    def submit(self, pool: ThreadPoolExecutor, _sender: WebhookSender,
               events: Sequence[OutboundEvent]) -> list[tuple[int, Future[Outcome]]]:
        whole = pool.submit(self.publish, events)
        return [(e.id, _Part(whole, i)) for i, e in enumerate(events)]  # type: ignore[misc]

    def publish(self, events: Sequence[OutboundEvent]) -> list[Outcome]:
        """Every event's outcome: one batch call when the sink has one, else (or when the
        batch failed) one call per event, so one bad event does not fail the others."""
        batch: Callable[[Sequence[Any]], object] | None = getattr(self.sink, "publish_batch",
                                                                  None)
        if batch is not None and len(events) > 1:
            try:
                batch(events)
                return [None] * len(events)
            except Exception:
                pass
        return in_order(events, self._publish_one)

    def _publish_one(self, event: OutboundEvent) -> Outcome:
        try:
            self.sink.publish(event)
        except Exception as exc:
            return _short(exc)
        return None


def futures_behind(outcomes: Sequence[Any]) -> set[Future[Any]]:
    """The futures the outcomes ``submit`` returned wait on (a sink's events share one)."""
    return {o.whole if isinstance(o, _Part) else o for o in outcomes}


class _Part:
    """One event's outcome out of a sink's whole-batch future."""

    def __init__(self, whole: Future[list[Outcome]], index: int) -> None:
        self.whole, self.index = whole, index

    def result(self) -> Outcome:
        try:
            return self.whole.result()[self.index]
        except Exception as exc:
            return _short(exc)
