"""A lean HTTP client for benchmarks: one keep-alive connection sending JSON requests.

The load generator shares the machine's cores with the server it measures, so every
millisecond of CPU it spends per request is taken from the server. The standard
library's ``http.client`` spends a fraction of what a full-featured client does per
request (connection pools, hooks, header models), for the same bytes on the wire.
"""

from __future__ import annotations

import http.client
import json
from typing import Any


class HttpStatusError(Exception):
    """A response with a 4xx or 5xx status."""

    def __init__(self, method: str, path: str, status: int, body: bytes) -> None:
        super().__init__(f"{method} {path}: {status} {body[:500].decode(errors='replace')}")
        self.status = status


class JsonClient:
    """Requests over one HTTP/1.1 keep-alive connection, bodies and responses as JSON."""

    def __init__(self, host: str, port: int, headers: dict[str, str],
                 timeout: float = 60) -> None:
        self._connection = http.client.HTTPConnection(host, port, timeout=timeout)
        self._headers = {**headers, "Content-Type": "application/json",
                         "Accept": "application/json"}

    def request(self, method: str, path: str, body: Any = None) -> Any:
        payload = b"" if body is None else json.dumps(body).encode()
        self._connection.request(method, path, payload, self._headers)
        response = self._connection.getresponse()
        data = response.read()
        if response.status >= 400:
            raise HttpStatusError(method, path, response.status, data)
        return json.loads(data) if data else None

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body)

    def close(self) -> None:
        self._connection.close()
