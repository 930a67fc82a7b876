"""The one scheduler of a deployment.

Every web process (and `punchline scheduler`) may start one, but only the leader
(broadcast.leadership) runs jobs: APScheduler alone would run each job once per worker
under `uvicorn --workers N` (fastapi#12010, apscheduler#160). A standby tries to take the
lead every `check_seconds`; the leader checks as often that it still holds it, and again
right before each run.

Jobs are declared in code (broadcast.jobs.JOBS) with cron triggers in the deployment's
TIMEZONE and rebuilt whenever a process takes the lead, so nothing needs a job store.
What downtime skipped is read from the recorded runs instead: a job whose latest run
failed, or that was due since its latest run began, runs once (coalesced) on taking the
lead. A job never run at all first runs at its next scheduled time."""

import asyncio
import logging
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from broadcast.job_runs import last_job_runs
from broadcast.jobs import JOBS, ScheduledJob, run_job
from broadcast.leadership import Leadership, leadership_for
from broadcast.models import JobRun
from core.clock import utcnow
from core.db import Database

log = logging.getLogger(__name__)


def missed(job: ScheduledJob, last_run: JobRun | None, now: datetime, zone: tzinfo) -> bool:
    """Whether `job` owes a run: its latest run did not succeed (it failed, or the process
    died under it), or the job was due since it began. A job never run owes nothing."""
    if last_run is None:
        return False
    if last_run.outcome != "succeeded":
        return True
    return job.next_run_after(last_run.started_at, zone) <= now


class Scheduler:
    """Runs `jobs` on their schedules while this process leads; stands by otherwise."""

    def __init__(
        self,
        db: Database,
        *,
        timezone: str,
        check_seconds: float,
        jobs: tuple[ScheduledJob, ...] = JOBS,
        leadership: Leadership | None = None,
    ) -> None:
        self._db = db
        self._timezone = timezone
        self._zone = ZoneInfo(timezone)
        self._check_seconds = check_seconds
        self._jobs = jobs
        self._leadership = leadership or leadership_for(db)
        self._apscheduler: AsyncIOScheduler | None = None
        self._watch: asyncio.Task[None] | None = None
        self._job_tasks: set[asyncio.Task[object]] = set()
        self._running_jobs: set[str] = set()

    @property
    def is_leader(self) -> bool:
        return self._apscheduler is not None

    def next_run_times(self) -> dict[str, datetime | None]:
        """When each job runs next in this process (None on a standby)."""
        if self._apscheduler is None:
            return {job.name: None for job in self._jobs}
        return {job.name: self._apscheduler.get_job(job.name).next_run_time
                for job in self._jobs}

    async def start(self) -> None:
        """Tries to lead at once, then keeps trying (or checking) in the background."""
        try:
            if await self._leadership.try_acquire():
                await self._lead()
        except BaseException:
            await self._leadership.release()
            raise
        self._watch = asyncio.create_task(self._watch_leadership())

    async def stop(self) -> None:
        """Stops scheduling, interrupts running jobs (recorded as such) and frees the lead."""
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
            self._watch = None
        await self._step_down()
        await self._leadership.release()

    async def _watch_leadership(self) -> None:
        while True:
            await asyncio.sleep(self._check_seconds)
            try:
                await self._check_leadership()
            except Exception:
                # The database may be briefly away: keep watching, never die quietly.
                log.exception("scheduler leadership check failed")

    async def _check_leadership(self) -> None:
        if self.is_leader and not await self._leadership.still_held():
            log.warning("scheduler lost the lead; standing by")
            await self._step_down()
        elif not self.is_leader and await self._leadership.try_acquire():
            log.info("scheduler took the lead")
            await self._lead()

    async def _lead(self) -> None:
        now = utcnow()
        async with self._db.transaction() as session:
            last_runs = await last_job_runs(session, jobs=[job.name for job in self._jobs])
        apscheduler = AsyncIOScheduler(timezone=self._zone)
        apscheduler.start()
        for job in self._jobs:
            scheduled = apscheduler.add_job(
                self._on_schedule, job.trigger(self._zone), args=[job], id=job.name,
                name=job.name, coalesce=True, misfire_grace_time=None,
            )
            log.info("scheduled job %s next runs at %s", job.name, scheduled.next_run_time)
        self._apscheduler = apscheduler
        for job in self._jobs:
            if missed(job, last_runs.get(job.name), now, self._zone):
                log.info("scheduled job %s missed a run; running it now", job.name)
                self._spawn(job, "catch-up")

    async def _on_schedule(self, job: ScheduledJob) -> None:
        # The run is a task of ours, not APScheduler's: stopping cancels it cleanly.
        self._spawn(job, "schedule")

    def _spawn(self, job: ScheduledJob, cause: str) -> None:
        task = asyncio.create_task(self._fire(job, cause))
        self._job_tasks.add(task)
        task.add_done_callback(self._job_tasks.discard)

    async def _fire(self, job: ScheduledJob, cause: str) -> None:
        if job.name in self._running_jobs:
            log.info("scheduled job %s is still running; this run is skipped", job.name)
            return
        self._running_jobs.add(job.name)
        try:
            if not await self._leadership.still_held():
                log.warning("scheduled job %s skipped: this process no longer leads", job.name)
                return
            await run_job(self._db, job, cause=cause, timezone=self._timezone)
        finally:
            self._running_jobs.discard(job.name)

    async def _step_down(self) -> None:
        apscheduler, self._apscheduler = self._apscheduler, None
        if apscheduler is not None:
            apscheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down in a loop callback
        for task in self._job_tasks:
            task.cancel()
        await asyncio.gather(*self._job_tasks, return_exceptions=True)
