"""The record of scheduled job runs: started, finished, and what a restart has missed."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcast.models import JobRun

_ERROR_CHARS = 2000  # enough for the exception's type and message, never a whole dump


async def start_job_run(
    session: AsyncSession, *, job: str, cause: str, now: datetime
) -> JobRun:
    """Records that `job` starts now (cause: schedule, catch-up or manual)."""
    run = JobRun(job=job, cause=cause, started_at=now, outcome="running")
    session.add(run)
    await session.flush()
    return run


async def finish_job_run(
    session: AsyncSession,
    *,
    run_id: int,
    outcome: str,
    now: datetime,
    counts: dict[str, int] | None = None,
    error: str | None = None,
) -> JobRun:
    """Records how run `run_id` ended: succeeded (with its counts), failed (with the
    error) or interrupted (the process stopped under it)."""
    run = await session.get_one(JobRun, run_id)
    run.outcome = outcome
    run.finished_at = now
    run.counts = counts
    run.error = error[:_ERROR_CHARS] if error else None
    await session.flush()
    return run


async def last_job_runs(session: AsyncSession, *, jobs: Sequence[str]) -> dict[str, JobRun]:
    """The latest run of each of `jobs` that has run at all, by job name."""
    latest = (
        select(JobRun.job, func.max(JobRun.id).label("id"))
        .where(JobRun.job.in_(jobs))
        .group_by(JobRun.job)
        .subquery()
    )
    runs = await session.scalars(select(JobRun).join(latest, latest.c.id == JobRun.id))
    return {run.job: run for run in runs.all()}

