"""A request-rate limit per inbound webhook account, kept by each server process.

Inbound webhook routes are public, so a flood at one account must not take the server's
threads and database connections from everyone else. A token bucket per
``(driver, account)``: ``burst`` requests at once, refilled at ``rate`` per second; a
request finding the bucket empty is told when a token will be there (``Retry-After``).
The limit is per process: with N server processes an account may send up to N times as
much, which bounds the damage as intended without a shared store.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

MAX_TRACKED = 10_000
"""Buckets kept at most; the least recently used goes first (a full bucket is what a
forgotten account gets back, so forgetting only ever errs on the generous side)."""


class RateLimiter:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, max(1, burst)
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_for(self, key: tuple[str, str], now: float | None = None) -> int:
        """Take a token for ``key``: 0 when one was there, else the whole seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, then = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            wait = 0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = max(1, math.ceil((1 - tokens) / self.rate)) if self.rate > 0 else 60
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > MAX_TRACKED:
                self._buckets.popitem(last=False)
            return wait
