"""Periodic jobs: declared by plugins, each due time run once across runners."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from erp_core.cli import main
from erp_core.jobs import JobOutcome, Schedule, job_statuses, run_due_jobs, run_job
from erp_core.kernel import Kernel

AT = dt.datetime(2026, 12, 7, 2, 17, 30, tzinfo=dt.UTC)


@pytest.fixture
def ticker(boot_plugins: Callable[..., Kernel]) -> Kernel:
    kernel = boot_plugins("ticker")
    ticker_module().RUNS.clear()
    ticker_module().FAILING.clear()
    return kernel


def ticker_module():
    import erp_test_ticker

    return erp_test_ticker


def ran(kernel_runs: list) -> list[str]:
    return sorted(run.name for run in kernel_runs)


def test_an_interval_is_due_on_multiples_of_itself_from_the_epoch():
    every_five = Schedule(every=dt.timedelta(minutes=5))
    assert every_five.due_at_or_before(AT) == AT.replace(minute=15, second=0)
    assert every_five.due_after(AT) == AT.replace(minute=20, second=0)


def test_a_cron_expression_is_due_at_its_matching_minutes_in_utc():
    nightly = Schedule(cron="30 2 * * *")
    assert nightly.due_at_or_before(AT) == AT.replace(day=6, hour=2, minute=30, second=0)
    assert nightly.due_after(AT) == AT.replace(hour=2, minute=30, second=0)
    assert Schedule(cron="*/15 * * * *").due_at_or_before(AT.replace(minute=15, second=0)) \
        == AT.replace(minute=15, second=0)


def test_a_bad_cron_expression_is_refused():
    from erp_core.errors import ValidationError

    with pytest.raises(ValidationError, match="cron expression"):
        Schedule(cron="every day")


def test_each_due_time_runs_once_and_the_next_one_runs_again(ticker):
    first = run_due_jobs(ticker, AT)
    again = run_due_jobs(ticker, AT + dt.timedelta(seconds=20))  # same minute: nothing due
    next_minute = run_due_jobs(ticker, AT + dt.timedelta(minutes=1))

    assert "ticker.every_minute" in ran(first) and "ticker.quarter_hourly" in ran(first)
    assert ran(again) == []
    assert ran(next_minute) == ["ticker.every_minute"]
    assert ticker_module().RUNS.count("every_minute") == 2


def test_two_runners_on_separate_connections_run_a_due_time_once(ticker, make_kernel):
    runners = [make_kernel().boot() for _ in range(2)]
    start = threading.Barrier(len(runners))
    results: list[list] = []

    def tick(kernel: Kernel) -> None:
        start.wait()
        results.append(run_due_jobs(kernel, AT))

    threads = [threading.Thread(target=tick, args=(kernel,)) for kernel in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(results) == 2
    every_minute = [run for runs in results for run in runs if run.name == "ticker.every_minute"]
    assert len(every_minute) == 1
    assert ticker_module().RUNS.count("every_minute") == 1
    assert ticker_module().RUNS.count("quarter_hourly") == 1


def test_a_failing_job_records_its_error_and_runs_again_at_its_next_due_time(ticker):
    ticker_module().FAILING.add("every_minute")

    [failed] = [r for r in run_due_jobs(ticker, AT) if r.name == "ticker.every_minute"]
    status = {s["name"]: s for s in job_statuses(ticker, AT)}["ticker.every_minute"]
    ticker_module().FAILING.clear()
    [retried] = [r for r in run_due_jobs(ticker, AT + dt.timedelta(minutes=1))
                 if r.name == "ticker.every_minute"]

    assert failed.outcome is JobOutcome.FAILED
    assert failed.error == "RuntimeError: every_minute broke"
    assert status["outcome"] == "failed" and "every_minute broke" in status["error"]
    assert status["next_run"] == (AT + dt.timedelta(seconds=30)).isoformat()
    assert retried.outcome is JobOutcome.SUCCEEDED


def test_a_job_run_by_hand_runs_now_and_leaves_the_schedule_alone(ticker):
    by_hand = run_job(ticker, "ticker.quarter_hourly")
    scheduled = run_due_jobs(ticker, AT)

    assert by_hand.outcome is JobOutcome.SUCCEEDED and by_hand.due_at is None
    assert "ticker.quarter_hourly" in ran(scheduled)


def test_the_kernel_and_the_plugins_declare_their_jobs(ticker):
    names = {status["name"] for status in job_statuses(ticker)}
    assert {"kernel.purge_idempotency_keys", "kernel.purge_inbound_webhooks",
            "ticker.every_minute", "ticker.quarter_hourly"} <= names


def test_the_purge_job_forgets_expired_idempotency_keys(ticker):
    from erp_core.db.types import utcnow
    from erp_core.idempotency import IdempotencyRecord

    with ticker.transaction() as session:
        session.add_all([
            IdempotencyRecord(key="old", fingerprint="f", expires_at=utcnow()
                              - dt.timedelta(seconds=1)),
            IdempotencyRecord(key="new", fingerprint="f", expires_at=utcnow()
                              + dt.timedelta(hours=1))])

    result = run_job(ticker, "kernel.purge_idempotency_keys")

    assert result.summary == "1 expired idempotency keys purged"
    with ticker.transaction() as session:
        assert [r.key for r in session.query(IdempotencyRecord)] == ["new"]


def test_erp_jobs_lists_runs_and_runs_due_jobs(ticker, database_url):
    cli = CliRunner()
    env = {"ERP_DATABASE_URL": database_url}

    due = cli.invoke(main, ["jobs", "run-due"], env=env)
    listed = cli.invoke(main, ["jobs", "list", "--json"], env=env)
    by_hand = cli.invoke(main, ["jobs", "run", "ticker.every_minute"], env=env)
    unknown = cli.invoke(main, ["jobs", "run", "ticker.nothing"], env=env)

    assert due.exit_code == 0 and "ticker.every_minute: succeeded" in due.output
    statuses = {s["name"]: s for s in json.loads(listed.output)}
    assert statuses["ticker.every_minute"]["outcome"] == "succeeded"
    assert statuses["ticker.every_minute"]["schedule"] == "every 1m"
    assert statuses["ticker.quarter_hourly"]["schedule"] == "cron */15 * * * *"
    assert by_hand.exit_code == 0 and "succeeded" in by_hand.output
    assert unknown.exit_code == 1 and "there is no job 'ticker.nothing'" in unknown.output
