"""A real local HTTP server that receives webhook deliveries, for the delivery tests.

It answers each POST with the next status of its script (then 200 for ever), keeps every
request it got (headers, raw body, time), and can hold each answer back for a while.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs


@attrs.frozen
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    def __init__(self, statuses: Sequence[int] = (), delay: float = 0.0) -> None:
        self.statuses = list(statuses)
        self.delay = delay
        self.failing: dict[int, int] = {}
        """Event id -> how many more times to answer 500 for it."""
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.url = ""

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.received.append(Received(headers, body, time.monotonic()))
            status = self.statuses.pop(0) if self.statuses else 200
            event_id = json.loads(body).get("id")
            if self.failing.get(event_id):
                self.failing[event_id] -= 1
                status = 500
        if self.delay:
            time.sleep(self.delay)
        return status

    def event_ids(self) -> list[int]:
        with self.lock:
            return [r.event["id"] for r in self.received]

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)


@contextmanager
def receiving(statuses: Sequence[int] = (), delay: float = 0.0) -> Iterator[Receiver]:
    receiver = Receiver(statuses, delay)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.answer(dict(self.headers.items()), body)
            answer = b"ok" if status < 300 else b"failing on purpose"
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:  # the worker gave up waiting, or was killed
                self.close_connection = True

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
