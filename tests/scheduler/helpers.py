"""Waiting for what a scheduler does in the background, and jobs to schedule in tests."""

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from sqlalchemy import select

from broadcast.jobs import ScheduledJob
from broadcast.models import JobRun
from core.db import Database

POLL_SECONDS = 0.02
# A bound on waiting, so a broken scheduler fails the test instead of hanging it; the
# tests never depend on how long anything takes.
GIVE_UP_SECONDS = 20


async def wait_until(condition: Callable[[], bool | Awaitable[bool]]) -> None:
    async with asyncio.timeout(GIVE_UP_SECONDS):
        while True:
            met = condition()
            if await met if inspect.isawaitable(met) else met:
                return
            await asyncio.sleep(POLL_SECONDS)


async def finished_runs(db: Database, name: str) -> list[JobRun]:
    return [run for run in await job_runs(db, name) if run.finished_at is not None]


class RecordingJob:
    """A job whose runs are counted; `block` keeps each run going until released."""

    def __init__(self, name: str = "test-job", *, cron: Mapping[str, int | str] | None = None,
                 block: bool = False) -> None:
        self.runs: list[datetime] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        if not block:
            self.release.set()
        self.job = ScheduledJob(name=name, description="counts its runs",
                                cron=cron or {"hour": 3, "minute": 0}, work=self._work)

    async def _work(self, db: Database, now: datetime, timezone: str) -> Mapping[str, int]:
        self.runs.append(now)
        self.started.set()
        await self.release.wait()
        return {"runs": len(self.runs)}


async def job_runs(db: Database, name: str) -> list[JobRun]:
    async with db.transaction() as session:
        runs = await session.scalars(select(JobRun).where(JobRun.job == name)
                                     .order_by(JobRun.id))
        return list(runs.all())
