"""`punchline jobs` and `punchline scheduler` against a temporary SQLite database."""

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

from typer.testing import CliRunner

import cli
from core.db import Database
from tests.databases import run_in_thread
from tests.scheduler.helpers import GIVE_UP_SECONDS, job_runs

runner = CliRunner()
PUNCHLINE = Path(sys.executable).parent / "punchline"


def recorded_runs(url, name):
    async def read():
        database = Database(url)
        try:
            return await job_runs(database, name)
        finally:
            await database.dispose()

    return run_in_thread(read())


def test_jobs_list_shows_each_job_and_that_it_never_ran(database_url):
    result = runner.invoke(cli.app, ["jobs", "list"])
    assert result.exit_code == 0, result.output
    assert "loyalty-upkeep" in result.stdout and "never" in result.stdout
    assert "hour=3 minute=0" in result.stdout and "03:00" in result.stdout


def test_jobs_run_runs_the_job_now_and_records_it(database_url):
    result = runner.invoke(cli.app, ["jobs", "run", "loyalty-upkeep"])
    assert result.exit_code == 0, result.output
    assert "loyalty-upkeep succeeded" in result.stdout and "stamps_expired 0" in result.stdout
    [run] = recorded_runs(database_url, "loyalty-upkeep")
    assert (run.cause, run.outcome) == ("manual", "succeeded")
    listed = runner.invoke(cli.app, ["jobs", "list"]).stdout
    assert "succeeded" in listed and "(manual)" in listed and "short_codes_purged 0" in listed


def test_jobs_run_refuses_an_unknown_job(database_url):
    result = runner.invoke(cli.app, ["jobs", "run", "make-coffee"])
    assert result.exit_code == 1
    assert "loyalty-upkeep" in result.stderr


def test_the_scheduler_runs_as_its_own_process_and_stops_on_sigterm(database_url):
    environment = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1",
                   "SCHEDULER_CHECK_SECONDS": "0.1"}
    lines: queue.Queue[str] = queue.Queue()
    with subprocess.Popen([str(PUNCHLINE), "scheduler"], env=environment, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        def read_lines() -> None:
            for line in process.stdout or ():
                lines.put(line)

        reader = threading.Thread(target=read_lines, daemon=True)
        reader.start()
        try:
            while "scheduler leading" not in (line := lines.get(timeout=GIVE_UP_SECONDS)):
                assert process.poll() is None, line
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=GIVE_UP_SECONDS) == 0
        finally:
            process.kill()
        reader.join(timeout=GIVE_UP_SECONDS)
    after_the_signal = [lines.get_nowait() for _ in range(lines.qsize())]
    assert "scheduler stopped" in "".join(after_the_signal)
