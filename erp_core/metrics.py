"""Prometheus metrics of a running ERP: the metric objects and the ``/metrics`` text.

Counters and histograms live at module level, as ``prometheus_client`` expects, so every
part of the process (API middleware, job runner, delivery worker, inbound webhooks)
increments the same objects. Figures that belong to the database rather than to a
process (outbox backlog, pool use) are read when ``/metrics`` is scraped.

Each process counts its own requests and runs. With several server processes
(``erp serve --workers N``) a scrape reaches one of them; set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory shared by the processes (before they
start) and every process writes its counts there, and any of them answers with the sum
(``prometheus_client`` multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from erp_core.db.types import utcnow
from erp_core.events.outbox import OutboxEvent

if TYPE_CHECKING:
    from erp_core.context import KernelServices

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUESTS = Counter(
    "erp_http_requests_total", "HTTP requests answered, by route template and status.",
    ["method", "route", "status"])
HTTP_REQUEST_SECONDS = Histogram(
    "erp_http_request_duration_seconds", "Time to answer an HTTP request, by route template.",
    ["method", "route"])
DELIVERIES = Counter(
    "erp_deliveries_total", "Outbox event deliveries, by target (a webhook subscription"
    " or an event sink) and outcome (delivered, failed, dead_lettered).",
    ["target", "outcome"])
DELIVERY_SECONDS = Histogram(
    "erp_delivery_duration_seconds", "Time to deliver one event to a target.", ["target"])
JOB_RUNS = Counter(
    "erp_job_runs_total", "Periodic job runs, by job and outcome (succeeded, failed).",
    ["job", "outcome"])
JOB_SECONDS = Histogram(
    "erp_job_duration_seconds", "Time a periodic job ran.", ["job"],
    buckets=(0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600))
INBOUND_WEBHOOKS = Counter(
    "erp_inbound_webhooks_total", "Inbound webhooks, by driver and outcome (handled,"
    " duplicate, rejected, refused, too_large, rate_limited, unknown_account).",
    ["driver", "outcome"])

_UNDELIVERED = sa.select(sa.func.count(), sa.func.min(OutboxEvent.created_at)).where(
    OutboxEvent.published_at.is_(None))


class DatabaseCollector(Collector):
    """Figures read at scrape time: this process's connection pool and the outbox."""

    def __init__(self, kernel: KernelServices) -> None:
        self.kernel = kernel

    def collect(self) -> Iterator[Metric]:
        pool = self.kernel.engine.pool
        connections = GaugeMetricFamily(
            "erp_db_pool_connections", "Connections of this process's database pool, by"
            " state (in_use, idle).", labels=["state"])
        in_use = getattr(pool, "checkedout", None)
        idle = getattr(pool, "checkedin", None)
        if in_use is not None and idle is not None:
            connections.add_metric(["in_use"], in_use())
            connections.add_metric(["idle"], idle())
        yield connections
        size = getattr(pool, "size", None)
        if size is not None:
            yield GaugeMetricFamily("erp_db_pool_size", "Connections the pool keeps open.",
                                    value=size())
        with self.kernel.reading() as connection:
            backlog, oldest = connection.execute(_UNDELIVERED).one()
        yield GaugeMetricFamily("erp_outbox_backlog_events",
                                "Outbox events not yet delivered.", value=backlog)
        age = 0.0
        if oldest is not None:
            if oldest.tzinfo is None:  # SQLite hands back what was stored, in UTC
                oldest = oldest.replace(tzinfo=utcnow().tzinfo)
            age = max(0.0, (utcnow() - oldest).total_seconds())
        yield GaugeMetricFamily("erp_outbox_oldest_undelivered_age_seconds",
                                "Age of the oldest undelivered outbox event (0 when none).",
                                value=age)


def render(kernel: KernelServices) -> bytes:
    """The ``/metrics`` document: the process's (or, in multiprocess mode, every
    process's) counters, then the database's figures."""
    if os.environ.get(MULTIPROCESS_DIRECTORY):
        from prometheus_client import multiprocess

        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector(kernel))
    return generate_latest(counted) + generate_latest(database)
