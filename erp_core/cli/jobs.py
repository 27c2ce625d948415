"""``erp jobs``: the periodic jobs of the kernel and the enabled plugins."""

from __future__ import annotations

import json
from typing import Any

import click


@click.group()
def jobs() -> None:
    """Periodic jobs: what runs when, and how it last went."""


@jobs.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_(state: Any, as_json: bool) -> None:
    """Each job's schedule, last run, outcome and next run."""
    from erp_core.jobs import job_statuses

    statuses = job_statuses(state.kernel(boot=True))
    if as_json:
        click.echo(json.dumps(statuses, indent=2))
        return
    for status in statuses:
        last = _minute(status["last_run"]) or "never"
        outcome = status["outcome"] or "-"
        click.echo(f"{status['name']:<34} {status['schedule']:<18} last {last}"
                   f" ({outcome})  next {_minute(status['next_run'])}")
        if status["error"]:
            click.echo(f"    error: {status['error']}")


def _minute(iso: str | None) -> str | None:
    """``2026-12-07 03:00:12`` (UTC) from an ISO timestamp, for the table."""
    return None if iso is None else iso[:19].replace("T", " ")


def _echo_run(run: Any) -> None:
    text = f"{run.name}: {run.outcome}"
    detail = run.error or run.summary
    click.echo(f"{text} ({detail})" if detail else text)


@jobs.command("run")
@click.argument("name")
@click.pass_obj
def run(state: Any, name: str) -> None:
    """Run the job NAME now, whatever its schedule; exit status 1 when it fails."""
    from erp_core.jobs import JobOutcome, run_job

    result = run_job(state.kernel(boot=True), name)
    _echo_run(result)
    if result.outcome is JobOutcome.FAILED:
        raise click.exceptions.Exit(1)


@jobs.command("run-due")
@click.pass_obj
def run_due(state: Any) -> None:
    """Run every job that is due and not yet run by anyone (one tick of a worker)."""
    from erp_core.jobs import run_due_jobs

    runs = run_due_jobs(state.kernel(boot=True))
    for result in runs:
        _echo_run(result)
    if not runs:
        click.echo("no job is due")
