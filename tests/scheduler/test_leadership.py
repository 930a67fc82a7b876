from contextlib import AsyncExitStack

from sqlalchemy import text

from broadcast.leadership import SCHEDULER_LOCK_KEY, AdvisoryLockLeadership
from broadcast.scheduler import Scheduler
from core.db import Database
from tests.scheduler.helpers import RecordingJob, wait_until

CHECK_SECONDS = 0.05


def scheduler(db: Database, *jobs: RecordingJob) -> Scheduler:
    return Scheduler(db, timezone="Asia/Taipei", check_seconds=CHECK_SECONDS,
                     jobs=tuple(recording.job for recording in jobs))


async def started(stack: AsyncExitStack, db: Database, *jobs: RecordingJob) -> Scheduler:
    instance = scheduler(db, *jobs)
    await instance.start()
    stack.push_async_callback(instance.stop)
    return instance


async def test_on_postgresql_exactly_one_of_several_schedulers_leads(
    postgres_db: Database,
) -> None:
    async with AsyncExitStack() as stack:
        schedulers = [await started(stack, postgres_db, RecordingJob()) for _ in range(3)]
        assert [instance.is_leader for instance in schedulers] == [True, False, False]
        assert list(schedulers[1].next_run_times().values()) == [None]


async def test_a_standby_takes_over_when_the_leader_stops(postgres_db: Database) -> None:
    async with AsyncExitStack() as stack:
        leader = await started(stack, postgres_db)
        standby = await started(stack, postgres_db)
        assert (leader.is_leader, standby.is_leader) == (True, False)
        await leader.stop()
        await wait_until(lambda: standby.is_leader)


async def test_a_standby_takes_over_when_the_leaders_connection_dies(
    postgres_db: Database,
) -> None:
    async with AsyncExitStack() as stack:
        leader = await started(stack, postgres_db)
        standby = await started(stack, postgres_db)
        async with postgres_db.engine.connect() as connection:
            await connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND objid = :key AND granted"
            ), {"key": SCHEDULER_LOCK_KEY})
        await wait_until(lambda: standby.is_leader and not leader.is_leader)


async def test_only_the_leader_runs_jobs(postgres_db: Database) -> None:
    every_second = {"second": "*"}
    leaders_job = RecordingJob(cron=every_second)
    standbys_job = RecordingJob(cron=every_second)
    async with AsyncExitStack() as stack:
        await started(stack, postgres_db, leaders_job)
        await started(stack, postgres_db, standbys_job)
        await wait_until(lambda: len(leaders_job.runs) >= 2)
    assert standbys_job.runs == []


async def test_a_stopped_scheduler_frees_the_lock(postgres_db: Database) -> None:
    async with AsyncExitStack() as stack:
        await started(stack, postgres_db)
    other = AdvisoryLockLeadership(postgres_db.url)
    try:
        assert await other.try_acquire()
    finally:
        await other.release()


async def test_on_sqlite_every_scheduler_leads(sqlite_db: Database) -> None:
    async with AsyncExitStack() as stack:
        first = await started(stack, sqlite_db)
        second = await started(stack, sqlite_db)
        assert (first.is_leader, second.is_leader) == (True, True)
