"""The scheduled jobs of a deployment, declared here in code, and how one runs: each run
is recorded (broadcast_job_run) before it starts and when it ends, in transactions of
its own, so a crash mid-run leaves a trace and a restart knows what it missed.

A job takes the database (and the time and time zone it runs for), never a session: it
opens its own transactions (core.db.Database.transaction)."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from broadcast.job_runs import finish_job_run, start_job_run
from broadcast.models import JobRun
from broadcast.upkeep import run_loyalty_upkeep
from core.clock import utcnow
from core.db import Database
from core.settings import get_settings
from loyalty.rfm import recompute_scores
from loyalty.tag_rules import sync_rfm_tags
from loyalty.visit_summary import rebuild

log = logging.getLogger(__name__)

JobWork = Callable[[Database, datetime, str], Awaitable[Mapping[str, int]]]


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    name: str
    description: str
    cron: Mapping[str, int | str]  # CronTrigger fields, in the deployment's time zone
    work: JobWork  # (db, now, timezone) -> counts of what it did

    def trigger(self, timezone: tzinfo) -> CronTrigger:
        """When it runs, in the deployment's local time."""
        return CronTrigger(timezone=timezone, **self.cron)

    def next_run_after(self, moment: datetime, timezone: tzinfo) -> datetime:
        """The first scheduled time strictly after `moment`."""
        # A CronTrigger without an end date always has a next time (APScheduler 3 is untyped).
        fire_time: datetime = self.trigger(timezone).get_next_fire_time(moment, moment)
        return fire_time


async def _loyalty_upkeep(db: Database, now: datetime, timezone: str) -> Mapping[str, int]:
    return (await run_loyalty_upkeep(db, now=now, timezone=timezone)).counts()


async def _rfm_recompute(db: Database, now: datetime, timezone: str) -> Mapping[str, int]:
    settings = get_settings()
    async with db.transaction() as session:
        report = await recompute_scores(
            session, as_of=now.astimezone(ZoneInfo(timezone)).date(), timezone=timezone,
            window_days=settings.rfm_window_days, now=now, rules=settings.rfm_segments,
            frequency_thresholds=settings.rfm_frequency_thresholds)
        tags = await sync_rfm_tags(session, now=now)
    # The segments' visit summary, rebuilt in a transaction of its own.
    async with db.transaction() as session:
        summarised = await rebuild(session, now=now, timezone=timezone)
    return {**report.counts(), "tags_added": tags.added, "tags_removed": tags.removed,
            "visit_summary_members": summarised}


JOBS: tuple[ScheduledJob, ...] = (
    ScheduledJob(
        name="loyalty-upkeep",
        description="Expire stamps and rewards, grant birthday rewards, move tiers, "
        "purge expired short codes.",
        cron={"hour": 3, "minute": 0},
        work=_loyalty_upkeep,
    ),
    ScheduledJob(
        name="rfm-recompute",
        description="Recompute members' RFM scores and segments as of today; record "
        "segment changes; rebuild the segments' visit summary.",
        cron={"hour": 3, "minute": 30},
        work=_rfm_recompute,
    ),
)


def find_job(name: str, jobs: tuple[ScheduledJob, ...] = JOBS) -> ScheduledJob | None:
    return next((job for job in jobs if job.name == name), None)


async def run_job(db: Database, job: ScheduledJob, *, cause: str, timezone: str) -> JobRun:
    """Runs `job` now and records the run; returns the finished record. A failure is
    recorded (and logged), not raised; a cancellation is recorded as interrupted."""
    async with db.transaction() as session:
        run = await start_job_run(session, job=job.name, cause=cause, now=utcnow())
    try:
        counts = dict(await job.work(db, run.started_at, timezone))
    except asyncio.CancelledError:
        # The process is stopping: say so, even while being cancelled.
        await asyncio.shield(_finish(db, run.id, outcome="interrupted"))
        raise
    except Exception as error:
        log.exception("scheduled job %s failed", job.name)
        return await _finish(db, run.id, outcome="failed",
                             error=f"{type(error).__name__}: {error}")
    return await _finish(db, run.id, outcome="succeeded", counts=counts)


async def _finish(db: Database, run_id: int, *, outcome: str,
                  counts: dict[str, int] | None = None, error: str | None = None) -> JobRun:
    async with db.transaction() as session:
        return await finish_job_run(session, run_id=run_id, outcome=outcome, now=utcnow(),
                                    counts=counts, error=error)
