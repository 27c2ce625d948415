"""A fake of the central bank's daily reference-rate feed, served for real on a local port.

It behaves as the bank documents its feed (see the package README):

- ``GET /api/reference-rates/{YYYY-MM-DD}``: the rates published for the day, as
  ``{"base": "EUR", "date": "2026-12-07", "rates": [{"currency": "USD", "units": 1,
  "rate": "0.9234"}, {"currency": "JPY", "units": 100, "rate": "0.6123"}, ...]}``: ``units``
  of ``currency`` are worth ``rate`` units of ``base``; rates are strings, never numbers;
- a day without a publication (a weekend, a holiday, or the future) answers 404;
- with an ``api_key``, every call needs ``X-Api-Key: <key>`` (401 otherwise).

Tests steer it through its Python object: ``publish(day, {"USD": "0.9234", ...})``
publishes a day's table (a value may be ``("0.6123", 100)`` for a rate per 100 units),
``fail_next(status)`` answers the next request with that status, and ``requests`` counts
what was asked. ``python -m erp_rates_centralbank.fake_feed --port 8765`` serves it by
hand with today's rates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

DAY_PATH = re.compile(r"^/api/reference-rates/(\d{4}-\d{2}-\d{2})$")


class FakeCentralBank:
    """The bank's feed on ``127.0.0.1`` at a free port (``url``), in a background thread."""

    def __init__(self, base: str = "EUR", api_key: str | None = None) -> None:
        self.base = base
        self.api_key = api_key
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.requests = 0
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def publish(self, day: dt.date, rates: dict[str, str | tuple[str, int]]) -> None:
        """Publish ``day``'s table: units of base per unit (or per ``units``) of each."""
        rows = []
        for currency, value in rates.items():
            rate, units = value if isinstance(value, tuple) else (value, 1)
            rows.append({"currency": currency, "units": units, "rate": rate})
        with self._lock:
            self.tables[day.isoformat()] = rows

    def fail_next(self, status: int) -> None:
        """Answer the next request with ``status`` and an error document."""
        with self._lock:
            self._failures.append(status)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _answer(self, path: str, key: str | None) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            if self._failures:
                return self._failures.pop(0), {"error": "service unavailable"}
            if self.api_key is not None and key != self.api_key:
                return 401, {"error": "a valid X-Api-Key is required"}
            found = DAY_PATH.match(path)
            if found is None:
                return 404, {"error": "no such resource"}
            table = self.tables.get(found.group(1))
            if table is None:
                return 404, {"error": f"no reference rates published for {found.group(1)}"}
            return 200, {"base": self.base, "date": found.group(1), "rates": table}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        bank = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, document = bank._answer(self.path.split("?")[0],
                                                 self.headers.get("X-Api-Key"))
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    port = parser.parse_args().port
    bank = FakeCentralBank()
    bank._server.server_close()
    bank._server = ThreadingHTTPServer(("127.0.0.1", port), bank._handler())
    bank.publish(dt.datetime.now(dt.UTC).date(),
                 {"USD": "0.9234", "GBP": "1.1650", "JPY": ("0.6123", 100)})
    print(f"central bank feed at {bank.url}/api/reference-rates/YYYY-MM-DD")
    bank._server.serve_forever()


if __name__ == "__main__":
    main()
