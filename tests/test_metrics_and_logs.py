"""What operators read: /metrics (Prometheus) and JSON logs with request ids."""

from __future__ import annotations

import io
import json
import logging

import pytest
from litestar.testing import TestClient

from erp_core.api.app import create_app
from erp_core.jobs import run_job
from erp_core.logs import JsonFormatter


@pytest.fixture
def ticker_app(boot_plugins, make_token):
    kernel = boot_plugins("ticker")
    with TestClient(create_app(kernel)) as client:
        yield kernel, client


def test_metrics_need_the_permission(ticker_app, make_token):
    kernel, client = ticker_app
    nobody = make_token(kernel)

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {nobody}"}
                      ).status_code == 403


def test_metrics_count_requests_by_route_jobs_and_the_outbox(ticker_app, make_token):
    kernel, client = ticker_app
    admin = {"Authorization": f"Bearer {make_token(kernel, 'admin')}"}
    client.get("/api/v1/plugins", headers=admin)
    with kernel.context() as ctx:
        ctx.emit("ticker.thing.happened", "ticker.thing", None, {})
    run_job(kernel, "ticker.quarter_hourly")

    answer = client.get("/metrics", headers=admin)

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert 'erp_http_requests_total{method="GET",route="/api/v1/plugins",status="200"}' in text
    assert 'erp_http_request_duration_seconds_count{method="GET",route="/api/v1/plugins"}' \
        in text
    assert 'erp_job_runs_total{job="ticker.quarter_hourly",outcome="succeeded"}' in text
    assert "erp_outbox_backlog_events 1.0" in text
    assert "erp_outbox_oldest_undelivered_age_seconds" in text
    assert "# TYPE erp_db_pool_connections gauge" in text
    assert "erp_deliveries_total" in text


def test_json_logs_carry_the_request_id_answered_in_x_request_id(ticker_app, make_token):
    _kernel, client = ticker_app
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("erp.access")
    access.addHandler(handler)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        answer = client.get("/health")
        given = client.get("/health", headers={"X-Request-ID": "lb-1234"})
    finally:
        access.removeHandler(handler)
        access.setLevel(level)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert answer.headers["x-request-id"] and given.headers["x-request-id"] == "lb-1234"
    assert [line["request_id"] for line in lines] == [answer.headers["x-request-id"], "lb-1234"]
    assert lines[0]["route"] == "/health" and lines[0]["status"] == 200
    assert lines[0]["level"] == "INFO" and "duration_ms" in lines[0]


def test_in_multiprocess_mode_any_process_reports_the_sum_of_every_process(
        tmp_path, make_kernel):
    import os
    import subprocess
    import sys

    kernel = make_kernel()
    kernel.initialise()
    counts = tmp_path / "metrics"  # a directory of its own: prometheus reads every *.db
    counts.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(counts),
           "ERP_DATABASE_URL": kernel.settings.database_url}
    count_one_run = ("from erp_core import metrics;"
                     " metrics.JOB_RUNS.labels('kernel.x', 'succeeded').inc()")
    for _ in range(2):  # two server processes, each counting one run
        subprocess.run([sys.executable, "-c", count_one_run], env=env, check=True)

    scraped = subprocess.run(
        [sys.executable, "-c", "import sys; from erp_core.kernel import Kernel;"
         " from erp_core.metrics import render; sys.stdout.buffer.write(render(Kernel()))"],
        env=env, capture_output=True)
    assert scraped.returncode == 0, scraped.stderr.decode()[-2000:]
    scraped = scraped.stdout.decode()

    assert 'erp_job_runs_total{job="kernel.x",outcome="succeeded"} 2.0' in scraped
    assert "erp_outbox_backlog_events 0.0" in scraped
