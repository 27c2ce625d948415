"""Events per second from the outbox to a webhook receiver and to NATS JetStream, with
one and two ``erp worker`` processes, and the lag from commit to delivery.

Each configuration gets a fresh database with one destination: a webhook pointing at a
real HTTP server in this process (answering 200 over keep-alive connections), or a NATS
JetStream sink whose subject this process also subscribes to. The workers are real
``erp worker`` processes. Two phases:

- throughput: N events committed at once (several per record, as an order's life makes
  them); per_s = N / the time from that commit to the last event received;
- lag: events committed in small transactions at half the measured rate for a few
  seconds; lag_p50_ms and lag_p99_ms = the median and the 99th percentile of (received -
  committed).

Every event id is counted at the receiver: lost (never received), duplicated (received
more than once) and out_of_order (an event of a record received before an earlier one).

    python bench/events.py [--quick] [--database-url URL] [--sinks webhook,nats]
                           [--workers 1,2]

``worker_cpu_ms_per_event`` is the workers' CPU per event in the throughput phase, and
``cpu_bound_per_s`` what the machine's cores would allow at that cost were they given to
the workers alone (the database, the broker and the receiver also run here).

prints one line per configuration:
    events backend=postgresql sink=nats workers=2 per_s=... lag_p99_ms=... lost=0 duplicated=0
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from _database import scratch_database

from erp_core.db.types import utcnow
from erp_core.events.outbox import OutboxEvent
from erp_core.kernel import Kernel
from erp_core.settings import Settings

EVENTS_PER_RECORD = 4
NATS_URL = "nats://127.0.0.1:4222"


class Arrivals:
    """Every event id received, with the wall-clock time it arrived."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[int, float] = {}
        self.order: list[int] = []
        self.count = 0

    def arrived(self, event_id: int) -> None:
        now = time.time()
        with self.lock:
            self.count += 1
            if event_id not in self.times:
                self.times[event_id] = now
                self.order.append(event_id)

    def wait_for(self, ids: set[int], timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if ids <= self.times.keys():
                    return max(self.times[i] for i in ids)
            time.sleep(0.005)
        return time.time()


@contextmanager
def webhook_receiver(arrivals: Arrivals) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            arrivals.arrived(json.loads(body)["id"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/events"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def nats_subscriber(arrivals: Arrivals, subject: str) -> Iterator[None]:
    import nats

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def on_message(message: Any) -> None:
        arrivals.arrived(json.loads(message.data)["id"])

    async def subscribe() -> Any:
        connection = await nats.connect(NATS_URL)
        await connection.subscribe(subject, cb=on_message)
        await connection.flush()
        return connection

    connection = asyncio.run_coroutine_threadsafe(subscribe(), loop).result(10)
    try:
        yield
    finally:
        asyncio.run_coroutine_threadsafe(connection.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)


def delete_stream(stream: str) -> None:
    import nats

    async def delete() -> None:
        connection = await nats.connect(NATS_URL)
        try:
            await connection.jetstream().delete_stream(stream)
        finally:
            await connection.close()

    asyncio.run(delete())


_INSERT = sa.insert(OutboxEvent.__table__)


def commit_events(kernel: Kernel, first_record: int, count: int) -> tuple[list[int], float]:
    """``count`` events in one transaction, EVENTS_PER_RECORD per record; their ids and
    the wall-clock time of the commit."""
    now = utcnow()
    rows = [{"name": f"bench.order.step{n % EVENTS_PER_RECORD}", "entity": "bench.order",
             "record_id": first_record + n // EVENTS_PER_RECORD, "payload": {"n": n},
             "created_at": now} for n in range(count)]
    rows.sort(key=lambda row: (row["payload"]["n"] % EVENTS_PER_RECORD, row["record_id"]))
    with kernel.engine.begin() as connection:
        ids = list(connection.execute(_INSERT.returning(OutboxEvent.id), rows).scalars())
    return ids, time.time()


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU the processes have used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


@contextmanager
def workers(database_url: str, count: int) -> Iterator[list[int]]:
    env = {**os.environ, "ERP_DATABASE_URL": database_url, "ERP_WORKER_POLL_SECONDS": "0.05",
           "ERP_WORKER_PURGE_SECONDS": "3600"}
    processes = [subprocess.Popen([sys.executable, "-m", "erp_core", "worker",
                                   "--concurrency", "16"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for _ in range(count)]
    try:
        yield [process.pid for process in processes]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_until_idle(kernel: Kernel, timeout: float = 30) -> None:
    """Until the workers have handled every event there is (they are up and polling)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with kernel.engine.connect() as connection:
            if not connection.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)
                                     .where(OutboxEvent.published_at.is_(None))):
                return
        time.sleep(0.05)
    raise SystemExit("the workers did not start")


def out_of_order(order: list[int], record_of: dict[int, int]) -> int:
    last: dict[int, int] = {}
    wrong = 0
    for event_id in order:
        record = record_of.get(event_id)
        if record is None:
            continue
        if last.get(record, 0) > event_id:
            wrong += 1
        last[record] = max(last.get(record, 0), event_id)
    return wrong


def run(database_url: str, sink: str, worker_count: int, events: int,
        lag_seconds: float) -> dict[str, Any]:
    arrivals = Arrivals()
    kernel = Kernel(Settings.from_env({}, database_url=database_url))
    kernel.initialise()
    kernel.boot()
    stream = f"BENCH{uuid.uuid4().hex[:8].upper()}"
    prefix = f"bench.{stream.lower()}"

    @contextmanager
    def destination() -> Iterator[None]:
        if sink == "webhook":
            with webhook_receiver(arrivals) as url:
                with kernel.context() as erp:
                    erp.records("kernel.webhook").create(
                        {"url": url, "patterns": ["bench.*"],
                         "secret": "bench-secret-0123456789", "active": True})
                yield
        else:
            with kernel.context() as erp:
                erp.records("kernel.event_sink").create(
                    {"name": "bench", "driver": "nats", "patterns": ["bench.*"],
                     "settings": {"url": NATS_URL, "stream": stream, "subject_prefix": prefix},
                     "secrets": {}, "active": True})
            try:
                with nats_subscriber(arrivals, f"{prefix}.>"):
                    yield
            finally:
                delete_stream(stream)

    sent: set[int] = set()
    with destination(), workers(database_url, worker_count) as pids:
        wait_until_idle(kernel)
        cpu_before = cpu_seconds(pids)
        ids, committed = commit_events(kernel, 1, events)
        sent.update(ids)
        last = arrivals.wait_for(set(ids), timeout=max(60, events / 100))
        per_s = len(ids) / max(last - committed, 1e-9)
        worker_cpu_ms = (cpu_seconds(pids) - cpu_before) * 1000 / len(ids)

        rate = per_s / 2
        per_commit = max(1, int(rate / 50))  # about 50 commits a second
        lags: list[float] = []
        commits: list[tuple[list[int], float]] = []
        start = time.monotonic()
        record = 10 ** 6
        while time.monotonic() - start < lag_seconds:
            due = start + len(commits) * per_commit / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            batch, at = commit_events(kernel, record, per_commit)
            record += per_commit
            commits.append((batch, at))
        lag_ids = {i for batch, _ in commits for i in batch}
        sent.update(lag_ids)
        arrivals.wait_for(lag_ids, timeout=60)
        with arrivals.lock:
            for batch, at in commits:
                lags.extend(arrivals.times[i] - at for i in batch if i in arrivals.times)
            received = set(arrivals.times)
            duplicated = arrivals.count - len(arrivals.times)
            order = list(arrivals.order)
    with kernel.engine.connect() as connection:
        record_of = dict(connection.execute(sa.select(OutboxEvent.id, OutboxEvent.record_id)
                                            .where(OutboxEvent.entity == "bench.order")).all())
    kernel.close()
    lags.sort()
    return {"per_s": round(per_s, 1),
            "lag_p50_ms": round(lags[(len(lags) - 1) // 2] * 1000, 1) if lags else None,
            "lag_p99_ms": round(lags[int(0.99 * (len(lags) - 1))] * 1000, 1) if lags else None,
            "lag_rate_per_s": round(rate, 1),
            "worker_cpu_ms_per_event": round(worker_cpu_ms, 3),
            "cpu_bound_per_s": round(os.cpu_count() * 1000 / worker_cpu_ms)
            if worker_cpu_ms else None,
            "lost": len(sent - received), "duplicated": duplicated,
            "out_of_order": out_of_order(order, record_of)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="A short run.")
    parser.add_argument("--database-url", help="postgresql://... (default: SQLite, one worker)")
    parser.add_argument("--sinks", default="nats,webhook")
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args(argv)
    events, lag_seconds = (2000, 3.0) if args.quick else (20000, 10.0)
    backend = "postgresql" if args.database_url and args.database_url.startswith(
        "postgres") else "sqlite"
    counts = [int(n) for n in args.workers.split(",")]
    if backend == "sqlite":
        counts = [1]  # SQLite runs one worker
    for sink in args.sinks.split(","):
        for count in counts:
            with scratch_database(args.database_url) as url:
                figures = run(url, sink, count, events, lag_seconds)
            print(f"events backend={backend} sink={sink} workers={count} events={events} "
                  + " ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


if __name__ == "__main__":
    main()
