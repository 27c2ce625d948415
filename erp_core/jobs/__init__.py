"""Periodic jobs that plugins declare (``erp_register_jobs``) and workers run, each due
time once across every process (see ``erp_core.jobs.runs``)."""

from erp_core.jobs.declaration import Job, RegisteredJob
from erp_core.jobs.runs import (
    JobOutcome,
    JobRun,
    job_statuses,
    registered_jobs,
    run_due_jobs,
    run_job,
)
from erp_core.jobs.schedule import Schedule

__all__ = ["Job", "JobOutcome", "JobRun", "RegisteredJob", "Schedule", "job_statuses",
           "registered_jobs", "run_due_jobs", "run_job"]
