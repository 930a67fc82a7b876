from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from broadcast.job_runs import finish_job_run, start_job_run
from broadcast.leadership import AdvisoryLockLeadership
from broadcast.models import JobRun
from broadcast.scheduler import Scheduler, missed
from core.clock import utcnow
from core.db import Database
from core.settings import Settings
from tests.harness import running_app
from tests.scheduler.helpers import RecordingJob, finished_runs, job_runs, wait_until

DAY = timedelta(days=1)
TAIPEI = ZoneInfo("Asia/Taipei")


async def has_runs(db: Database, recording: RecordingJob, count: int) -> bool:
    return len(await finished_runs(db, recording.job.name)) >= count


def scheduler(db: Database, *jobs: RecordingJob) -> Scheduler:
    return Scheduler(db, timezone="Asia/Taipei", check_seconds=0.05,
                     jobs=tuple(recording.job for recording in jobs))


async def record_run(db: Database, name: str, *, started_at: datetime, outcome: str) -> None:
    async with db.transaction() as session:
        run = await start_job_run(session, job=name, cause="schedule", now=started_at)
        await finish_job_run(session, run_id=run.id, outcome=outcome, now=started_at)


@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
async def test_a_run_missed_while_down_runs_once_when_the_scheduler_starts(
    db: Database, outcome: str
) -> None:
    recording = RecordingJob()
    await record_run(db, recording.job.name, started_at=utcnow() - 2 * DAY, outcome=outcome)
    instance = scheduler(db, recording)
    await instance.start()
    try:
        await wait_until(lambda: has_runs(db, recording, 2))
    finally:
        await instance.stop()
    runs = await job_runs(db, recording.job.name)
    assert [(run.cause, run.outcome) for run in runs] == [
        ("schedule", outcome), ("catch-up", "succeeded")]
    assert runs[1].counts == {"runs": 1} and len(recording.runs) == 1


async def test_a_job_not_due_since_its_last_run_waits_for_its_time(db: Database) -> None:
    # A successful run since the last 03:00 has nothing to catch up on.
    recording = RecordingJob()
    instance = scheduler(db, recording)
    last_three = recording.job.next_run_after(utcnow() - DAY, TAIPEI)
    await record_run(db, recording.job.name, started_at=last_three, outcome="succeeded")
    await instance.start()
    await instance.stop()
    assert recording.runs == []
    assert instance.next_run_times() == {recording.job.name: None}


async def test_missed_runs_are_judged_by_the_schedule_in_local_time() -> None:
    job = RecordingJob().job  # daily at 03:00 local

    def local(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 11, day, hour, minute, tzinfo=TAIPEI)

    def last(started: datetime, outcome: str = "succeeded") -> JobRun:
        return JobRun(job=job.name, cause="schedule", started_at=started, outcome=outcome)

    assert not missed(job, None, local(3, 10), TAIPEI)  # a new job waits for its time
    assert not missed(job, last(local(2, 3)), local(3, 2, 59), TAIPEI)
    assert missed(job, last(local(2, 3)), local(3, 3, 1), TAIPEI)
    assert not missed(job, last(local(3, 3)), local(3, 3, 1), TAIPEI)
    assert not missed(job, last(local(3, 3)), local(3, 3, 1), ZoneInfo("Asia/Tokyo"))
    assert missed(job, last(local(3, 3), outcome="failed"), local(3, 3, 1), TAIPEI)
    assert missed(job, last(local(3, 3), outcome="running"), local(3, 9), TAIPEI)


async def test_a_job_runs_at_its_scheduled_time(db: Database) -> None:
    recording = RecordingJob(cron={"second": "*"})
    instance = scheduler(db, recording)
    await instance.start()
    try:
        assert instance.next_run_times()[recording.job.name] is not None
        await wait_until(lambda: has_runs(db, recording, 1))
    finally:
        await instance.stop()
    runs = await job_runs(db, recording.job.name)
    assert runs and {run.cause for run in runs} == {"schedule"}
    assert {run.outcome for run in runs} == {"succeeded"}


async def test_stopping_interrupts_a_running_job_and_records_it(db: Database) -> None:
    recording = RecordingJob(block=True)
    await record_run(db, recording.job.name, started_at=utcnow() - 2 * DAY, outcome="failed")
    instance = scheduler(db, recording)
    await instance.start()
    await recording.started.wait()
    await instance.stop()
    runs = await job_runs(db, recording.job.name)
    assert [run.outcome for run in runs] == ["failed", "interrupted"]
    assert runs[1].finished_at is not None


async def test_the_app_runs_the_scheduler_and_stops_it_cleanly(
    db: Database, settings: Settings
) -> None:
    settings = settings.model_copy(update={"scheduler_enabled": True})
    async with running_app(settings) as harness:
        scheduler = harness.app.state.scheduler
        assert scheduler.is_leader
        assert (await harness.client.get("/healthz")).json() == {"ok": True}
    assert not scheduler.is_leader
    if not db.is_sqlite:
        other = AdvisoryLockLeadership(db.url)
        assert await other.try_acquire()
        await other.release()


async def test_the_app_runs_no_scheduler_when_it_is_disabled(settings: Settings) -> None:
    async with running_app(settings.model_copy(update={"scheduler_enabled": False})) as harness:
        assert harness.app.state.scheduler is None
