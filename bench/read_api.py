"""Requests per second and p99 latency of reading one record through the API, against the
bare stack serving the same row.

``target=product`` is ``GET /api/v1/orders/orders/{id}`` with an admin token on a real
``erp serve --workers 2``; ``target=bare`` is a Litestar app with one synchronous handler
reading the same row through SQLAlchemy Core (``_bare_read_app.py``), under the same
uvicorn and worker count. Both run in the same command on the same database, one after
the other, so ``ratio_to_bare`` (requests per second, product / bare) and
``p99_to_bare`` (p99 latency, product / bare) can be read whatever the machine's speed
today. The load comes from ``wrk`` (``--connections`` keep-alive connections, two
threads) when it is installed, else from threads of keep-alive ``http.client``
connections, which cost the server more of the shared CPU. Prints one line per target:

    read_api backend=postgresql target=product workers=2 connections=32 seconds=10 \
        req_per_s=612.4 p99_ms=98.1 ratio_to_bare=0.71 p99_to_bare=1.20

    python bench/read_api.py [--quick] [--database-url URL] [--seconds N] [--connections N]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from _database import scratch_database
from _http import JsonClient
from order_pipeline import prepare

from erp_core.kernel import Kernel
from erp_core.settings import Settings

BENCH = Path(__file__).parent
SERVER_WORKERS = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, path: str, server: subprocess.Popen[str], log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", path)
            if connection.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.2)
    log.seek(0)
    raise RuntimeError(f"the server did not start:\n{log.read()[-4000:]}")


class Server:
    """A server process started for one target and stopped afterwards."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, probe: str) -> None:
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(command, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, text=True, cwd=BENCH)
        wait_until_up(port, probe, self.process, self.log)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def load_with_wrk(port: int, path: str, headers: dict[str, str], connections: int,
                  seconds: float) -> tuple[float, float]:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], check=True,
                            capture_output=True, text=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"{path} answered errors:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output).groups()
    return rate, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load_with_threads(port: int, path: str, headers: dict[str, str], connections: int,
                      seconds: float) -> tuple[float, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while (start := time.monotonic()) < stop_at:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}")
            mine.append(time.monotonic() - start)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    return len(latencies) / elapsed, p99


def measure(port: int, path: str, headers: dict[str, str], connections: int,
            seconds: float) -> tuple[float, float]:
    load = load_with_wrk if shutil.which("wrk") else load_with_threads
    load(port, path, headers, connections, min(seconds, 2))  # warm-up: pools, statements
    return load(port, path, headers, connections, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 seconds per target")
    parser.add_argument("--database-url", default=os.environ.get("ERP_BENCH_DATABASE_URL"))
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    seconds = 3 if args.quick else args.seconds
    with scratch_database(args.database_url) as database:
        backend = sa.make_url(database).get_backend_name()
        kernel = Kernel(Settings.from_env({}, database_url=database))
        try:
            setup = prepare(kernel, books=False)  # reading an order needs no books
        finally:
            kernel.close()
        pool = str(args.connections // SERVER_WORKERS + 1)
        env = {**os.environ, "ERP_DATABASE_URL": database, "ERP_DATABASE_POOL_SIZE": pool,
               "BARE_DATABASE_URL": database, "BARE_POOL_SIZE": pool}
        headers = {"Authorization": f"Bearer {setup['token']}"}

        port = free_port()
        product = Server([sys.executable, "-m", "erp_core", "serve", "--port", str(port),
                          "--workers", str(SERVER_WORKERS)], env, port, "/health")
        try:
            client = JsonClient("127.0.0.1", port, headers)
            number = 0
            body = {"channel_id": setup["channel"], "customer_id": setup["customer"],
                    "lines": [{"product_id": setup["products"][number], "quantity": "1"}]}
            order_id = client.post("/api/v1/orders/place", body)["id"]
            client.close()
            results = {"product": measure(port, f"/api/v1/orders/orders/{order_id}", headers,
                                          args.connections, seconds)}
        finally:
            product.stop()

        port = free_port()
        bare = Server([sys.executable, "-m", "uvicorn", "--factory", "_bare_read_app:create_app",
                       "--port", str(port), "--workers", str(SERVER_WORKERS),
                       "--log-level", "warning", "--no-access-log"], env, port,
                      f"/orders/{order_id}")
        try:
            results["bare"] = measure(port, f"/orders/{order_id}", {}, args.connections,
                                      seconds)
        finally:
            bare.stop()

    bare_rate, bare_p99 = results["bare"]
    for target in ("product", "bare"):
        rate, p99 = results[target]
        print(f"read_api backend={backend} target={target} workers={SERVER_WORKERS} "
              f"connections={args.connections} seconds={seconds:g} req_per_s={rate:.1f} "
              f"p99_ms={p99:.1f} ratio_to_bare={rate / bare_rate:.2f} "
              f"p99_to_bare={p99 / bare_p99:.2f}", flush=True)


if __name__ == "__main__":
    main()
